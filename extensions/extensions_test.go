package extensions

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePath puts executables with the given names on an otherwise empty
// PATH for the test.
func fakePath(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	return dir
}

func TestTargets(t *testing.T) {
	bin := fakePath(t, "code", "cursor", "windsurf", "codium", "zed")
	const host, folder = "api.pitlane", "/workspaces/my api"
	cases := []struct {
		id      string
		uri     string
		command []string
	}{
		{"vscode", "vscode-remote://ssh-remote+api.pitlane/workspaces/my%20api",
			[]string{bin + "/code", "--folder-uri", "vscode-remote://ssh-remote+api.pitlane/workspaces/my%20api"}},
		{"cursor", "vscode-remote://ssh-remote+api.pitlane/workspaces/my%20api",
			[]string{bin + "/cursor", "--folder-uri", "vscode-remote://ssh-remote+api.pitlane/workspaces/my%20api"}},
		{"windsurf", "vscode-remote://ssh-remote+api.pitlane/workspaces/my%20api",
			[]string{bin + "/windsurf", "--folder-uri", "vscode-remote://ssh-remote+api.pitlane/workspaces/my%20api"}},
		{"vscodium", "vscode-remote://ssh-remote+api.pitlane/workspaces/my%20api",
			[]string{bin + "/codium", "--folder-uri", "vscode-remote://ssh-remote+api.pitlane/workspaces/my%20api"}},
		{"zed", "ssh://api.pitlane/workspaces/my%20api",
			[]string{bin + "/zed", "ssh://api.pitlane/workspaces/my%20api"}},
		{"jetbrains:GO", "jetbrains-gateway://connect#deploy=true&host=api.pitlane&port=22&projectPath=%2Fworkspaces%2Fmy+api&type=ssh&user=dev", nil},
		{"terminal", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			ide, err := Lookup(tc.id)
			if err != nil {
				t.Fatal(err)
			}
			got := ide.Target(host, folder, "dev")
			if got.URI != tc.uri {
				t.Errorf("URI = %q, want %q", got.URI, tc.uri)
			}
			if strings.Join(got.Command, " ") != strings.Join(tc.command, " ") {
				t.Errorf("Command = %q, want %q", got.Command, tc.command)
			}
			if got.SSHHost != host || got.Folder != folder {
				t.Errorf("host/folder = %q %q", got.SSHHost, got.Folder)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	for id, want := range map[string]string{
		"vscode": "vscode", "VSCode": "vscode", "code": "vscode", "jetbrains": "jetbrains:IU",
		"jetbrains:py": "jetbrains:PY", "zed": "zed", "terminal": "terminal", "ssh": "terminal",
	} {
		ide, err := Lookup(id)
		if err != nil {
			t.Errorf("Lookup(%q): %v", id, err)
			continue
		}
		if ide.ID != want {
			t.Errorf("Lookup(%q) = %s, want %s", id, ide.ID, want)
		}
	}
	for _, id := range []string{"emacs", "jetbrains:XX", ""} {
		if _, err := Lookup(id); !errors.Is(err, ErrUnknownIDE) {
			t.Errorf("Lookup(%q) err = %v, want ErrUnknownIDE", id, err)
		}
	}
	// Every listed identifier can be looked up.
	for _, id := range IDs() {
		if _, err := Lookup(id); err != nil {
			t.Errorf("listed %q but Lookup fails: %v", id, err)
		}
	}
}

func TestDetectAndMissing(t *testing.T) {
	fakePath(t, "cursor")
	cursor, _ := Lookup("cursor")
	if p, ok := cursor.Detect(); !ok || filepath.Base(p) != "cursor" {
		t.Errorf("cursor not detected: %q %v", p, ok)
	}
	code, _ := Lookup("vscode")
	if _, ok := code.Detect(); ok {
		t.Error("VS Code detected on a PATH without it")
	}
	err := code.Missing()
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "Visual Studio Code is not installed") || !strings.Contains(err.Error(), "--ide") {
		t.Errorf("Missing() = %v", err)
	}
	// Without a remembered choice the first installed editor wins.
	def, err := Default(t.TempDir())
	if err != nil || def.ID != "cursor" {
		t.Errorf("Default = %v, %v; want cursor", def, err)
	}
	fakePath(t)
	if def, _ := Default(t.TempDir()); def.ID != Terminal {
		t.Errorf("Default with no editor = %s, want terminal", def.ID)
	}
}

func TestRememberDefault(t *testing.T) {
	fakePath(t, "code")
	dir := filepath.Join(t.TempDir(), "pitlane")
	if err := SetDefault(dir, "jetbrains:ps"); err != nil {
		t.Fatal(err)
	}
	got, err := Default(dir)
	if err != nil || got.ID != "jetbrains:PS" {
		t.Fatalf("Default = %v, %v; want jetbrains:PS", got, err)
	}
	if err := SetDefault(dir, "notepad"); !errors.Is(err, ErrUnknownIDE) {
		t.Errorf("SetDefault of an unknown IDE: %v", err)
	}
	if got, _ := Default(dir); got.ID != "jetbrains:PS" {
		t.Errorf("a failed SetDefault changed the default to %s", got.ID)
	}
}
