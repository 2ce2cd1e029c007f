package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/internal/testenv"
)

// gitInit makes a repository in dir from files and commits them.
func gitInit(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, dir, "init", "-q", "-b", "main")
	gitIn(t, dir, "add", ".")
	gitIn(t, dir, "commit", "-q", "-m", "init")
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "safe.directory=*", "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestTrustBeforeHostCode: a repository's initializeCommand never runs on
// the host without trust; --trust runs it and is remembered; a changed
// configuration asks again; SSH connections never run it.
func TestTrustBeforeHostCode(t *testing.T) {
	c := newCLI(t)
	markers := t.TempDir()
	marker := filepath.Join(markers, "ran-on-host")
	repo := t.TempDir()
	gitInit(t, repo, map[string]string{".devcontainer/devcontainer.json": `{
		"image": "pitlane/base:bookworm",
		"initializeCommand": "touch ` + marker + `"
	}`})
	name := "trust-" + testenv.ID()
	url := "file://" + repo

	_, errOut, code := c.run("create", url, "--name", name)
	if code == 0 {
		t.Fatal("create ran without trust and without a terminal to ask on")
	}
	for _, want := range []string{"initializeCommand", "touch " + marker, "--trust"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the refusal does not mention %q:\n%s", want, errOut)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("initializeCommand ran without trust")
	}
	if ps, _ := exec.Command("docker", "ps", "-aq", "--filter", "name=pitlane-"+name).Output(); len(strings.TrimSpace(string(ps))) != 0 {
		t.Errorf("a refused create left a container: %s", ps)
	}

	if _, errOut, code := c.run("create", url, "--name", name, "--trust"); code != 0 {
		t.Fatalf("create --trust: %s", errOut)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("initializeCommand did not run with --trust")
	}

	// Trust is remembered for this configuration: start runs it again
	// without asking.
	os.Remove(marker)
	c.run("stop", name)
	if _, errOut, code := c.run("start", name); code != 0 {
		t.Fatalf("start of a trusted workspace: %s", errOut)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("initializeCommand did not run on start")
	}

	// An SSH connection that starts the workspace runs nothing here.
	os.Remove(marker)
	c.run("stop", name)
	if out, errOut, code := c.run("ssh", name, "--", "echo", "in"); code != 0 || out != "in\n" {
		t.Fatalf("pitlane ssh to a stopped workspace: %d %q %s", code, out, errOut)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the SSH connection ran initializeCommand on the host")
	}

	// A changed configuration asks again.
	var wss []struct{ LocalFolder string }
	out, _, _ := c.run("list", "--json")
	if json.Unmarshal([]byte(out), &wss) != nil || len(wss) != 1 {
		t.Fatalf("list: %s", out)
	}
	cfg := filepath.Join(wss[0].LocalFolder, ".devcontainer", "devcontainer.json")
	os.WriteFile(cfg, []byte(`{"image": "pitlane/base:bookworm", "initializeCommand": "touch `+marker+`-2"}`), 0o644)
	if _, errOut, code := c.run("rebuild", name); code == 0 || !strings.Contains(errOut, "touch "+marker+"-2") {
		t.Errorf("rebuild with a changed initializeCommand: %d %s", code, errOut)
	}
	if _, err := os.Stat(marker + "-2"); err == nil {
		t.Error("the changed initializeCommand ran without trust")
	}
	if _, errOut, code := c.run("rebuild", name, "--trust"); code != 0 {
		t.Errorf("rebuild --trust: %s", errOut)
	}

	// Host access other than commands needs trust too, and `pitlane
	// trust FOLDER` grants it for a folder of one's own.
	own := filepath.Join(t.TempDir(), "mine")
	os.MkdirAll(own, 0o755)
	os.WriteFile(filepath.Join(own, ".devcontainer.json"), []byte(`{"image": "pitlane/base:bookworm", "runArgs": ["--cap-add=SYS_PTRACE"], "mounts": [{"type": "bind", "source": "`+markers+`", "target": "/host-markers"}]}`), 0o644)
	_, errOut, code = c.run("create", own, "--name", name+"-own")
	if code == 0 || !strings.Contains(errOut, "SYS_PTRACE") || !strings.Contains(errOut, markers+" to /host-markers") {
		t.Errorf("create asking for a capability and a host mount: %d %s", code, errOut)
	}
	if _, errOut, code := c.run("trust", filepath.Dir(own)); code != 0 {
		t.Fatalf("pitlane trust: %s", errOut)
	}
	if _, errOut, code := c.run("create", own, "--name", name+"-own"); code != 0 {
		t.Errorf("create in a trusted folder: %s", errOut)
	}
	if out, _, _ := c.run("trust", "--list", "--json"); !strings.Contains(out, filepath.Dir(own)) {
		t.Errorf("trust --list: %s", out)
	}
}

// TestMissingBindSourceIsNotCreated: a mount of a host path that does not
// exist is an error, never a new folder on the host.
func TestMissingBindSourceIsNotCreated(t *testing.T) {
	c := newCLI(t)
	missing := filepath.Join(t.TempDir(), "not", "there")
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, ".devcontainer.json"), []byte(`{"image": "pitlane/base:bookworm", "mounts": ["type=bind,source=`+missing+`,target=/x"]}`), 0o644)
	_, errOut, code := c.run("create", src, "--name", "bind-"+testenv.ID(), "--trust")
	if code == 0 || !strings.Contains(errOut, missing) || !strings.Contains(errOut, "does not exist") {
		t.Errorf("create: %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Dir(missing)); err == nil {
		t.Error("the missing bind source was created on the host")
	}
}

// gitHTTPServer serves the repositories in root over HTTP on loopback with
// git's own http-backend, accepting any credentials.
func gitHTTPServer(t *testing.T, root string) string {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	h := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "127.0.0.1:" + strings.Split(ln.Addr().String(), ":")[1]
}

// TestSecretsStayOutOfSight: values from the host's environment and
// credentials in a URL reach what needs them (git's command line, the
// processes in the workspace), and nothing any other user can read:
// container labels and environment, `list`, the log, files looser than
// 0600.
func TestSecretsStayOutOfSight(t *testing.T) {
	c := newCLI(t)
	secret := "s3cr3t-" + testenv.ID()
	token := "t0k3n-" + testenv.ID()
	t.Setenv("PITLANE_TEST_SECRET", secret)

	root := t.TempDir()
	repo := filepath.Join(root, "app.git")
	os.MkdirAll(repo, 0o755)
	gitInit(t, repo, map[string]string{
		".devcontainer/devcontainer.json": `{
			"build": {"dockerfile": "Dockerfile", "args": {"TOK": "${localEnv:PITLANE_TEST_SECRET}"}},
			"remoteEnv": {"FROM_REMOTE_ENV": "${localEnv:PITLANE_TEST_SECRET}"},
			"containerEnv": {"FROM_CONTAINER_ENV": "${localEnv:PITLANE_TEST_SECRET}", "PLAIN": "visible"},
			"runArgs": ["-e", "FROM_RUN_ARGS=${localEnv:PITLANE_TEST_SECRET}"],
			"postCreateCommand": "echo \"hook sees ${#FROM_RUN_ARGS} chars\""
		}`,
		".devcontainer/Dockerfile": "FROM pitlane/base:bookworm\nARG TOK\nRUN echo \"$TOK\" | sha256sum > /tok.sum\n",
	})
	gitIn(t, repo, "update-server-info")
	addr := gitHTTPServer(t, root)
	url := "http://builder:" + token + "@" + addr + "/app.git"
	name := "secret-" + testenv.ID()

	_, errOut, code := c.run("create", url, "--name", name)
	if code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	if strings.Contains(errOut, token) || strings.Contains(errOut, secret) {
		t.Errorf("create's output shows a secret:\n%s", errOut)
	}

	// What needs the values has them.
	out, _, code := c.run("exec", name, "--", "sh", "-c", `echo "$FROM_REMOTE_ENV $FROM_CONTAINER_ENV $FROM_RUN_ARGS $PLAIN"; cat /tok.sum`)
	sum, _ := exec.Command("sh", "-c", `echo "$PITLANE_TEST_SECRET" | sha256sum`).Output()
	if want := secret + " " + secret + " " + secret + " visible\n" + string(sum); code != 0 || out != want {
		t.Errorf("inside the workspace: %q, want %q", out, want)
	}

	// Nothing others can read has them.
	inspect, err := exec.Command("docker", "inspect", "pitlane-"+name).Output()
	if err != nil {
		t.Fatal(err)
	}
	list, _, _ := c.run("list", "--json")
	logs, _, _ := c.run("logs", name)
	for what, text := range map[string]string{"docker inspect": string(inspect), "list --json": list, "pitlane logs": logs} {
		for _, s := range []string{secret, token} {
			if strings.Contains(text, s) {
				t.Errorf("%s shows %q", what, s)
			}
		}
	}
	if !strings.Contains(string(inspect), "PLAIN=visible") {
		t.Error("docker inspect lacks the plain containerEnv: the check above may be looking at the wrong thing")
	}
	if !strings.Contains(list, "http://***@"+addr+"/app.git") {
		t.Errorf("list does not show the redacted URL:\n%s", list)
	}
	data := filepath.Join(os.Getenv("XDG_DATA_HOME"), "pitlane")
	filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, _ := d.Info()
		if d.IsDir() && strings.HasPrefix(p, filepath.Join(data, "workspaces")) && filepath.Dir(p) == filepath.Join(data, "workspaces") && info.Mode().Perm() != 0o700 {
			t.Errorf("%s is %v, want 0700", p, info.Mode().Perm())
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), token) {
			t.Errorf("%s holds the URL's token", p)
		}
		if strings.Contains(string(b), secret) && info.Mode().Perm() != 0o600 {
			t.Errorf("%s holds the secret with mode %v", p, info.Mode().Perm())
		}
		if (d.Name() == "pitlane.log" || d.Name() == "userenv.json" || d.Name() == "config.json") && info.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want 0600", p, info.Mode().Perm())
		}
		return nil
	})

	// A failed clone's message has no token either.
	_, errOut, code = c.run("create", "http://builder:"+token+"@"+addr+"/missing.git", "--name", name+"-x")
	if code == 0 || strings.Contains(errOut, token) || !strings.Contains(errOut, "***@") {
		t.Errorf("failed clone: %d %s", code, errOut)
	}
}

// TestDeleteNeverLosesWork: delete refuses to lose work found only in a
// clone (uncommitted, stashed, or on no remote), with the container there
// or gone, until --discard-changes.
func TestDeleteNeverLosesWork(t *testing.T) {
	c := newCLI(t)
	repo := t.TempDir()
	gitInit(t, repo, map[string]string{".devcontainer.json": `{"image": "pitlane/base:bookworm", "postCreateCommand": "touch generated-by-setup"}`})
	name := "keep-" + testenv.ID()
	if _, errOut, code := c.run("create", "file://"+repo, "--name", name); code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	var wss []struct{ LocalFolder string }
	out, _, _ := c.run("list", "--json")
	json.Unmarshal([]byte(out), &wss)
	clone := wss[0].LocalFolder

	// What the setup generated is not the user's work.
	if _, errOut, code := c.run("delete", "--force", name); code != 0 {
		t.Fatalf("delete of an untouched workspace: %s", errOut)
	}
	if _, errOut, code := c.run("create", "file://"+repo, "--name", name); code != 0 {
		t.Fatalf("create again: %s", errOut)
	}
	os.WriteFile(filepath.Join(clone, "notes.txt"), []byte("mine"), 0o644)
	_, errOut, code := c.run("delete", "--force", name)
	if code == 0 || !strings.Contains(errOut, "notes.txt") || !strings.Contains(errOut, "--discard-changes") {
		t.Fatalf("delete with an untracked file: %d %s", code, errOut)
	}
	gitIn(t, clone, "add", "notes.txt")
	gitIn(t, clone, "commit", "-q", "-m", "local work")
	_, errOut, code = c.run("delete", "--force", name)
	if code == 0 || !strings.Contains(errOut, "1 commit on no remote") || !strings.Contains(errOut, "local work") {
		t.Fatalf("delete with an unpushed commit: %d %s", code, errOut)
	}
	// The container gone (pruned by hand) changes nothing.
	if err := exec.Command("docker", "rm", "-f", "pitlane-"+name).Run(); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = c.run("delete", "--force", name)
	if code == 0 || !strings.Contains(errOut, "1 commit on no remote") {
		t.Fatalf("delete without a container: %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(clone, "notes.txt")); err != nil {
		t.Fatal("the work was lost")
	}
	if _, errOut, code := c.run("delete", "--force", "--discard-changes", name); code != 0 {
		t.Fatalf("delete --discard-changes: %s", errOut)
	}
	if _, err := os.Stat(clone); err == nil {
		t.Error("the clone is still there after --discard-changes")
	}
}

// TestConcurrentConnectsToAStoppedWorkspace: an editor opens several SSH
// connections at once; against a stopped workspace they all wait for one
// start instead of failing with "busy".
func TestConcurrentConnectsToAStoppedWorkspace(t *testing.T) {
	c := newCLI(t)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, ".devcontainer.json"), []byte(`{"image": "pitlane/base:bookworm", "postStartCommand": "sleep 2; echo started >> /tmp/starts"}`), 0o644)
	name := "conc-" + testenv.ID()
	if _, errOut, code := c.run("create", src, "--name", name); code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	c.run("stop", name)
	const n = 4
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		go func() {
			cmd := exec.Command(c.bin, "ssh", name, "--", "echo", "hi")
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "hi") {
				errs <- fmt.Sprintf("%v: %s", err, out)
				return
			}
			errs <- ""
		}()
	}
	for i := 0; i < n; i++ {
		if e := <-errs; e != "" {
			t.Errorf("a concurrent connection failed: %s", e)
		}
	}
	if out, _, _ := c.run("exec", name, "--", "cat", "/tmp/starts"); strings.Count(out, "started") != 2 {
		t.Errorf("postStartCommand ran %d times for one create and one start:\n%s", strings.Count(out, "started"), out)
	}
}

// TestImageLabelsCannotSpeakForPitlane: an image carrying dev.pitlane.*
// labels does not change the workspace's record, nor what delete removes.
func TestImageLabelsCannotSpeakForPitlane(t *testing.T) {
	c := newCLI(t)
	victim := "pitlane-victim-" + testenv.ID() + ":keep"
	if out, err := exec.Command("docker", "tag", "pitlane/base:bookworm", victim).CombinedOutput(); err != nil {
		t.Fatalf("docker tag: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", victim).Run() })
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, ".devcontainer"), 0o755)
	os.WriteFile(filepath.Join(src, ".devcontainer", "devcontainer.json"), []byte(`{"build": {"dockerfile": "Dockerfile"}}`), 0o644)
	os.WriteFile(filepath.Join(src, ".devcontainer", "Dockerfile"), []byte("FROM pitlane/base:bookworm\nLABEL dev.pitlane.built-image="+victim+" dev.pitlane.config-path=evil.json dev.pitlane.ref=evil\n"), 0o644)
	name := "labels-" + testenv.ID()
	if _, errOut, code := c.run("create", src, "--name", name); code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	out, _, _ := c.run("list", "--json")
	if strings.Contains(out, "evil") {
		t.Errorf("the image's labels reached the record:\n%s", out)
	}
	if _, errOut, code := c.run("delete", "--force", name); code != 0 {
		t.Fatalf("delete: %s", errOut)
	}
	if err := exec.Command("docker", "image", "inspect", victim).Run(); err != nil {
		t.Error("delete removed an image the workspace's image named in a label")
	}
}
