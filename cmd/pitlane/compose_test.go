package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/testenv"
)

// A Compose workspace from the command line: create, list naming the
// other service, OpenSSH into NAME.pitlane reaching the workspace service
// (which reaches the other by its name), stop, start and delete, which
// says which volume it kept.
func TestCLICompose(t *testing.T) {
	c := newCLI(t)
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("ssh is missing (Debian's openssh-client)")
	}
	t.Setenv("COMPOSE_PROJECT_NAME", "")
	name := "cli-compose-" + testenv.ID()
	project := "pitlane-" + name
	d := testenv.Docker(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		kept, _ := d.ComposeDown(ctx, project, true, nil)
		for _, v := range kept {
			_ = d.RemoveVolume(ctx, v)
		}
	})
	src := filepath.Join(t.TempDir(), "proj")
	for file, body := range map[string]string{
		".devcontainer/devcontainer.json": `{"dockerComposeFile": "compose.yaml", "service": "app", "workspaceFolder": "/src",
  "remoteEnv": {"MARK": "in-app"}}`,
		".devcontainer/compose.yaml": `services:
  app:
    image: pitlane/base:bookworm
    command: ["sleep", "infinity"]
    init: true
    volumes: ["..:/src"]
  db:
    image: pitlane/base:bookworm
    init: true
    command: ["perl", "-MIO::Socket::INET", "-e", "$$s = IO::Socket::INET->new(LocalPort => 7000, Listen => 5, ReuseAddr => 1) or die; while ($$c = $$s->accept) { print $$c qq(pong-from-db\n); close $$c }"]
    volumes: ["data:/data"]
volumes:
  data:
`,
		"hello.txt": "hello from the source\n",
	} {
		p := filepath.Join(src, file)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}

	if out, errOut, code := c.run("create", src, "--name", name); code != 0 {
		t.Fatalf("create exited %d\n%s\n%s", code, out, errOut)
	}
	out, _, _ := c.run("list", "--json")
	var wss []struct {
		Name, State string
		Compose     *struct {
			Project, Service string
			Services         []struct{ Service, State string }
		}
	}
	if err := json.Unmarshal([]byte(out), &wss); err != nil || len(wss) != 1 || wss[0].Compose == nil {
		t.Fatalf("list --json = %s (%v)", out, err)
	}
	if cp := wss[0].Compose; cp.Project != project || cp.Service != "app" || len(cp.Services) != 1 || cp.Services[0].Service != "db" || cp.Services[0].State != "running" {
		t.Errorf("list's Compose record: %+v", cp)
	}
	if out, _, _ := c.run("list"); !strings.Contains(out, name+" runs in service app of the Compose project "+project+", beside db (running)") {
		t.Errorf("list's table does not name the project and its other service:\n%s", out)
	}

	cfg := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "pitlane", "ssh_config")
	ssh := func(args ...string) (string, string, int) {
		return runCmd(t, exec.Command("ssh", append([]string{"-F", cfg}, args...)...))
	}
	script := `cat hello.txt; echo "$MARK"
for i in $(seq 50); do perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("db:7000") or exit 1; print <$s>' && break; sleep 0.1; done`
	began := time.Now()
	out, errOut, code := ssh(name+".pitlane", script)
	t.Logf("first ssh connection: %v", time.Since(began).Round(time.Millisecond))
	if want := "hello from the source\nin-app\npong-from-db\n"; code != 0 || out != want {
		t.Fatalf("ssh: exit %d\nstdout %q, want %q\nstderr %s", code, out, want, errOut)
	}
	began = time.Now()
	if _, errOut, code := ssh(name+".pitlane", "true"); code != 0 {
		t.Fatalf("second ssh: %s", errOut)
	}
	t.Logf("second ssh connection: %v", time.Since(began).Round(time.Millisecond))

	if _, errOut, code := c.run("stop", name); code != 0 {
		t.Fatalf("stop: %s", errOut)
	}
	if got := composeStates(t, project); got["app"] == "running" || got["db"] == "running" {
		t.Fatalf("after stop: %v", got)
	}
	// An SSH connection starts a stopped workspace, project and all.
	if out, errOut, code := ssh(name+".pitlane", "cat hello.txt"); code != 0 || out != "hello from the source\n" {
		t.Fatalf("ssh to a stopped workspace: %d %q %s", code, out, errOut)
	}
	if got := composeStates(t, project); got["app"] != "running" || got["db"] != "running" {
		t.Fatalf("after ssh started it: %v", got)
	}

	_, errOut, code = c.run("delete", "--force", name)
	if code != 0 || !strings.Contains(errOut, project+"_data") {
		t.Fatalf("delete: %d, want it to name the kept volume %s_data:\n%s", code, project, errOut)
	}
	if got := composeStates(t, project); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}
}

func composeStates(t *testing.T, project string) map[string]string {
	t.Helper()
	cs, err := testenv.Docker(t).ComposeContainers(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range cs {
		out[c.Service] = c.State
	}
	return out
}
