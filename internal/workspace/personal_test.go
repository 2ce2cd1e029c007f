package workspace

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitHome gives the test a HOME with the given global git settings.
func gitHome(t *testing.T, settings ...[2]string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, kv := range settings {
		if out, err := exec.Command("git", "config", "--global", kv[0], kv[1]).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	return home
}

func TestHostGitIdentity(t *testing.T) {
	ctx := context.Background()
	t.Run("name and email", func(t *testing.T) {
		gitHome(t, [2]string{"user.name", "Ada"}, [2]string{"user.email", "ada@example.test"})
		keys, values, notes := hostGitIdentity(ctx, t.TempDir())
		if strings.Join(keys, ",") != "user.name,user.email" || strings.Join(values, ",") != "Ada,ada@example.test" || len(notes) != 0 {
			t.Fatalf("%v %v %v", keys, values, notes)
		}
	})
	t.Run("ssh signing with a key file", func(t *testing.T) {
		home := gitHome(t)
		os.WriteFile(filepath.Join(home, "id.pub"), []byte("ssh-ed25519 AAAAC3Nza test@host\n"), 0o644)
		os.WriteFile(filepath.Join(home, "id"), []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n"), 0o600)
		for _, kv := range [][2]string{{"user.name", "Ada"}, {"gpg.format", "ssh"}, {"user.signingkey", "~/id"}, {"commit.gpgsign", "true"}} {
			exec.Command("git", "config", "--global", kv[0], kv[1]).Run()
		}
		keys, values, notes := hostGitIdentity(ctx, "")
		got := map[string]string{}
		for i, k := range keys {
			got[k] = values[i]
		}
		// The private key's path leads to the public key next to it.
		if got["user.signingkey"] != "key::ssh-ed25519 AAAAC3Nza test@host" || got["gpg.format"] != "ssh" || got["commit.gpgsign"] != "true" || len(notes) != 0 {
			t.Fatalf("%v %v", got, notes)
		}
	})
	t.Run("gpg signing is left out", func(t *testing.T) {
		gitHome(t, [2]string{"user.email", "a@b"}, [2]string{"user.signingkey", "ABCDEF12"}, [2]string{"commit.gpgsign", "true"})
		keys, _, notes := hostGitIdentity(ctx, "")
		if strings.Join(keys, ",") != "user.email" || len(notes) != 1 || !strings.Contains(notes[0], "openpgp") {
			t.Fatalf("%v %v", keys, notes)
		}
	})
	t.Run("a private key is never copied", func(t *testing.T) {
		home := gitHome(t, [2]string{"gpg.format", "ssh"})
		os.WriteFile(filepath.Join(home, "only-private"), []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n"), 0o600)
		exec.Command("git", "config", "--global", "user.signingkey", filepath.Join(home, "only-private")).Run()
		keys, values, notes := hostGitIdentity(ctx, "")
		if strings.Contains(strings.Join(values, ","), "secret") || strings.Contains(strings.Join(keys, ","), "signingkey") || len(notes) != 1 {
			t.Fatalf("%v %v %v", keys, values, notes)
		}
	})
	t.Run("includeIf for the folder", func(t *testing.T) {
		home := gitHome(t, [2]string{"user.email", "home@example.test"})
		work := filepath.Join(home, "work", "app")
		os.MkdirAll(work, 0o755)
		exec.Command("git", "init", "-q", work).Run()
		os.WriteFile(filepath.Join(home, "work.gitconfig"), []byte("[user]\n\temail = work@example.test\n"), 0o644)
		exec.Command("git", "config", "--global", "includeIf.gitdir:"+filepath.Join(home, "work")+"/.path", filepath.Join(home, "work.gitconfig")).Run()
		_, values, _ := hostGitIdentity(ctx, work)
		if strings.Join(values, ",") != "work@example.test" {
			t.Fatalf("%v", values)
		}
	})
}

func TestCheckEnv(t *testing.T) {
	if err := CheckEnv([]string{"A=1", "_B=", "C_2=x=y"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"A", "2A=1", "A B=1", "=1"} {
		if err := CheckEnv([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDotfilesURL(t *testing.T) {
	local := t.TempDir()
	for in, want := range map[string]string{
		"me/dotfiles":                  "https://github.com/me/dotfiles.git",
		"me/dotfiles.git":              "https://github.com/me/dotfiles.git",
		"https://example.test/d.git":   "https://example.test/d.git",
		"git@example.test:me/d.git":    "git@example.test:me/d.git",
		local:                          local,
		"https://u:tok@example.test/d": "https://u:tok@example.test/d",
	} {
		if got := dotfilesURL(in); got != want {
			t.Errorf("dotfilesURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := redactURL("https://u:tok@example.test/d.git"); got != "https://example.test/d.git" {
		t.Errorf("redactURL: %q", got)
	}
}
