package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/testenv"
)

// The fault-injection suite kills `pitlane` with SIGKILL (its whole
// process group, as a closed terminal or the OOM killer would) at each
// step of create, rebuild and delete, and restarts the Docker engine
// under workspaces, then checks that nothing is lost or orphaned and that
// the same command (or start) finishes the job.

// faultConfig pauses at the step named in the folder's pause-at file:
// initialize, build, onCreate, updateContent, postCreate, postStart or
// postAttach. Each hook logs its phase once it has run.
const faultConfig = `{
	"build": {"dockerfile": "Dockerfile"},
	"initializeCommand": "[ \"$(cat pause-at)\" != initialize ] || { echo PAUSE-initialize; sleep 600; }",
	"onCreateCommand": "[ \"$(cat pause-at)\" != onCreate ] || { echo PAUSE-onCreate; sleep 600; }; echo onCreate >> /tmp/hooks.log",
	"updateContentCommand": "[ \"$(cat pause-at)\" != updateContent ] || { echo PAUSE-updateContent; sleep 600; }; echo updateContent >> /tmp/hooks.log",
	"postCreateCommand": "[ \"$(cat pause-at)\" != postCreate ] || { echo PAUSE-postCreate; sleep 600; }; echo postCreate >> /tmp/hooks.log",
	"postStartCommand": "[ \"$(cat pause-at)\" != postStart ] || { echo PAUSE-postStart; sleep 600; }; echo postStart >> /tmp/hooks.log",
	"postAttachCommand": "[ \"$(cat pause-at)\" != postAttach ] || { echo PAUSE-postAttach; sleep 600; }; echo postAttach >> /tmp/hooks.log"
}`

const faultDockerfile = "FROM pitlane/base:bookworm\nCOPY pause-at /pause-at\nRUN [ \"$(cat /pause-at)\" != build ] || { echo PAUSE-build; sleep 600; }\n"

// faultSource writes a source folder for faultConfig, pausing at step.
func faultSource(t *testing.T, step string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proj")
	files := map[string]string{
		".devcontainer/devcontainer.json": faultConfig,
		".devcontainer/Dockerfile":        faultDockerfile,
		".devcontainer/pause-at":          step,
		"pause-at":                        step,
		"main.go":                         "package main\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// setPause changes where a fault source pauses ("none": nowhere).
func setPause(t *testing.T, dir, step string) {
	t.Helper()
	for _, p := range []string{filepath.Join(dir, "pause-at"), filepath.Join(dir, ".devcontainer", "pause-at")} {
		if err := os.WriteFile(p, []byte(step), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// treeHash hashes the files of dir, except the pause controls.
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	var paths []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && d.Name() != "pause-at" && !strings.Contains(p, "/.git/") {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		fmt.Fprintf(h, "%s\x00%d\x00", strings.TrimPrefix(p, dir), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// killAt runs pitlane, waits for a line of its output containing mark,
// kills its process group with SIGKILL and returns what it printed.
func (c *cli) killAt(t *testing.T, mark string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); waited <- err }()
	var seen strings.Builder
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		ok := false
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if !ok && strings.Contains(sc.Text(), mark) {
				ok = true
				found <- true
			}
		}
		if !ok {
			found <- false
		}
	}()
	select {
	case ok := <-found:
		if !ok {
			<-waited
			t.Fatalf("pitlane %s ended before %q:\n%s", strings.Join(args, " "), mark, seen.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("pitlane %s did not reach %q in 3 minutes", strings.Join(args, " "), mark)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-waited
	return seen.String()
}

// faultState is what a test sees of one workspace after a fault.
type faultState struct {
	state string // from pitlane list, or "absent"
}

// checkAfterFault verifies the invariants that must hold after any fault:
// pitlane list works; every container and image of the instance belongs
// to a workspace that is listed or still has its data (so the next
// create or delete of that name takes care of it).
func (c *cli) checkAfterFault(t *testing.T, name string) faultState {
	t.Helper()
	out, errOut, code := c.run("list", "--json")
	if code != 0 {
		t.Fatalf("list after the fault: %s", errOut)
	}
	var wss []struct{ Name, State string }
	if err := json.Unmarshal([]byte(out), &wss); err != nil {
		t.Fatalf("list --json: %v: %s", err, out)
	}
	listed := map[string]string{}
	for _, ws := range wss {
		listed[ws.Name] = ws.State
	}
	instance := os.Getenv("PITLANE_INSTANCE")
	data := filepath.Join(os.Getenv("XDG_DATA_HOME"), "pitlane", "workspaces")
	accounted := func(ws string) bool {
		if _, ok := listed[ws]; ok {
			return true
		}
		_, err := os.Stat(filepath.Join(data, ws))
		return err == nil
	}
	cs, _ := exec.Command("docker", "ps", "-a", "--filter", "label=dev.pitlane.instance="+instance, "--format", `{{.Names}} {{.Label "dev.pitlane.workspace"}}`).Output()
	for _, line := range strings.Split(strings.TrimSpace(string(cs)), "\n") {
		if f := strings.Fields(line); len(f) == 2 && !accounted(f[1]) {
			t.Errorf("container %s has no workspace", f[0])
		}
	}
	imgs, _ := exec.Command("docker", "images", "--filter", "label=dev.pitlane.instance="+instance, "--format", `{{.Repository}}:{{.Tag}} {{.Label "dev.pitlane.workspace"}}`).Output()
	for _, line := range strings.Split(strings.TrimSpace(string(imgs)), "\n") {
		if f := strings.Fields(line); len(f) == 2 && !accounted(f[1]) {
			t.Errorf("image %s has no workspace", f[0])
		}
	}
	st := faultState{state: "absent"}
	if s, ok := listed[name]; ok {
		st.state = s
	}
	return st
}

// checkRecovered verifies a workspace is running, set up once, and alone.
func (c *cli) checkRecovered(t *testing.T, name string, createHooksOnce bool) {
	t.Helper()
	out, _, _ := c.run("list", "--json")
	var wss []struct{ Name, State string }
	json.Unmarshal([]byte(out), &wss)
	if len(wss) != 1 || wss[0].Name != name || wss[0].State != "running" {
		t.Fatalf("after recovery: %s", out)
	}
	log, _, code := c.run("exec", name, "--", "cat", "/tmp/hooks.log")
	if code != 0 {
		t.Fatalf("exec after recovery failed")
	}
	for _, phase := range []string{"onCreate", "updateContent", "postCreate", "postStart", "postAttach"} {
		n := strings.Count(log, phase+"\n")
		if n == 0 || (createHooksOnce && n != 1 && (phase == "onCreate" || phase == "updateContent" || phase == "postCreate")) {
			t.Errorf("%s ran %d times:\n%s", phase, n, log)
		}
	}
	instance := os.Getenv("PITLANE_INSTANCE")
	cs, _ := exec.Command("docker", "ps", "-a", "--filter", "label=dev.pitlane.instance="+instance, "--format", "{{.Names}}").Output()
	if got := strings.TrimSpace(string(cs)); got != "pitlane-"+name {
		t.Errorf("containers after recovery: %q", got)
	}
}

func TestFaultKillCreate(t *testing.T) {
	var table []string
	t.Cleanup(func() {
		t.Logf("kill -9 of create, per step:\n%-16s %-14s %s\n%s", "step", "state after", "recovered by", strings.Join(table, "\n"))
	})
	steps := []struct {
		step, mark, resume string
	}{
		{"initialize", "PAUSE-initialize", "create"},
		{"build", "PAUSE-build", "create"},
		{"container", "==> Creating container", "create"},
		{"onCreate", "PAUSE-onCreate", "create"},
		{"updateContent", "PAUSE-updateContent", "start"},
		{"postCreate", "PAUSE-postCreate", "create"},
		{"postStart", "PAUSE-postStart", "start"},
		{"postAttach", "PAUSE-postAttach", "create"},
	}
	for _, s := range steps {
		t.Run(s.step, func(t *testing.T) {
			c := newCLI(t)
			src := faultSource(t, s.step)
			if s.step == "container" {
				setPause(t, src, "none")
			}
			before := treeHash(t, src)
			name := "kill-" + strings.ToLower(s.step) + "-" + testenv.ID()
			c.killAt(t, s.mark, nil, "create", src, "--name", name, "--trust")
			st := c.checkAfterFault(t, name)
			if treeHash(t, src) != before {
				t.Error("the source folder changed")
			}
			setPause(t, src, "none")
			args := []string{"create", src, "--name", name, "--trust"}
			if s.resume == "start" && st.state != "absent" {
				args = []string{"start", name, "--trust"}
			}
			if _, errOut, code := c.run(args...); code != 0 {
				t.Fatalf("%s after the kill: %s", args[0], errOut)
			}
			c.checkRecovered(t, name, true)
			table = append(table, fmt.Sprintf("%-16s %-14s pitlane %s", s.step, st.state, args[0]))
		})
	}
}

// TestFaultKillClone kills a create while git is cloning.
func TestFaultKillClone(t *testing.T) {
	c := newCLI(t)
	repo := t.TempDir()
	src := faultSource(t, "none")
	for _, f := range []string{".devcontainer/devcontainer.json", ".devcontainer/Dockerfile", ".devcontainer/pause-at", "pause-at", "main.go"} {
		b, _ := os.ReadFile(filepath.Join(src, f))
		os.MkdirAll(filepath.Dir(filepath.Join(repo, f)), 0o755)
		os.WriteFile(filepath.Join(repo, f), b, 0o644)
	}
	gitInit(t, repo, nil)
	// A template whose post-checkout hook pauses the clone.
	tmpl := t.TempDir()
	os.MkdirAll(filepath.Join(tmpl, "hooks"), 0o755)
	os.WriteFile(filepath.Join(tmpl, "hooks", "post-checkout"), []byte("#!/bin/sh\necho PAUSE-clone >&2\nsleep 600\n"), 0o755)
	name := "kill-clone-" + testenv.ID()
	c.killAt(t, "PAUSE-clone", []string{"GIT_TEMPLATE_DIR=" + tmpl}, "create", "file://"+repo, "--name", name, "--trust")
	st := c.checkAfterFault(t, name)
	if _, errOut, code := c.run("create", "file://"+repo, "--name", name, "--trust"); code != 0 {
		t.Fatalf("create after the kill: %s", errOut)
	}
	c.checkRecovered(t, name, true)
	t.Logf("kill -9 of create while cloning: state after %s; recovered by pitlane create", st.state)
}

func TestFaultKillRebuild(t *testing.T) {
	for _, step := range []string{"build", "postCreate"} {
		t.Run(step, func(t *testing.T) {
			c := newCLI(t)
			src := faultSource(t, "none")
			name := "rebuild-" + strings.ToLower(step) + "-" + testenv.ID()
			if _, errOut, code := c.run("create", src, "--name", name, "--trust"); code != 0 {
				t.Fatalf("create: %s", errOut)
			}
			before := treeHash(t, src)
			setPause(t, src, step)
			c.killAt(t, "PAUSE-"+step, nil, "rebuild", name, "--trust")
			st := c.checkAfterFault(t, name)
			if st.state == "absent" {
				t.Fatal("the workspace is gone after a killed rebuild")
			}
			if treeHash(t, src) != before {
				t.Error("the source folder changed")
			}
			setPause(t, src, "none")
			if _, errOut, code := c.run("start", name, "--trust"); code != 0 {
				t.Fatalf("start after the kill: %s", errOut)
			}
			// The old container's hooks logged too, when it was the
			// one put back: only check that each ran.
			c.checkRecovered(t, name, false)
			t.Logf("kill -9 of rebuild at %s: state after %s; recovered by pitlane start", step, st.state)
		})
	}
}

func TestFaultKillDelete(t *testing.T) {
	c := newCLI(t)
	src := faultSource(t, "none")
	name := "kill-delete-" + testenv.ID()
	if _, errOut, code := c.run("create", src, "--name", name, "--trust"); code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	before := treeHash(t, src)
	cmd := exec.Command(c.bin, "delete", "--force", name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	st := c.checkAfterFault(t, name)
	if treeHash(t, src) != before {
		t.Error("the source folder changed")
	}
	if st.state != "absent" {
		if _, errOut, code := c.run("delete", "--force", name); code != 0 {
			t.Fatalf("delete after the kill: %s", errOut)
		}
	}
	if _, errOut, code := c.run("create", src, "--name", name, "--trust"); code != 0 {
		t.Fatalf("create after the killed delete: %s", errOut)
	}
	c.checkRecovered(t, name, true)
	t.Logf("kill -9 of delete: state after %s", st.state)
}

// TestFaultEngineRestart restarts a Docker engine of the test's own under
// a running workspace and during a create.
func TestFaultEngineRestart(t *testing.T) {
	c := newCLI(t)
	e := testenv.StartPrivateEngine(t, "pitlane/base:bookworm")
	t.Setenv("DOCKER_HOST", e.Host)

	src := faultSource(t, "none")
	name := "restart"
	if _, errOut, code := c.run("create", src, "--name", name, "--trust"); code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	e.Stop(t)
	e.Start(t)
	out, _, _ := c.run("list", "--json")
	if !strings.Contains(out, `"state": "stopped"`) {
		t.Errorf("after an engine restart: %s", out)
	}
	if _, errOut, code := c.run("start", name, "--trust"); code != 0 {
		t.Fatalf("start after the engine restart: %s", errOut)
	}
	c.checkRecovered(t, name, true)
	if _, errOut, code := c.run("delete", "--force", name); code != 0 {
		t.Fatalf("delete: %s", errOut)
	}

	// The engine goes away while a setup hook runs.
	src = faultSource(t, "postCreate")
	before := treeHash(t, src)
	cmd := exec.Command(c.bin, "create", src, "--name", name, "--trust")
	cmd.Env = os.Environ()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(pr)
	for sc.Scan() && !strings.Contains(sc.Text(), "PAUSE-postCreate") {
	}
	go io.Copy(io.Discard, pr)
	e.Stop(t)
	err := cmd.Wait()
	pw.Close()
	if err == nil {
		t.Error("create succeeded while its engine stopped")
	}
	e.Start(t)
	st := c.checkAfterFault(t, name)
	if treeHash(t, src) != before {
		t.Error("the source folder changed")
	}
	setPause(t, src, "none")
	if _, errOut, code := c.run("create", src, "--name", name, "--trust"); code != 0 {
		t.Fatalf("create after the engine came back: %s", errOut)
	}
	c.checkRecovered(t, name, true)
	t.Logf("engine stopped during postCreateCommand: state after %s; recovered by pitlane create", st.state)
}
