package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/testenv"
)

// cli runs the built pitlane binary with the test's isolated environment.
type cli struct {
	t   *testing.T
	bin string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	d := testenv.Docker(t)
	testenv.RemoveInstance(t, d, testenv.Isolate(t))
	c := &cli{t: t, bin: testenv.Binary(t)}
	t.Cleanup(func() {
		out, _ := exec.Command(c.bin, "list", "--json").Output()
		var wss []struct{ Name string }
		json.Unmarshal(out, &wss)
		for _, ws := range wss {
			exec.Command(c.bin, "delete", "--force", "--discard-changes", ws.Name).Run()
		}
	})
	return c
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	return runCmd(c.t, exec.Command(c.bin, args...))
}

// runCmd runs cmd, logs how long it took, and returns its output and exit
// status; a command that could not run at all fails the test.
func runCmd(t testing.TB, cmd *exec.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	began := time.Now()
	err := cmd.Run()
	t.Logf("%s %s: %v", filepath.Base(cmd.Path), strings.Join(cmd.Args[1:], " "), time.Since(began).Round(time.Millisecond))
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", cmd, err)
	}
	return o.String(), e.String(), code
}

func TestCLIWorkflow(t *testing.T) {
	c := newCLI(t)
	src := filepath.Join(t.TempDir(), "proj")
	os.MkdirAll(filepath.Join(src, ".devcontainer"), 0o755)
	os.WriteFile(filepath.Join(src, ".devcontainer", "devcontainer.json"), []byte(`{
		"image": "pitlane/base:bookworm",
		"remoteEnv": {"HELLO": "world"},
		"postCreateCommand": "echo setting-up; touch /tmp/created"
	}`), 0o644)
	name := "cli-" + testenv.ID()

	out, errOut, code := c.run("create", src, "--name", name)
	if code != 0 {
		t.Fatalf("create exited %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"==> Creating container", "==> Running postCreateCommand", "setting-up", "✓ Running postCreateCommand ("} {
		if !strings.Contains(errOut, want) {
			t.Errorf("create's progress lacks %q:\n%s", want, errOut)
		}
	}

	out, _, _ = c.run("list", "--json")
	var wss []struct {
		Name, State, Image string
		Source             struct{ URL string }
	}
	if err := json.Unmarshal([]byte(out), &wss); err != nil || len(wss) != 1 {
		t.Fatalf("list --json = %s (%v)", out, err)
	}
	if w := wss[0]; w.Name != name || w.State != "running" || w.Image != "pitlane/base:bookworm" || w.Source.URL != src {
		t.Errorf("listed %+v", w)
	}
	out, _, _ = c.run("list")
	if !strings.HasPrefix(out, "NAME") || !strings.Contains(out, name) {
		t.Errorf("list table:\n%s", out)
	}

	out, _, code = c.run("exec", name, "--", "sh", "-c", `echo "$HELLO $(pwd)"; ls /tmp/created`)
	if code != 0 || out != "world /workspaces/proj\n/tmp/created\n" {
		t.Errorf("exec: %d %q", code, out)
	}
	if _, _, code = c.run("exec", name, "--", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exec exit code = %d, want 7", code)
	}
	out, _, _ = c.run("logs", name)
	if !strings.Contains(out, "setting-up") {
		t.Errorf("logs lack the hook output:\n%s", out)
	}

	for _, step := range []struct{ verb, state string }{{"stop", "stopped"}, {"start", "running"}} {
		out, errOut, code := c.run(step.verb, name, "--json")
		var ws struct{ Name, State string }
		if code != 0 || json.Unmarshal([]byte(out), &ws) != nil || ws.Name != name || ws.State != step.state {
			t.Errorf("%s --json: %d %q %s", step.verb, code, out, errOut)
		}
	}

	_, errOut, code = c.run("create", src, "--name", name)
	if code == 0 || !strings.Contains(errOut, "exists already") {
		t.Errorf("second create: %d %s", code, errOut)
	}
	_, errOut, code = c.run("create", src, "--name", "Bad_Name")
	if code == 0 || !strings.Contains(errOut, "lowercase") {
		t.Errorf("bad name: %d %s", code, errOut)
	}
	_, errOut, code = c.run("stop", "no-such-ws")
	if code == 0 || !strings.Contains(errOut, "pitlane list") {
		t.Errorf("unknown workspace: %d %s", code, errOut)
	}
	_, errOut, code = c.run("delete", name)
	if code == 0 || !strings.Contains(errOut, "--force") {
		t.Errorf("delete without a terminal or --force: %d %s", code, errOut)
	}
	if _, errOut, code = c.run("delete", "--force", name); code != 0 {
		t.Fatalf("delete: %s", errOut)
	}
	out, _, _ = c.run("list", "--json")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("list after delete: %s", out)
	}
}

func TestCLIMalformedConfig(t *testing.T) {
	c := newCLI(t)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, ".devcontainer.json"), []byte("{\n  \"image\": \"x\",\n  oops\n}\n"), 0o644)
	_, errOut, code := c.run("create", src, "--name", "malformed-"+testenv.ID())
	want := filepath.Join(src, ".devcontainer.json") + ":3:3"
	if code == 0 || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr %q; want a message naming %s", code, errOut, want)
	}
}

func TestCLIEngineUnreachable(t *testing.T) {
	testenv.Isolate(t)
	bin := testenv.Binary(t)
	sock := filepath.Join(t.TempDir(), "no-docker.sock")
	cmd := exec.Command(bin, "list")
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+sock)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("list succeeded without an engine")
	}
	for _, want := range []string{"cannot reach the Docker engine", sock, "DOCKER_HOST"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("message %q lacks %q", out, want)
		}
	}
}

func TestCLIInterruptDuringCreate(t *testing.T) {
	c := newCLI(t)
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, ".devcontainer"), 0o755)
	os.WriteFile(filepath.Join(src, ".devcontainer", "devcontainer.json"), []byte(`{"build":{"dockerfile":"Dockerfile"}}`), 0o644)
	os.WriteFile(filepath.Join(src, ".devcontainer", "Dockerfile"), []byte("FROM pitlane/base:bookworm\nRUN echo slow-step "+testenv.ID()+" && sleep 60\n"), 0o644)
	name := "sigint-" + testenv.ID()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, "create", src, "--name", name)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), "slow-step") {
		n, err := stderr.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			t.Fatalf("create ended before the slow step: %s", seen.String())
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	rest, _ := readAll(stderr)
	seen.WriteString(rest)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("exit = %v, want status 130\n%s", err, seen.String())
	}
	if !strings.Contains(seen.String(), "nothing was left behind") {
		t.Errorf("no word of the clean-up:\n%s", seen.String())
	}
	out, _, _ := c.run("list", "--json")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("list after interrupt: %s", out)
	}
	ps, err := exec.Command("docker", "ps", "-aq", "--filter", "name=pitlane-"+name).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	if len(bytes.TrimSpace(ps)) != 0 {
		t.Errorf("containers left: %s", ps)
	}
}

func readAll(r interface{ Read([]byte) (int, error) }) (string, error) {
	var b bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String(), nil
		}
	}
}

// TestCLICreateOpensIDE creates with --ide vscode and checks that the
// editor's command line got the workspace's remote folder URI.
func TestCLICreateOpensIDE(t *testing.T) {
	c := newCLI(t)
	bindir := t.TempDir()
	record := filepath.Join(t.TempDir(), "code-args")
	os.WriteFile(filepath.Join(bindir, "code"), []byte("#!/bin/sh\necho \"$@\" > "+record+"\n"), 0o755)
	t.Setenv("PATH", bindir+string(os.PathListSeparator)+os.Getenv("PATH"))
	src := filepath.Join(t.TempDir(), "webapp")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, ".devcontainer.json"), []byte(`{"image":"pitlane/base:bookworm","postAttachCommand":"touch /tmp/attached"}`), 0o644)
	name := "ide-" + testenv.ID()
	if out, errOut, code := c.run("create", src, "--name", name, "--ide", "vscode"); code != 0 {
		t.Fatalf("create --ide: %d\n%s\n%s", code, out, errOut)
	}
	got, err := os.ReadFile(record)
	if want := "--folder-uri vscode-remote://ssh-remote+" + name + ".pitlane/workspaces/webapp\n"; err != nil || string(got) != want {
		t.Errorf("code got %q (%v), want %q", got, err, want)
	}
	if _, _, code := c.run("exec", name, "--", "test", "-f", "/tmp/attached"); code != 0 {
		t.Errorf("postAttachCommand did not run on open")
	}
	if _, errOut, code := c.run("create", src, "--name", "x-"+testenv.ID(), "--ide", "notepad"); code == 0 || !strings.Contains(errOut, "notepad") {
		t.Errorf("unknown --ide: %d %s", code, errOut)
	}
	if out, _, _ := c.run("list", "--json"); strings.Count(out, `"name"`) != 1 {
		t.Errorf("an unknown --ide still created a workspace: %s", out)
	}
}
