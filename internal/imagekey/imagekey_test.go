package imagekey

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func digest(t *testing.T, dir string) string {
	t.Helper()
	d, err := ContextDigest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestContextDigestFollowsDockerignore(t *testing.T) {
	files := map[string]string{
		"Dockerfile":          "FROM scratch\n",
		"app/main.go":         "package main\n",
		"node_modules/x/a.js": "1",
		"logs/keep.txt":       "keep",
		"logs/other.txt":      "other",
		"secret.env":          "TOKEN=1",
		".dockerignore":       "node_modules\nlogs\n!logs/keep.txt\n*.env\n",
	}
	base := digest(t, writeTree(t, files))
	tests := []struct {
		name    string
		path    string
		body    string
		changes bool
	}{
		{"a context file", "app/main.go", "package main // changed\n", true},
		{"a new file", "app/new.go", "package main\n", true},
		{"an ignored folder", "node_modules/x/a.js", "2", false},
		{"an ignored pattern", "secret.env", "TOKEN=2", false},
		{"a file an exception brings back", "logs/keep.txt", "changed", true},
		{"a file beside the exception", "logs/other.txt", "changed", false},
		{"the ignore file itself", ".dockerignore", "node_modules\nlogs\n!logs/keep.txt\n*.env\n# note\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changed := map[string]string{}
			for k, v := range files {
				changed[k] = v
			}
			changed[tc.path] = tc.body
			got := digest(t, writeTree(t, changed)) != base
			if got != tc.changes {
				t.Errorf("changing %s: digest changed = %v, want %v", tc.path, got, tc.changes)
			}
		})
	}
}

func TestContextDigestIgnoresTimesButNotModes(t *testing.T) {
	dir := writeTree(t, map[string]string{"run.sh": "echo hi\n"})
	before := digest(t, dir)
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(filepath.Join(dir, "run.sh"), old, old)
	if digest(t, dir) != before {
		t.Error("a new modification time changed the digest")
	}
	os.Chmod(filepath.Join(dir, "run.sh"), 0o755)
	if digest(t, dir) == before {
		t.Error("making a file executable did not change the digest")
	}
	os.Symlink("run.sh", filepath.Join(dir, "link"))
	withLink := digest(t, dir)
	os.Remove(filepath.Join(dir, "link"))
	os.Symlink("other.sh", filepath.Join(dir, "link"))
	if digest(t, dir) == withLink {
		t.Error("a symlink's new target did not change the digest")
	}
}

func TestKeyDependsOnEveryInput(t *testing.T) {
	base := Inputs{
		Kind: "devcontainer", Config: []byte(`{"a":1}`), Dockerfile: "FROM x\n", Context: "sha256:c",
		Features: []Feature{{Ref: "./f", Digest: "sha256:f", Options: []string{"V=1"}}}, Bases: []string{"sha256:b"},
	}
	k := Key(base)
	if Key(base) != k || len(k) != 64 {
		t.Fatalf("key %q is not a stable hex SHA-256", k)
	}
	variants := map[string]func(*Inputs){
		"kind":           func(in *Inputs) { in.Kind = "dockerfile" },
		"config":         func(in *Inputs) { in.Config = []byte(`{"a":2}`) },
		"dockerfile":     func(in *Inputs) { in.Dockerfile = "FROM y\n" },
		"context":        func(in *Inputs) { in.Context = "sha256:d" },
		"feature digest": func(in *Inputs) { in.Features[0].Digest = "sha256:g" },
		"feature option": func(in *Inputs) { in.Features[0].Options = []string{"V=2"} },
		"base":           func(in *Inputs) { in.Bases = []string{"sha256:c"} },
	}
	for name, change := range variants {
		in := base
		in.Features = []Feature{base.Features[0]}
		change(&in)
		if Key(in) == k {
			t.Errorf("changing the %s kept the key", name)
		}
	}
}

func TestCanonicalSortsKeys(t *testing.T) {
	a, _ := Canonical(map[string]any{"b": 1, "a": map[string]int{"y": 1, "x": 2}})
	b, _ := Canonical(struct {
		A map[string]int `json:"a"`
		B int            `json:"b"`
	}{map[string]int{"x": 2, "y": 1}, 1})
	if string(a) != string(b) {
		t.Errorf("%s != %s", a, b)
	}
}
