package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetGetSave(t *testing.T) {
	dir := t.TempDir()
	s, err := Load(dir)
	if err != nil || s != (Settings{}) {
		t.Fatalf("missing file: %+v %v", s, err)
	}
	for name, v := range map[string]string{"forward-agent": "true", "dotfiles": " owner/dots ", "dotfiles-script": "bin/install"} {
		k, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Set(&s, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := Save(dir, s); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil || got != (Settings{ForwardAgent: true, Dotfiles: "owner/dots", DotfilesScript: "bin/install"}) {
		t.Fatalf("got %+v %v", got, err)
	}
	k, _ := Lookup("forward-agent")
	if k.Get(&got) != "true" {
		t.Errorf("get = %q", k.Get(&got))
	}
	if err := k.Set(&got, "maybe"); err == nil || !strings.Contains(err.Error(), "true or false") {
		t.Errorf("bad bool: %v", err)
	}
	if err := k.Set(&got, ""); err != nil || got.ForwardAgent {
		t.Errorf("unset: %v %v", got.ForwardAgent, err)
	}
	if _, err := Lookup("colour"); err == nil || !strings.Contains(err.Error(), "dotfiles, dotfiles-script, forward-agent") {
		t.Errorf("unknown key: %v", err)
	}
	os.WriteFile(filepath.Join(dir, file), []byte("{"), 0o600)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "fix or delete") {
		t.Errorf("bad file: %v", err)
	}
}
