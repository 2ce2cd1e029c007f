package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/internal/testenv"
)

// sshImage has Debian's OpenSSH client and server on Pitlane's base image;
// scripts/test-images.sh builds it during setup.
const sshImage = "pitlane/test-ssh:bookworm"

func needImage(t *testing.T, image string) {
	t.Helper()
	if err := exec.Command("docker", "image", "inspect", image).Run(); err != nil {
		if os.Getenv("PITLANE_REQUIRE_DOCKER") == "1" {
			t.Fatalf("PITLANE_REQUIRE_DOCKER=1 but the image %s is missing: run scripts/setup.sh (scripts/test-images.sh builds it)", image)
		}
		t.Skipf("the image %s is missing: run scripts/test-images.sh", image)
	}
}

// TestAgentForwardingAndGitOverSSH forwards a host ssh-agent into a
// workspace: off by default, on with -A and with the forward-agent
// setting; git in the workspace clones from and pushes to an sshd in
// another container (reached through a forwarded port) with the agent's
// key, and signs its commit with it, as the copied signing settings say.
func TestAgentForwardingAndGitOverSSH(t *testing.T) {
	c := newCLI(t)
	needImage(t, sshImage)
	for _, tool := range []string{"ssh", "ssh-agent", "ssh-add", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is missing (Debian's openssh-client)", tool)
		}
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "id")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pitlane-forwarded-key", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pub, _ := os.ReadFile(key + ".pub")
	sock := filepath.Join(dir, "agent.sock")
	agentCmd := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agentCmd.Process.Kill(); agentCmd.Wait() })
	t.Setenv("SSH_AUTH_SOCK", sock)
	for i := 0; ; i++ {
		if out, err := exec.Command("ssh-add", key).CombinedOutput(); err == nil {
			break
		} else if i == 50 {
			t.Fatalf("ssh-add: %v %s", err, out)
		}
		exec.Command("sleep", "0.1").Run()
	}
	os.MkdirAll(os.Getenv("HOME"), 0o755)
	for _, kv := range [][2]string{
		{"user.name", "Ada Lovelace"}, {"user.email", "ada@example.test"},
		{"gpg.format", "ssh"}, {"user.signingkey", key + ".pub"}, {"commit.gpgsign", "true"},
	} {
		mustGit(t, "", "config", "--global", kv[0], kv[1])
	}

	// An sshd with a bare repository, trusting only the agent's key.
	sshd := "pitlane-test-sshd-" + testenv.ID()
	setup := `mkdir -p /root/.ssh && printf '%s\n' "$KEY" > /root/.ssh/authorized_keys && chmod 700 /root/.ssh && chmod 600 /root/.ssh/authorized_keys && ssh-keygen -A >/dev/null && git init -q --bare -b main /srv/repo.git && exec /usr/sbin/sshd -D -e`
	if out, err := exec.Command("docker", "run", "-d", "--name", sshd, "-p", "127.0.0.1::22", "-e", "KEY="+strings.TrimSpace(string(pub)), sshImage, "sh", "-c", setup).CombinedOutput(); err != nil {
		t.Fatalf("starting sshd: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", sshd).Run() })
	portOut, err := exec.Command("docker", "port", sshd, "22/tcp").Output()
	if err != nil {
		t.Fatalf("docker port: %v", err)
	}
	hostPort := strings.TrimSpace(strings.Split(string(portOut), "\n")[0]) // 127.0.0.1:NNNN

	src := filepath.Join(t.TempDir(), "signed")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, ".devcontainer.json"), []byte(`{"image":"`+sshImage+`"}`), 0o644)
	name := "agent-" + testenv.ID()
	out, errOut, code := c.run("create", src, "--name", name)
	if code != 0 {
		t.Fatalf("create: %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "Copied from your git config: user.name, user.email, gpg.format, user.signingkey, commit.gpgsign") {
		t.Errorf("create does not say it copied the signing settings:\n%s", errOut)
	}
	cfg := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "pitlane", "ssh_config")
	ssh := func(args ...string) (string, string, int) {
		return runCmd(t, exec.Command("ssh", append([]string{"-F", cfg}, args...)...))
	}

	if out, _, code := ssh(name+".pitlane", "ssh-add -l"); code == 0 {
		t.Errorf("the agent was forwarded without -A: %s", out)
	}
	script := `set -e
for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/2222) 2>/dev/null && break; sleep 0.1; done
ssh-add -l
export GIT_SSH_COMMAND="ssh -p 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
git clone -q ssh://root@127.0.0.1/srv/repo.git /tmp/repo
cd /tmp/repo
git commit -q --allow-empty -m signed-in-the-workspace
echo "ada@example.test $(git config user.signingkey | sed 's/^key:://')" > /tmp/allowed
git -c gpg.ssh.allowedSignersFile=/tmp/allowed verify-commit HEAD 2>&1 | grep -o 'Good "git" signature for ada@example.test'
git push -q origin HEAD:main`
	out, errOut, code = ssh("-A", "-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:2222:"+hostPort, name+".pitlane", script)
	if code != 0 || !strings.Contains(out, "pitlane-forwarded-key") || !strings.Contains(out, `Good "git" signature for ada@example.test`) {
		t.Fatalf("ssh -A: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	got, err := exec.Command("docker", "exec", sshd, "git", "--git-dir", "/srv/repo.git", "cat-file", "-p", "main").Output()
	if err != nil || !bytes.Contains(got, []byte("signed-in-the-workspace")) || !bytes.Contains(got, []byte("BEGIN SSH SIGNATURE")) {
		t.Errorf("the sshd's repository has (%v):\n%s", err, got)
	}

	// One setting makes forwarding the default, for ssh and pitlane ssh.
	if out, errOut, code := c.run("settings", "forward-agent", "true"); code != 0 {
		t.Fatalf("settings: %s %s", out, errOut)
	}
	if out, errOut, code := ssh(name+".pitlane", "ssh-add -l"); code != 0 || !strings.Contains(out, "pitlane-forwarded-key") {
		t.Errorf("with forward-agent on, ssh without -A: %d %q %q", code, out, errOut)
	}
	if out, errOut, code := c.run("ssh", name, "--", "ssh-add", "-l"); code != 0 || !strings.Contains(out, "pitlane-forwarded-key") {
		t.Errorf("pitlane ssh with forward-agent on: %d %q %q", code, out, errOut)
	}
	c.run("settings", "--unset", "forward-agent")
	if out, _, code := c.run("ssh", name, "--", "ssh-add", "-l"); code == 0 {
		t.Errorf("forward-agent unset, the agent is still forwarded: %s", out)
	}
	if out, errOut, code := c.run("ssh", "-A", name, "--", "ssh-add", "-l"); code != 0 || !strings.Contains(out, "pitlane-forwarded-key") {
		t.Errorf("pitlane ssh -A: %d %q %q", code, out, errOut)
	}
}
