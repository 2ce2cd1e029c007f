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

// gitRepo makes a repository with one commit and a remote-tracking branch
// for it, as a fresh clone has.
func gitRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a\n"), 0o644)
	run("add", ".")
	run("commit", "-q", "-m", "first")
	run("update-ref", "refs/remotes/origin/main", "HEAD")
	return dir
}

func TestUnsavedWork(t *testing.T) {
	ctx := context.Background()
	dir := gitRepo(t)
	w, err := UnsavedWork(ctx, dir)
	if err != nil || !w.Empty() {
		t.Fatalf("fresh clone: %+v, %v", w, err)
	}
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("changed\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "new.txt"), []byte("new\n"), 0o644)
	cmd := exec.Command("git", "-c", "user.name=t", "-c", "user.email=t@t", "stash", "push", "-q", "--", "a.txt")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stash: %v %s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "b.txt"), []byte("b\n"), 0o644)
	for _, args := range [][]string{{"add", "b.txt"}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "local only"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	w, err = UnsavedWork(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Changes) != 1 || w.Changes[0] != "?? new.txt" || w.Stashes != 1 || len(w.Unpushed) != 1 || !strings.Contains(w.Unpushed[0], "local only") {
		t.Fatalf("work = %+v", w)
	}
	if got := w.Summary(); got != "1 uncommitted change, 1 stash entry and 1 commit on no remote" {
		t.Errorf("summary = %q", got)
	}
	if _, err := UnsavedWork(ctx, t.TempDir()); err == nil {
		t.Error("a folder that is no repository gave no error")
	}
}

// TestFingerprintForgivesGeneratedFiles: files present when the
// fingerprint was taken do not count, until they change.
func TestFingerprintForgivesGeneratedFiles(t *testing.T) {
	ctx := context.Background()
	dir := gitRepo(t)
	os.WriteFile(filepath.Join(dir, "generated.lock"), []byte("v1\n"), 0o644)
	fp, err := Fingerprint(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := UnsavedWork(ctx, dir)
	w.Without(dir, fp)
	if !w.Empty() {
		t.Fatalf("generated file counted: %+v", w)
	}
	os.WriteFile(filepath.Join(dir, "generated.lock"), []byte("v2, edited by hand\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("x\n"), 0o644)
	w, _ = UnsavedWork(ctx, dir)
	w.Without(dir, fp)
	if len(w.Changes) != 2 {
		t.Fatalf("changed and new files must count: %+v", w)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:tok3n@example.test/o/r.git": "https://***@example.test/o/r.git",
		"https://ghp_abc@example.test/o/r.git":    "https://***@example.test/o/r.git",
		"https://example.test/o/r.git":            "https://example.test/o/r.git",
		"git@example.test:o/r.git":                "git@example.test:o/r.git",
		"ssh://git@example.test/o/r.git":          "ssh://git@example.test/o/r.git",
		"/home/me/src":                            "/home/me/src",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	if got := redactIn("fatal: unable to access 'https://user:tok3n@example.test/o/r.git/': 403 (tok3n)", "https://user:tok3n@example.test/o/r.git"); strings.Contains(got, "tok3n") {
		t.Errorf("redactIn left the token: %q", got)
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
