package source

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsGitURL(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"https://github.com/org/app.git", true},
		{"http://host/app", true},
		{"ssh://git@host/org/app.git", true},
		{"git@github.com:org/app.git", true},
		{"host:org/app", true},
		{"file:///srv/git/app.git", true},
		{"/home/u/app", false},
		{"./app", false},
		{"../app", false},
		{"app", false},
		{"C:\\code", false},
	}
	for _, tc := range tests {
		if got := IsGitURL(tc.in); got != tc.want {
			t.Errorf("IsGitURL(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestBaseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com/org/My_App.git", "my-app"},
		{"git@github.com:org/app.git", "app"},
		{"/home/u/src/web/", "web"},
		{"./Example Project", "example-project"},
		{"file:///srv/git/x.git", "x"},
		{"___", "workspace"},
	}
	for _, tc := range tests {
		if got := BaseName(tc.in); got != tc.want {
			t.Errorf("BaseName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLocalFolder(t *testing.T) {
	dir := t.TempDir()
	if _, err := LocalFolder(dir); err != nil {
		t.Errorf("LocalFolder(dir) = %v", err)
	}
	if _, err := LocalFolder(filepath.Join(dir, "missing")); !errors.Is(err, ErrInvalid) {
		t.Errorf("missing folder: err = %v", err)
	}
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := LocalFolder(f); !errors.Is(err, ErrInvalid) {
		t.Errorf("file: err = %v", err)
	}
}

func TestClone(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := filepath.Join(t.TempDir(), "repo")
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", repo},
		{"-C", repo, "commit", "-q", "--allow-empty", "-m", "one"},
		{"-C", repo, "branch", "feature"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	dest := filepath.Join(t.TempDir(), "clone")
	if err := Clone(context.Background(), "file://"+repo, "feature", dest, func(string) {}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", dest, "rev-parse", "--abbrev-ref", "HEAD").Output()
	if err != nil || string(out) != "feature\n" {
		t.Errorf("checked out %q (%v), want feature", out, err)
	}

	bad := filepath.Join(t.TempDir(), "bad")
	err = Clone(context.Background(), "file://"+repo+"-missing", "", bad, nil)
	var ce *CloneError
	if !errors.As(err, &ce) || ce.Output == "" {
		t.Fatalf("err = %v, want a CloneError with git's message", err)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a failed clone left %s behind", bad)
	}
	entries, _ := os.ReadDir(filepath.Dir(bad))
	if len(entries) != 0 {
		t.Errorf("a failed clone left temporary folders: %v", entries)
	}
}

func TestHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/org/app.git":            "github.com",
		"https://user:tok@Git.Example.test/o/r.git": "git.example.test",
		"http://127.0.0.1:8080/r.git":               "127.0.0.1:8080",
		"ssh://git@gitlab.com:2222/o/r.git":         "gitlab.com",
		"git@github.com:org/app.git":                "github.com",
		"github.com:org/app.git":                    "github.com",
		"file:///srv/repo.git":                      "",
		"/srv/repo.git":                             "",
		"./repo":                                    "",
	} {
		if got := Host(in); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRemoteHosts(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q", dir},
		{"-C", dir, "remote", "add", "origin", "git@github.com:org/app.git"},
		{"-C", dir, "remote", "add", "mirror", "https://tok@Git.Example.test:8443/app.git"},
		{"-C", dir, "remote", "add", "again", "https://github.com/org/app.git"},
		{"-C", dir, "remote", "add", "disk", "/srv/app.git"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	got := RemoteHosts(context.Background(), dir)
	if strings.Join(got, ",") != "git.example.test:8443,github.com" {
		t.Fatalf("got %v", got)
	}
	if got := RemoteHosts(context.Background(), t.TempDir()); len(got) != 0 {
		t.Fatalf("a folder without git: %v", got)
	}
}
