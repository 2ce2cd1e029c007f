package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/internal/testenv"
)

// dotfilesRepo publishes files as a bare repository and returns its
// file:// URL.
func dotfilesRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	work := t.TempDir()
	for name, body := range files {
		p := filepath.Join(work, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		os.WriteFile(p, []byte(body), mode)
	}
	bare := filepath.Join(t.TempDir(), "dotfiles.git")
	mustGit(t, "", "init", "-q", "-b", "main", work)
	mustGit(t, "", "-C", work, "add", ".")
	mustGit(t, "", "-C", work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "dots")
	mustGit(t, "", "clone", "-q", "--bare", work, bare)
	return "file://" + bare
}

// TestDotfiles installs dotfiles from file:// repositories: one with an
// install script (run with the workspace's environment), one without
// (its dotfiles are linked into home, as the saved default), and one that
// cannot be cloned, which is reported and does not fail the create.
func TestDotfiles(t *testing.T) {
	c := newCLI(t)
	src := filepath.Join(t.TempDir(), "proj")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, ".devcontainer.json"), []byte(`{"image":"pitlane/base:bookworm","postCreateCommand":"touch /tmp/post-create-ran"}`), 0o644)

	t.Run("install script", func(t *testing.T) {
		url := dotfilesRepo(t, map[string]string{
			"install.sh": "#!/bin/sh\nset -e\n[ -f /tmp/post-create-ran ] || { echo 'ran before postCreateCommand'; exit 1; }\necho \"installed from $(pwd) with $GREETING\" > \"$HOME/.dotfiles-ran\"\n",
			".bashrc":    "# would be linked without the script\n",
		})
		name := "dots-" + testenv.ID()
		out, errOut, code := c.run("create", src, "--name", name, "--dotfiles", url, "--env", "GREETING=hello")
		if code != 0 {
			t.Fatalf("create: %d\n%s\n%s", code, out, errOut)
		}
		for _, want := range []string{"Installing dotfiles from " + url, "running ./install.sh"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("create's output lacks %q:\n%s", want, errOut)
			}
		}
		out, _, _ = c.run("exec", name, "--", "sh", "-c", `cat ~/.dotfiles-ran; git -C ~/dotfiles log -1 --format=%s; test -L ~/.bashrc && echo linked || echo not-linked`)
		if want := "installed from /root/dotfiles with hello\ndots\nnot-linked\n"; out != want {
			t.Errorf("in the workspace: %q, want %q", out, want)
		}
	})

	t.Run("linked as the default", func(t *testing.T) {
		url := dotfilesRepo(t, map[string]string{
			".pitlane-test-rc":          "export FROM_DOTFILES=yes\n",
			".config-test/tool/conf":    "x=1\n",
			"README.md":                 "not a dotfile\n",
			".github/workflows/ci.yaml": "on: push\n",
		})
		if _, errOut, code := c.run("settings", "dotfiles", url); code != 0 {
			t.Fatal(errOut)
		}
		name := "dotlink-" + testenv.ID()
		out, errOut, code := c.run("create", src, "--name", name)
		if code != 0 {
			t.Fatalf("create: %d\n%s\n%s", code, out, errOut)
		}
		if !strings.Contains(errOut, "linked ~/.pitlane-test-rc") {
			t.Errorf("create does not say what it linked:\n%s", errOut)
		}
		out, _, _ = c.run("exec", name, "--", "sh", "-c", `readlink ~/.pitlane-test-rc ~/.config-test; ls -a ~ | grep -c -e '^README.md$' -e '^.github$' -e '^.git$'`)
		if want := "/root/dotfiles/.pitlane-test-rc\n/root/dotfiles/.config-test\n0\n"; out != want {
			t.Errorf("links in home: %q, want %q", out, want)
		}
		// --no-dotfiles skips the default.
		name2 := "nodots-" + testenv.ID()
		if _, errOut, code := c.run("create", src, "--name", name2, "--no-dotfiles"); code != 0 || strings.Contains(errOut, "dotfiles") {
			t.Errorf("--no-dotfiles: %d\n%s", code, errOut)
		}
		c.run("settings", "--unset", "dotfiles")
	})

	t.Run("failure is not fatal", func(t *testing.T) {
		name := "dotfail-" + testenv.ID()
		missing := "file://" + filepath.Join(t.TempDir(), "missing.git")
		out, errOut, code := c.run("create", src, "--name", name, "--dotfiles", missing)
		if code != 0 {
			t.Fatalf("a dotfiles failure failed the create: %d\n%s\n%s", code, out, errOut)
		}
		if !strings.Contains(errOut, "warning: dotfiles:") || !strings.Contains(errOut, "the workspace works without them") {
			t.Errorf("the failure is not reported:\n%s", errOut)
		}
		if out, _, _ := c.run("list", "--json"); !strings.Contains(out, `"state": "running"`) {
			t.Errorf("workspace after a dotfiles failure: %s", out)
		}
	})
}
