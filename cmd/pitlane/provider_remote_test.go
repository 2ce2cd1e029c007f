package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/testenv"
)

// remoteEngine is a Docker engine on "another machine": a private dockerd
// in a network namespace of its own, reached only over SSH, through a
// real OpenSSH sshd listening on that namespace's loopback. Everything
// that talks to it (pitlane, ssh) runs in that namespace, with an ssh on
// PATH that uses the test's keys and known hosts, never the user's.
type remoteEngine struct {
	engine *testenv.PrivateEngine
	netns  string // /proc/PID/ns/net
	// host is the DOCKER_HOST value: ssh://root@127.0.0.1:PORT/SOCKET.
	host string
	// path is a PATH with the test's ssh wrapper first.
	path string
	dir  string
}

func startRemoteEngine(t *testing.T, images ...string) *remoteEngine {
	t.Helper()
	for _, tool := range []string{"/usr/sbin/sshd", "ssh", "ssh-keygen", "nsenter", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("PITLANE_REQUIRE_DOCKER") == "1" {
				t.Fatalf("%s is missing (scripts/setup.sh installs it)", tool)
			}
			t.Skipf("%s is missing (scripts/setup.sh installs it)", tool)
		}
	}
	e := testenv.StartPrivateEngine(t, images...)
	sock := strings.TrimPrefix(e.Host, "unix://")
	pid, err := os.ReadFile(filepath.Join(filepath.Dir(sock), "d.pid"))
	if err != nil {
		t.Fatalf("the private engine's pid: %v", err)
	}
	r := &remoteEngine{engine: e, netns: "/proc/" + strings.TrimSpace(string(pid)) + "/ns/net", dir: t.TempDir()}
	if out, err := exec.Command("nsenter", "--net="+r.netns, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("bringing up the namespace's loopback: %v\n%s", err, out)
	}
	d := r.dir
	for _, k := range []string{"host", "id"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(d, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, _ := os.ReadFile(filepath.Join(d, "id.pub"))
	hostPub, _ := os.ReadFile(filepath.Join(d, "host.pub"))
	const port = 2222
	write := func(name, body string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(d, name), []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("authorized_keys", string(pub), 0o600)
	write("known_hosts", fmt.Sprintf("[127.0.0.1]:%d %s", port, hostPub), 0o600)
	write("sshd_config", fmt.Sprintf(`ListenAddress 127.0.0.1:%d
HostKey %s
AuthorizedKeysFile %s
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
`, port, filepath.Join(d, "host"), filepath.Join(d, "authorized_keys")), 0o600)
	write("ssh_config", fmt.Sprintf(`Host 127.0.0.1
  IdentityFile %s
  IdentitiesOnly yes
  UserKnownHostsFile %s
  StrictHostKeyChecking yes
  BatchMode yes
`, filepath.Join(d, "id"), filepath.Join(d, "known_hosts")), 0o600)
	// ssh as the Docker client runs it (no -F): with the test's config.
	os.MkdirAll(filepath.Join(d, "bin"), 0o755)
	real, _ := exec.LookPath("ssh")
	write("bin/ssh", fmt.Sprintf("#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = -F ] && exec %s \"$@\"; done\nexec %s -F %s \"$@\"\n", real, real, filepath.Join(d, "ssh_config")), 0o755)
	r.path = filepath.Join(d, "bin") + string(os.PathListSeparator) + os.Getenv("PATH")

	os.MkdirAll("/run/sshd", 0o755)
	sshd := exec.Command("nsenter", "--net="+r.netns, "/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(d, "sshd_config"))
	var sshdLog bytes.Buffer
	sshd.Stdout, sshd.Stderr = &sshdLog, &sshdLog
	if err := sshd.Start(); err != nil {
		t.Fatalf("starting sshd: %v", err)
	}
	t.Cleanup(func() {
		sshd.Process.Kill()
		sshd.Wait()
		if t.Failed() {
			t.Logf("sshd:\n%s", sshdLog.String())
		}
	})
	r.host = fmt.Sprintf("ssh://root@127.0.0.1:%d%s", port, sock)
	for deadline := time.Now().Add(20 * time.Second); ; {
		cmd := r.command("docker", "-H", r.host, "version", "--format", "{{.Server.Version}}")
		out, err := cmd.CombinedOutput()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine does not answer over ssh: %v\n%s\nsshd:\n%s", err, out, sshdLog.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	return r
}

// command runs name in the engine's namespace, with the test's ssh.
func (r *remoteEngine) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("nsenter", append([]string{"--net=" + r.netns, name}, args...)...)
	cmd.Env = append(os.Environ(), "PATH="+r.path)
	return cmd
}

func (r *remoteEngine) run(t *testing.T, env []string, name string, args ...string) (string, string, int) {
	t.Helper()
	cmd := r.command(name, args...)
	cmd.Env = append(cmd.Env, env...)
	return runCmd(t, cmd)
}

// TestRemoteDockerEngineOverSSH drives a Docker engine on "another
// machine" through DOCKER_HOST=ssh://... and through a Docker context:
// local folders are refused, a git source is cloned there, and the
// workspace answers exec and `ssh NAME.pitlane`, and is deleted with its
// volume, unsaved work first refused.
func TestRemoteDockerEngineOverSSH(t *testing.T) {
	c := newCLI(t)
	// The remote engine gets an image holding the repository at the same
	// path as here: the clone in the workspace (which has no network)
	// finds it there, the configuration is read from the one here.
	base := t.TempDir()
	repo := filepath.Join(base, "repo.git")
	work := filepath.Join(base, "work")
	os.MkdirAll(filepath.Join(work, ".devcontainer"), 0o755)
	image := "pitlane-remote-src:" + testenv.ID()
	os.WriteFile(filepath.Join(work, ".devcontainer", "devcontainer.json"), []byte(`{"image": "`+image+`", "workspaceFolder": "/workspaces/app", "postCreateCommand": "echo created > /tmp/hook"}`), 0o644)
	os.WriteFile(filepath.Join(work, "README"), []byte("from the remote clone\n"), 0o644)
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"commit", "-q", "-m", "init"}, {"clone", "-q", "--bare", ".", repo}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	r := startRemoteEngine(t, "pitlane/base:bookworm")
	os.WriteFile(filepath.Join(base, "Dockerfile"), []byte("FROM pitlane/base:bookworm\nCOPY repo.git "+repo+"\n"), 0o644)
	build := exec.Command("docker", "-H", r.engine.Host, "build", "-q", "-t", image, base)
	build.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the source image on the remote engine: %v\n%s", err, out)
	}
	env := []string{"DOCKER_HOST=" + r.host}
	pitlane := func(args ...string) (string, string, int) { return r.run(t, env, c.bin, args...) }

	// A local folder is not on that machine.
	if _, errOut, code := pitlane("create", work, "--name", "local"); code == 0 || !strings.Contains(errOut, "folder on this machine") {
		t.Errorf("create of a local folder on a remote engine: exit %d\n%s", code, errOut)
	}

	name := "rd-" + testenv.ID()
	out, errOut, code := pitlane("create", "file://"+repo, "--name", name)
	if code != 0 {
		t.Fatalf("create: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "Cloning file://"+repo+" on ssh://") {
		t.Errorf("create does not say it clones on the remote engine:\n%s", errOut)
	}
	if out, errOut, code := pitlane("exec", name, "--", "sh", "-c", "cat README /tmp/hook; pwd"); code != 0 || out != "from the remote clone\ncreated\n/workspaces/app\n" {
		t.Errorf("exec: exit %d, %q\n%s", code, out, errOut)
	}
	// The files are the remote container's, not a folder of this machine.
	var inspect []struct {
		Mounts []struct{ Type, Destination string }
	}
	insp, err := exec.Command("docker", "-H", r.engine.Host, "inspect", "pitlane-"+name).Output()
	if err != nil || json.Unmarshal(insp, &inspect) != nil || len(inspect) != 1 {
		t.Fatalf("inspect: %v\n%s", err, insp)
	}
	for _, m := range inspect[0].Mounts {
		if m.Type == "bind" {
			t.Errorf("the remote container bind-mounts %s", m.Destination)
		}
	}

	// The same engine through a Docker context.
	dockerCfg := t.TempDir()
	if out, err := exec.Command("docker", "--config", dockerCfg, "context", "create", "box", "--docker", "host="+r.host).CombinedOutput(); err != nil {
		t.Fatalf("docker context create: %v\n%s", err, out)
	}
	list, errOut, code := r.run(t, []string{"DOCKER_CONFIG=" + dockerCfg, "DOCKER_CONTEXT=box", "DOCKER_HOST="}, c.bin, "list", "--json")
	var wss []struct{ Name, State, Provider string }
	if code != 0 || json.Unmarshal([]byte(list), &wss) != nil || len(wss) != 1 || wss[0].Name != name || wss[0].State != "running" || wss[0].Provider != "docker" {
		t.Errorf("list through a Docker context: exit %d %s\n%s", code, list, errOut)
	}

	// Real OpenSSH, through Pitlane's ProxyCommand, which reaches the
	// engine over the other ssh.
	cfg := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "pitlane", "ssh_config")
	if out, errOut, code := r.run(t, env, "ssh", "-F", cfg, name+".pitlane", "cat README"); code != 0 || out != "from the remote clone\n" {
		t.Errorf("ssh %s.pitlane: exit %d, %q\n%s", name, code, out, errOut)
	}

	// Work found nowhere else stops the delete, as with a local clone.
	if _, errOut, code := pitlane("exec", name, "--", "sh", "-c", "echo draft > notes.txt"); code != 0 {
		t.Fatalf("exec: %s", errOut)
	}
	if _, errOut, code := pitlane("delete", "--force", name); code == 0 || !strings.Contains(errOut, "notes.txt") {
		t.Errorf("delete with unsaved work: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := pitlane("delete", "--force", "--discard-changes", name); code != 0 {
		t.Fatalf("delete: %s", errOut)
	}
	left, _ := exec.Command("docker", "-H", r.engine.Host, "ps", "-aq").Output()
	vols, _ := exec.Command("docker", "-H", r.engine.Host, "volume", "ls", "-q").Output()
	if len(bytes.TrimSpace(left)) > 0 || len(bytes.TrimSpace(vols)) > 0 {
		t.Errorf("left on the remote engine: containers %q, volumes %q", left, vols)
	}
}
