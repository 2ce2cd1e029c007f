package sshconfig

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, after replacing the test's
// temporary home with $HOME so the files do not depend on the machine.
func golden(t *testing.T, home, name string, got []byte) {
	t.Helper()
	got = bytes.ReplaceAll(got, []byte(home), []byte("$HOME"))
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

type env struct {
	home string
	opts Options
}

func newEnv(t *testing.T) env {
	home := t.TempDir()
	return env{home: home, opts: Options{
		ConfigDir:  filepath.Join(home, ".config", "pitlane"),
		UserConfig: filepath.Join(home, ".ssh", "config"),
		Binary:     "/usr/local/bin/pitlane",
	}}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

const userEntries = "# my hosts\nHost work\n\tHostName work.example.com\n\tUser me\n\nHost *\n  ServerAliveInterval 30\n"

func TestEnsureAndUninstall(t *testing.T) {
	cases := []struct {
		name string
		// setup prepares the home and returns the path whose content the
		// golden files show (the symlink's target for the symlink case).
		setup     func(t *testing.T, e env) string
		wantAdded bool
		wantMode  os.FileMode
	}{
		{
			name:      "fresh",
			setup:     func(t *testing.T, e env) string { return e.opts.UserConfig },
			wantAdded: true, wantMode: 0o600,
		},
		{
			name: "existing",
			setup: func(t *testing.T, e env) string {
				writeFile(t, e.opts.UserConfig, userEntries, 0o644)
				return e.opts.UserConfig
			},
			wantAdded: true, wantMode: 0o644,
		},
		{
			name: "no-final-newline",
			setup: func(t *testing.T, e env) string {
				writeFile(t, e.opts.UserConfig, "Host a\n  User b", 0o600)
				return e.opts.UserConfig
			},
			wantAdded: true, wantMode: 0o600,
		},
		{
			name: "crlf",
			setup: func(t *testing.T, e env) string {
				writeFile(t, e.opts.UserConfig, "Host a\r\n  User b\r\n", 0o600)
				return e.opts.UserConfig
			},
			wantAdded: true, wantMode: 0o600,
		},
		{
			name: "symlinked",
			setup: func(t *testing.T, e env) string {
				target := filepath.Join(e.home, "dotfiles", "ssh", "config")
				writeFile(t, target, userEntries, 0o640)
				if err := os.MkdirAll(filepath.Dir(e.opts.UserConfig), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("../dotfiles/ssh/config", e.opts.UserConfig); err != nil {
					t.Fatal(err)
				}
				return target
			},
			wantAdded: true, wantMode: 0o640,
		},
		{
			name: "already-included",
			setup: func(t *testing.T, e env) string {
				own := OwnConfigPath(e.opts.ConfigDir)
				writeFile(t, e.opts.UserConfig, "Host first\n  User x\ninclude = \""+own+"\"\n"+userEntries, 0o600)
				return e.opts.UserConfig
			},
			wantAdded: false, wantMode: 0o600,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			file := tc.setup(t, e)
			before, _ := os.ReadFile(file)

			res, err := Ensure(e.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Added != tc.wantAdded {
				t.Errorf("Added = %v, want %v", res.Added, tc.wantAdded)
			}
			after, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, e.home, tc.name+"/ensure.golden", after)
			// The user's own entries are unchanged byte for byte: the
			// result is our line followed by the old file.
			if tc.wantAdded && !bytes.HasSuffix(after, before) {
				t.Errorf("the user's entries changed:\nbefore %q\nafter  %q", before, after)
			}
			st, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != tc.wantMode {
				t.Errorf("mode = %v, want %v", st.Mode().Perm(), tc.wantMode)
			}
			if lst, _ := os.Lstat(e.opts.UserConfig); tc.name == "symlinked" && lst.Mode()&os.ModeSymlink == 0 {
				t.Error("the symlink was replaced by a file")
			}

			// A second run changes nothing.
			res, err = Ensure(e.opts)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := os.ReadFile(file)
			if res.Added || !bytes.Equal(again, after) {
				t.Errorf("second Ensure changed the file (Added=%v)", res.Added)
			}

			removed, err := Uninstall(e.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !removed {
				t.Error("Uninstall reported no change")
			}
			final, _ := os.ReadFile(file)
			golden(t, e.home, tc.name+"/uninstall.golden", final)
			if tc.wantAdded && !bytes.Equal(final, before) {
				t.Errorf("uninstall did not restore the file:\nbefore %q\nafter  %q", before, final)
			}
			if _, err := os.Stat(OwnConfigPath(e.opts.ConfigDir)); !os.IsNotExist(err) {
				t.Errorf("Pitlane's ssh_config is still there after uninstall (%v)", err)
			}
		})
	}
}

func TestFreshCreatesPrivateSSHDir(t *testing.T) {
	e := newEnv(t)
	if _, err := Ensure(e.opts); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Dir(e.opts.UserConfig))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("~/.ssh mode = %v, want 0700", st.Mode().Perm())
	}
	for _, f := range []string{"ssh/id_ed25519", "ssh/host_ed25519"} {
		st, err := os.Stat(filepath.Join(e.opts.ConfigDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", f, st.Mode().Perm())
		}
	}
}

func TestConcurrentlyEditedConfig(t *testing.T) {
	e := newEnv(t)
	writeFile(t, e.opts.UserConfig, userEntries, 0o600)
	edits := 0
	testHookBeforeRename = func(path string) {
		// Another program saves the file between Pitlane's read and
		// write, twice.
		if edits < 2 {
			edits++
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			fmt.Fprintf(f, "Host edited%d\n  User y\n", edits)
			f.Close()
		}
	}
	defer func() { testHookBeforeRename = nil }()
	if _, err := Ensure(e.opts); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(e.opts.UserConfig)
	golden(t, e.home, "concurrent/ensure.golden", got)
	if edits != 2 {
		t.Errorf("the concurrent editor ran %d times, want 2", edits)
	}
}

func TestConcurrentlyChangingConfigGivesUp(t *testing.T) {
	e := newEnv(t)
	writeFile(t, e.opts.UserConfig, userEntries, 0o600)
	testHookBeforeRename = func(path string) {
		f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("# again\n")
		f.Close()
	}
	defer func() { testHookBeforeRename = nil }()
	if _, err := Ensure(e.opts); err == nil || !strings.Contains(err.Error(), "kept changing") {
		t.Fatalf("err = %v, want ErrChangedMeanwhile", err)
	}
	got, _ := os.ReadFile(e.opts.UserConfig)
	if strings.Contains(string(got), "Include") {
		t.Error("the Include line was written over a concurrent change")
	}
}

func TestConcurrentEnsure(t *testing.T) {
	e := newEnv(t)
	writeFile(t, e.opts.UserConfig, userEntries, 0o600)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := Ensure(e.opts); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, _ := os.ReadFile(e.opts.UserConfig)
	if n := strings.Count(string(got), "Include "); n != 1 {
		t.Errorf("%d Include lines after concurrent runs, want 1:\n%s", n, got)
	}
	if !strings.HasSuffix(string(got), userEntries) {
		t.Error("the user's entries changed")
	}
}

func TestOwnConfig(t *testing.T) {
	e := newEnv(t)
	e.opts.Hosts = []string{"web", "api", "api", "bad;name", "$(touch x)", "Evil", ""}
	path, _, err := WriteOwn(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	golden(t, e.home, "ssh_config.golden", got)
}

func TestOwnConfigQuotesOddPaths(t *testing.T) {
	k := &Keys{ClientKeyFile: "/home/a b/100%/id", KnownHostsFile: "/k"}
	got := string(OwnConfig("/opt/my apps/pit'lane", k, []string{"app"}))
	for _, want := range []string{
		`ProxyCommand '/opt/my apps/pit'\''lane' ssh --stdio app.pitlane`,
		`IdentityFile "/home/a b/100%%/id"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
}

func TestIsOurInclude(t *testing.T) {
	own := "/h/.config/pitlane/ssh_config"
	for line, want := range map[string]bool{
		"Include " + own:              true,
		"  include=\"" + own + "\"":   true,
		"INCLUDE   " + own + "  ":     true,
		"Include " + own + ".bak":     false,
		"Include ~/.ssh/other " + own: false,
		"# Include " + own:            false,
		"IncludeX " + own:             false,
		"Host x":                      false,
	} {
		if got := isOurInclude(line, own); got != want {
			t.Errorf("isOurInclude(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestKeysAreStable(t *testing.T) {
	dir := t.TempDir()
	a, err := EnsureKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EnsureKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.AuthorizedKey, b.AuthorizedKey) || !bytes.Equal(a.HostKey, b.HostKey) {
		t.Error("a second EnsureKeys made new keys")
	}
	known, _ := os.ReadFile(a.KnownHostsFile)
	if !strings.HasPrefix(string(known), "*.pitlane ssh-ed25519 ") {
		t.Errorf("known_hosts = %q", known)
	}
}

// TestHostsNeverReachAShell: only DNS labels become hosts, each with its
// own literal block, and no token that OpenSSH expands from the command
// line is ever written.
func TestHostsNeverReachAShell(t *testing.T) {
	k := &Keys{ClientKeyFile: "/k/id", KnownHostsFile: "/k/known"}
	got := string(OwnConfig("/usr/bin/pitlane", k, []string{"ok-1", "a$(id)", "b`id`", "c;id", "d|id", "e f", "g.pitlane", "-x"}))
	if strings.Contains(got, "%") {
		t.Errorf("the config uses a %% token:\n%s", got)
	}
	var hosts []string
	for _, line := range strings.Split(got, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "Host" {
			hosts = append(hosts, strings.Join(f[1:], " "))
		}
	}
	if len(hosts) != 1 || hosts[0] != "ok-1.pitlane" {
		t.Errorf("hosts = %q, want only ok-1.pitlane", hosts)
	}
	for _, want := range []string{"ForwardAgent no", "ServerAliveInterval 15", "ServerAliveCountMax 4", "StrictHostKeyChecking yes"} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q", want)
		}
	}
}

// TestReadHostsKeepsTheList: a write without a host list keeps the file's.
func TestReadHostsKeepsTheList(t *testing.T) {
	e := newEnv(t)
	e.opts.Hosts = []string{"one", "two"}
	if _, _, err := WriteOwn(e.opts); err != nil {
		t.Fatal(err)
	}
	e.opts.Hosts = nil
	if _, _, err := WriteOwn(e.opts); err != nil {
		t.Fatal(err)
	}
	if got := ReadHosts(e.opts.ConfigDir); strings.Join(got, ",") != "one,two" {
		t.Errorf("hosts = %q", got)
	}
}

// TestStaleIncludeIsReplaced: an Include of a Pitlane ssh_config that no
// longer exists (a moved config folder) gives way to the current one; a
// live one of another config folder stays; every other byte stays.
func TestStaleIncludeIsReplaced(t *testing.T) {
	e := newEnv(t)
	stale := filepath.Join(e.home, "old", "pitlane", "ssh_config")
	live := filepath.Join(e.home, "other", "pitlane", "ssh_config")
	writeFile(t, live, "# another Pitlane\n", 0o644)
	user := "Include " + stale + "\r\nInclude " + live + "\r\nMatch host *.corp exec \"true\"\r\n  User me\r\nInclude ~/.ssh/config.d/*\r\n"
	writeFile(t, e.opts.UserConfig, user, 0o600)
	res, err := Ensure(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replaced != stale || !res.Added {
		t.Errorf("result = %+v, want the stale include replaced", res)
	}
	got, _ := os.ReadFile(e.opts.UserConfig)
	want := IncludeLine(OwnConfigPath(e.opts.ConfigDir)) + "\r\n" + strings.TrimPrefix(user, "Include "+stale+"\r\n")
	if string(got) != want {
		t.Errorf("user config =\n%q\nwant\n%q", got, want)
	}
	// Again: nothing to do.
	if res, err := Ensure(e.opts); err != nil || res.Added || res.Replaced != "" {
		t.Errorf("second Ensure = %+v, %v", res, err)
	}
}

// TestReadOnlyUserConfigSaysWhatToDo: a ~/.ssh/config that is a link to a
// read-only file is left alone, and the error names the line to add.
func TestReadOnlyUserConfigSaysWhatToDo(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(e.home, "store")
	target := filepath.Join(dir, "ssh-config")
	writeFile(t, target, userEntries, 0o444)
	if err := os.MkdirAll(filepath.Dir(e.opts.UserConfig), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, e.opts.UserConfig); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	_, err := Ensure(e.opts)
	if os.Geteuid() == 0 {
		// root is not stopped by permissions; the file must still be
		// correct (and the link kept).
		if err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Lstat(e.opts.UserConfig); fi.Mode()&os.ModeSymlink == 0 {
			t.Error("the symlink was replaced by a file")
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), IncludeLine(OwnConfigPath(e.opts.ConfigDir))) {
		t.Fatalf("err = %v, want one naming the Include line", err)
	}
	if got, _ := os.ReadFile(target); string(got) != userEntries {
		t.Errorf("the read-only file changed: %q", got)
	}
}

func TestForwardAgentSetting(t *testing.T) {
	e := newEnv(t)
	e.opts.ForwardAgent = true
	e.opts.Hosts = []string{"api", "web"}
	path, _, err := WriteOwn(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if n := strings.Count(string(got), "ForwardAgent yes"); n != 2 || strings.Contains(string(got), "ForwardAgent no") {
		t.Fatalf("config with the setting on:\n%s", got)
	}
	// Every Host block says yes, whether it said no or nothing before.
	in := "Host a.pitlane\n\tForwardAgent no\n\tUser x\nHost b.pitlane\n\tUser y\n"
	want := "Host a.pitlane\n\tForwardAgent yes\n\tUser x\nHost b.pitlane\n\tForwardAgent yes\n\tUser y\n"
	if out := string(forwardAgent([]byte(in))); out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	e.opts.ForwardAgent = false
	WriteOwn(e.opts)
	if got, _ := os.ReadFile(path); strings.Contains(string(got), "ForwardAgent yes") || strings.Count(string(got), "ForwardAgent no") != 2 {
		t.Fatalf("turning it off left:\n%s", got)
	}
}
