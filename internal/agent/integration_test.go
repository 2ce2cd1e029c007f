package agent_test

// Integration tests: a real workspace created by the engine on the real
// Docker engine, the real pitlane binary as ProxyCommand, and Debian's
// OpenSSH client with a test-only -F config. The user's ~/.ssh is never
// used: HOME and the XDG folders point into a temporary folder.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/agent"
	"github.com/pitlane/pitlane/internal/docker"
	"github.com/pitlane/pitlane/internal/workspace"
)

const helperPath = "/usr/local/bin/pitlane-test-helper"

type testEnv struct {
	root   string // temporary folder holding everything
	bin    string // the pitlane binary under test
	helper string // testdata/helper, built for the container
	cfg    string // Pitlane's ssh_config, used with ssh -F
	name   string // the workspace
	ws     *workspace.Workspace
	mgr    *workspace.Manager
	cli    *docker.Client
}

var (
	setupOnce sync.Once
	env       *testEnv
	skipWhy   string
	setupErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		env.teardown()
	}
	os.Exit(code)
}

// need returns the shared workspace, creating it on first use. Without a
// Docker engine or an OpenSSH client the test is skipped, unless
// PITLANE_REQUIRE_DOCKER=1 (CI) makes that a failure.
func need(t testing.TB) *testEnv {
	t.Helper()
	setupOnce.Do(func() { env, skipWhy, setupErr = setup() })
	if skipWhy != "" {
		if os.Getenv("PITLANE_REQUIRE_DOCKER") == "1" {
			t.Fatalf("PITLANE_REQUIRE_DOCKER=1 but %s", skipWhy)
		}
		t.Skip(skipWhy)
	}
	if setupErr != nil {
		t.Fatalf("setting up the test workspace: %v", setupErr)
	}
	return env
}

func setup() (*testEnv, string, error) {
	for _, tool := range []string{"ssh", "scp", "sftp", "ssh-agent", "ssh-add", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, tool + " is missing: install Debian's openssh-client", nil
		}
	}
	ctx := context.Background()
	cli, err := docker.New(ctx)
	if err != nil {
		return nil, "no Docker engine answers: " + err.Error(), nil
	}
	if err := exec.Command("docker", "image", "inspect", workspace.DefaultImage).Run(); err != nil {
		cli.Close()
		return nil, "the image " + workspace.DefaultImage + " is missing (scripts/base-image.sh builds it) or the docker CLI is absent", nil
	}
	e := &testEnv{cli: cli}
	e.root, err = os.MkdirTemp("", "pitlane-ssh-test-")
	if err != nil {
		return nil, "", err
	}
	// Build before HOME moves, so the build cache is the usual one.
	modRoot, err := moduleRoot()
	if err != nil {
		return e, "", err
	}
	// Keep Go's caches where they are when HOME moves below.
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		return e, "", fmt.Errorf("go env: %w", err)
	}
	if f := strings.Fields(string(out)); len(f) == 3 {
		goEnv = []string{"GOCACHE=" + f[0], "GOMODCACHE=" + f[1], "GOPATH=" + f[2]}
	}
	e.bin = filepath.Join(e.root, "bin", "pitlane")
	e.helper = filepath.Join(e.root, "bin", "helper")
	if err := goBuild(modRoot, e.bin, "./cmd/pitlane"); err != nil {
		return e, "", err
	}
	if err := goBuild(modRoot, e.helper, "./internal/agent/testdata/helper"); err != nil {
		return e, "", err
	}

	for k, v := range map[string]string{
		"HOME":             filepath.Join(e.root, "home"),
		"XDG_CONFIG_HOME":  filepath.Join(e.root, "config"),
		"XDG_DATA_HOME":    filepath.Join(e.root, "data"),
		"XDG_CACHE_HOME":   filepath.Join(e.root, "cache"),
		"PITLANE_INSTANCE": "sshtest-" + randHex(4),
	} {
		os.Setenv(k, v)
	}
	os.MkdirAll(os.Getenv("HOME"), 0o755)

	src := filepath.Join(e.root, "src", "project")
	devc := `{
  "image": "` + workspace.DefaultImage + `",
  "remoteEnv": {"FROM_CONFIG": "yes"},
  "forwardPorts": [7070]
}`
	if err := os.MkdirAll(filepath.Join(src, ".devcontainer"), 0o755); err != nil {
		return e, "", err
	}
	if err := os.WriteFile(filepath.Join(src, ".devcontainer", "devcontainer.json"), []byte(devc), 0o644); err != nil {
		return e, "", err
	}
	e.mgr = workspace.NewManager(cli, workspace.Options{})
	e.name = "ssh-" + randHex(4)
	e.ws, err = e.mgr.Create(ctx, workspace.CreateOptions{Source: src, Name: e.name})
	if err != nil {
		return e, "", fmt.Errorf("creating the workspace: %w", err)
	}
	if out, err := exec.Command(e.bin, "ssh-config").CombinedOutput(); err != nil {
		return e, "", fmt.Errorf("pitlane ssh-config: %v: %s", err, out)
	}
	e.cfg = filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "pitlane", "ssh_config")
	data, err := os.ReadFile(e.helper)
	if err != nil {
		return e, "", err
	}
	if err := e.mgr.CopyFile(ctx, e.name, helperPath, data, 0o755); err != nil {
		return e, "", err
	}
	return e, "", nil
}

func (e *testEnv) teardown() {
	if e.mgr != nil && e.name != "" {
		if err := e.mgr.Delete(context.Background(), e.name, workspace.DeleteOptions{DiscardChanges: true}); err != nil {
			fmt.Fprintf(os.Stderr, "deleting test workspace %s: %v\n", e.name, err)
		}
		// The image cache of the test's instance goes too.
		if _, err := e.mgr.PruneImages(context.Background(), workspace.PruneOptions{}); err != nil {
			fmt.Fprintf(os.Stderr, "removing the test's cached images: %v\n", err)
		}
	}
	if e.cli != nil {
		e.cli.Close()
	}
	if e.root != "" {
		os.RemoveAll(e.root)
	}
}

func (e *testEnv) host() string { return e.name + ".pitlane" }

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// goEnv pins Go's caches for builds made after the test moved HOME.
var goEnv []string

func goBuild(dir, out, pkg string, extra ...string) error {
	args := append([]string{"build", "-o", out}, extra...)
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), goEnv...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type result struct {
	stdout, stderr string
	code           int
}

// ssh runs OpenSSH with the test config and returns what it printed and
// its exit status.
func (e *testEnv) run(t testing.TB, stdin io.Reader, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", name, err)
	}
	return result{out.String(), errb.String(), code}
}

func (e *testEnv) ssh(t testing.TB, args ...string) result {
	t.Helper()
	return e.run(t, nil, "ssh", append([]string{"-F", e.cfg, "-o", "BatchMode=yes"}, args...)...)
}

func TestExitStatus(t *testing.T) {
	e := need(t)
	if r := e.ssh(t, e.host(), "true"); r.code != 0 {
		t.Fatalf("ssh true: exit %d, stderr %q", r.code, r.stderr)
	}
	// The image has neither sshd nor curl: the agent needs neither.
	if r := e.ssh(t, e.host(), "command -v sshd || command -v curl || test -e /usr/sbin/sshd"); r.code == 0 {
		t.Fatalf("the test image unexpectedly has %q", r.stdout)
	}
	if r := e.ssh(t, e.host(), "exit 7"); r.code != 7 {
		t.Fatalf("ssh 'exit 7': exit %d, want 7 (stderr %q)", r.code, r.stderr)
	}
	r := e.ssh(t, e.host(), "echo out; echo err >&2; exit 3")
	if r.code != 3 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("got exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestStdinReachesCommand(t *testing.T) {
	e := need(t)
	r := e.run(t, strings.NewReader("line one\nline two\n"), "ssh", "-F", e.cfg, e.host(), "wc -l")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "2" {
		t.Fatalf("wc -l over ssh: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestPTY(t *testing.T) {
	e := need(t)
	r := e.ssh(t, "-tt", e.host(), "tty; echo term=$TERM")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "/dev/pts/") {
		t.Fatalf("ssh -tt tty: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := e.ssh(t, e.host(), "tty"); r.code == 0 || strings.HasPrefix(r.stdout, "/dev/pts/") {
		t.Fatalf("without -t the command got a terminal: %q", r.stdout)
	}
}

func TestPTYResize(t *testing.T) {
	e := need(t)
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux) is missing")
	}
	// script gives ssh a local terminal of a known size; the remote
	// terminal must have the same size.
	inner := fmt.Sprintf("stty rows 33 cols 111; ssh -F %s -tt %s 'stty size'", e.cfg, e.host())
	r := e.run(t, nil, "script", "-qec", inner, "/dev/null")
	if r.code != 0 || !strings.Contains(r.stdout, "33 111") {
		t.Fatalf("remote stty size: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestEnvironment(t *testing.T) {
	e := need(t)
	r := e.ssh(t, "-o", "SetEnv=PITLANE_TEST_VAR=hello", e.host(),
		`echo "$PITLANE_TEST_VAR|$FROM_CONFIG|$USER|$HOME|$(pwd)"`)
	want := fmt.Sprintf("hello|yes|root|/root|%s\n", e.ws.Folder)
	if r.code != 0 || r.stdout != want {
		t.Fatalf("got %q (exit %d, stderr %q), want %q", r.stdout, r.code, r.stderr, want)
	}
	// An interactive session runs the user's login shell.
	r = e.run(t, strings.NewReader("echo shell=$0; pwd\n"), "ssh", "-F", e.cfg, "-T", e.host())
	if r.code != 0 || !strings.Contains(r.stdout, "shell=-bash") || !strings.Contains(r.stdout, e.ws.Folder) {
		t.Fatalf("login shell: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func makeFile(t testing.TB, path string, size int) string {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return sum(t, path)
}

func sum(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func TestSCPRoundTrip(t *testing.T) {
	e := need(t)
	dir := t.TempDir()
	up := filepath.Join(dir, "up.bin")
	want := makeFile(t, up, 10<<20)
	if r := e.run(t, nil, "scp", "-F", e.cfg, "-q", up, e.host()+":/tmp/scp.bin"); r.code != 0 {
		t.Fatalf("scp up: exit %d: %s", r.code, r.stderr)
	}
	if r := e.ssh(t, e.host(), "sha256sum /tmp/scp.bin"); !strings.HasPrefix(r.stdout, want) {
		t.Fatalf("checksum in the container %q, want %s", r.stdout, want)
	}
	down := filepath.Join(dir, "down.bin")
	if r := e.run(t, nil, "scp", "-F", e.cfg, "-q", e.host()+":/tmp/scp.bin", down); r.code != 0 {
		t.Fatalf("scp down: exit %d: %s", r.code, r.stderr)
	}
	if got := sum(t, down); got != want {
		t.Fatalf("checksum after the round trip %s, want %s", got, want)
	}
}

func TestSFTPRoundTrip(t *testing.T) {
	e := need(t)
	dir := t.TempDir()
	up := filepath.Join(dir, "up.bin")
	want := makeFile(t, up, 10<<20)
	down := filepath.Join(dir, "down.bin")
	batch := fmt.Sprintf("put %s /tmp/sftp.bin\nls -l /tmp/sftp.bin\nget /tmp/sftp.bin %s\nrm /tmp/sftp.bin\n", up, down)
	r := e.run(t, strings.NewReader(batch), "sftp", "-F", e.cfg, "-b", "-", e.host())
	if r.code != 0 {
		t.Fatalf("sftp: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	if got := sum(t, down); got != want {
		t.Fatalf("checksum after the round trip %s, want %s", got, want)
	}
	if r := e.ssh(t, e.host(), "test -e /tmp/sftp.bin"); r.code == 0 {
		t.Fatal("sftp rm left the file behind")
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// background starts a long-running ssh and stops it when the test ends.
func (e *testEnv) background(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command("ssh", append([]string{"-F", e.cfg, "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes"}, args...)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("ssh %v stderr: %s", args, errb.String())
		}
	})
}

// echoOnce connects to addr, sends a line and returns the answer, retrying
// while the forward comes up.
func echoOnce(t testing.TB, addr, line string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := func() (string, error) {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				return "", err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(3 * time.Second))
			fmt.Fprintln(c, line)
			return bufio.NewReader(c).ReadString('\n')
		}()
		if err == nil {
			return strings.TrimSpace(got)
		}
		if time.Now().After(deadline) {
			t.Fatalf("talking to %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestLocalForward(t *testing.T) {
	e := need(t)
	r := e.ssh(t, e.host(), "nohup "+helperPath+" echo 127.0.0.1:7070 >/dev/null 2>&1 &")
	if r.code != 0 {
		t.Fatalf("starting the server in the container: exit %d: %s", r.code, r.stderr)
	}
	t.Cleanup(func() { e.ssh(t, e.host(), "pkill -f 'pitlane-test-helper echo'") })
	lp := freePort(t)
	e.background(t, "-N", "-L", fmt.Sprintf("127.0.0.1:%d:127.0.0.1:7070", lp), e.host())
	if got := echoOnce(t, fmt.Sprintf("127.0.0.1:%d", lp), "through the tunnel"); got != "echo: through the tunnel" {
		t.Fatalf("got %q", got)
	}
}

func TestRemoteForward(t *testing.T) {
	e := need(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			fmt.Fprintf(c, "host says %s", line)
			c.Close()
		}
	}()
	e.background(t, "-N", "-R", fmt.Sprintf("127.0.0.1:7171:%s", l.Addr()), e.host())
	var r result
	for i := 0; i < 50; i++ {
		r = e.ssh(t, e.host(), `exec 3<>/dev/tcp/127.0.0.1/7171 && echo hi >&3 && head -n1 <&3`)
		if r.code == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r.code != 0 || r.stdout != "host says hi\n" {
		t.Fatalf("reverse forward: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestAgentForwarding(t *testing.T) {
	e := need(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "id")
	if r := e.run(t, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "forwarded-test-key", "-f", key); r.code != 0 {
		t.Fatal(r.stderr)
	}
	sock := filepath.Join(dir, "agent.sock")
	agentCmd := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { agentCmd.Process.Kill(); agentCmd.Wait() }()
	for i := 0; i < 50; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	addCmd := exec.Command("ssh-add", key)
	addCmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := addCmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	cmd := exec.Command("ssh", "-F", e.cfg, "-A", e.host(), helperPath+" agent-list")
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ssh-ed25519 forwarded-test-key") {
		t.Fatalf("listing forwarded keys: %v: %s", err, out)
	}
	// Without -A there is no agent in the workspace.
	cmd = exec.Command("ssh", "-F", e.cfg, e.host(), `test -z "$SSH_AUTH_SOCK"`)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("SSH_AUTH_SOCK set without -A: %v: %s", err, out)
	}
}

func TestWrongKeyRefused(t *testing.T) {
	e := need(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "other")
	if r := e.run(t, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key); r.code != 0 {
		t.Fatal(r.stderr)
	}
	cfg, err := os.ReadFile(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(cfg), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "IdentityFile ") {
			l = "\tIdentityFile " + key
		}
		lines = append(lines, l)
	}
	other := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(other, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.run(t, nil, "ssh", "-F", other, "-o", "BatchMode=yes", e.host(), "true")
	if r.code != 255 || !strings.Contains(r.stderr, "Permission denied") {
		t.Fatalf("a foreign key got in or failed oddly: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestUnknownWorkspace: Pitlane's ssh_config has a block for each
// workspace and none for other names, so OpenSSH says it knows no such
// host; pitlane ssh says which workspaces exist.
func TestUnknownWorkspace(t *testing.T) {
	e := need(t)
	r := e.ssh(t, "no-such-ws.pitlane", "true")
	if r.code != 255 || !strings.Contains(r.stderr, "no-such-ws.pitlane") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	r = e.run(t, nil, e.bin, "ssh", "no-such-ws", "--", "true")
	if r.code == 0 || !strings.Contains(r.stderr, "workspace no-such-ws does not exist; `pitlane list` shows what does") {
		t.Fatalf("pitlane ssh: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestHostileHostNameRunsNothing: a host name carrying shell syntax, as a
// recursive clone of a hostile repository can hand to ssh, reaches no
// shell through Pitlane's ssh_config (OpenSSH before 9.6 expanded such
// names into ProxyCommand unchecked).
func TestHostileHostNameRunsNothing(t *testing.T) {
	e := need(t)
	marker := filepath.Join(t.TempDir(), "pwned")
	for _, host := range []string{
		"x$(touch " + marker + ").pitlane",
		"x`touch " + marker + "`.pitlane",
		"x;touch " + marker + ";.pitlane",
		e.name + ";touch " + marker + ".pitlane",
	} {
		r := e.ssh(t, host, "true")
		if r.code == 0 {
			t.Errorf("ssh %q succeeded", host)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("ssh %q ran a shell command from the host name", host)
		}
	}
}

func TestPitlaneSSHCommand(t *testing.T) {
	e := need(t)
	r := e.run(t, nil, e.bin, "ssh", e.name, "--", "sh", "-c", "echo \"$1\"; exit 3", "x", "two words")
	if r.code != 3 || r.stdout != "two words\n" {
		t.Fatalf("pitlane ssh: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = e.run(t, nil, e.bin, "ssh", "no-such-ws", "--", "true")
	if r.code != 1 || !strings.Contains(r.stderr, "workspace no-such-ws does not exist") {
		t.Fatalf("pitlane ssh to a missing workspace: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestAgentUpgrade(t *testing.T) {
	e := need(t)
	modRoot, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	// A build with another version string has another checksum, as an
	// upgraded pitlane would.
	next := filepath.Join(e.root, "bin", "pitlane-next")
	if err := goBuild(modRoot, next, "./cmd/pitlane", "-ldflags", "-X main.version=upgrade-test"); err != nil {
		t.Fatal(err)
	}
	list := func() string {
		r := e.ssh(t, e.host(), "ls /.pitlane | grep ^agent-; readlink /.pitlane/pitlane")
		if r.code != 0 {
			t.Fatalf("ls: %d %s", r.code, r.stderr)
		}
		// The stable link names the one agent there is.
		agents, link, _ := strings.Cut(strings.TrimSpace(r.stdout), "\n")
		if link != agents {
			t.Fatalf("/.pitlane holds %q but /.pitlane/pitlane points at %q", agents, link)
		}
		return agents
	}
	before := list()
	cmd := exec.Command("ssh", "-F", e.cfg, e.host(), "true")
	cmd.Env = append(os.Environ(), "PITLANE_AGENT_BINARY="+next)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh with the new agent: %v: %s", err, out)
	}
	cmd = exec.Command("ssh", "-F", e.cfg, e.host(), "ls /.pitlane | grep ^agent-")
	cmd.Env = append(os.Environ(), "PITLANE_AGENT_BINARY="+next)
	out, err := cmd.Output()
	after := strings.TrimSpace(string(out))
	if err != nil || after == before || strings.Contains(after, "\n") {
		t.Fatalf("after the upgrade /.pitlane holds %q (before %q, err %v): want one new agent", after, before, err)
	}
	if got := list(); got != before {
		t.Fatalf("going back did not reinstall the first agent: %q, want %q", got, before)
	}
}

func TestDamagedAgentIsNotInstalled(t *testing.T) {
	e := need(t)
	// A staged copy whose checksum does not match must not be installed.
	ctx := context.Background()
	data, err := os.ReadFile(e.bin)
	if err != nil {
		t.Fatal(err)
	}
	fake := strings.Repeat("ab", 32)
	stage := agent.StagePath(fake, "test")
	if err := e.mgr.CopyFile(ctx, e.name, stage, data, 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := e.mgr.Exec(ctx, e.name, workspace.ExecOptions{Cmd: []string{stage, "agent", "install", fake}, User: "root", Stdout: &out, Stderr: &out})
	if err != nil || code == 0 || !strings.Contains(out.String(), "damaged") {
		t.Fatalf("install of a mismatching copy: exit %d, err %v, output %q", code, err, out.String())
	}
	if r := e.ssh(t, e.host(), "ls /.pitlane; ls "+stage); strings.Contains(r.stdout, fake[:16]) {
		t.Fatalf("the damaged copy is still there: %q", r.stdout)
	}
}

// TestStoppedWorkspaceStarts stops the shared workspace and connects: the
// connection starts it again, so the tests after it find it running (and
// the test fails if it does not).
func TestStoppedWorkspaceStarts(t *testing.T) {
	e := need(t)
	ctx := context.Background()
	if _, err := e.mgr.Stop(ctx, e.name); err != nil {
		t.Fatal(err)
	}
	if r := e.ssh(t, e.host(), "echo up"); r.code != 0 || r.stdout != "up\n" {
		t.Fatalf("ssh to a stopped workspace: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	ws, err := e.mgr.Get(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	if ws.State != workspace.StateRunning {
		t.Fatalf("state after connecting: %s, want running", ws.State)
	}
}

func TestForwardCommand(t *testing.T) {
	e := need(t)
	if r := e.ssh(t, e.host(), "nohup "+helperPath+" echo 127.0.0.1:7072 >/dev/null 2>&1 &"); r.code != 0 {
		t.Fatalf("starting the server in the container: %s", r.stderr)
	}
	t.Cleanup(func() { e.ssh(t, e.host(), "pkill -f 'pitlane-test-helper echo 127.0.0.1:7072'") })
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	lp := freePort(t)
	cmd := exec.Command(e.bin, "forward", e.name, fmt.Sprintf("7072:%d", busyPort), fmt.Sprintf("7072:%d", lp))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if got := echoOnce(t, fmt.Sprintf("127.0.0.1:%d", lp), "forwarded"); got != "echo: forwarded" {
		t.Fatalf("got %q", got)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("pitlane forward after Ctrl-C: %v (stderr %s)", err, errb.String())
	}
	if want := fmt.Sprintf("local port %d is busy", busyPort); !strings.Contains(errb.String(), want) {
		t.Errorf("stderr %q lacks %q", errb.String(), want)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("Forwarding 127.0.0.1:%d -> %s port 7072", lp, e.name)) {
		t.Errorf("stdout %q", out.String())
	}
}

func TestOpenCommand(t *testing.T) {
	e := need(t)
	// VS Code cannot be installed here: a stand-in `code` records how
	// pitlane runs it.
	bin := t.TempDir()
	record := filepath.Join(bin, "args")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + record + "\n"
	if err := os.WriteFile(filepath.Join(bin, "code"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e.bin, "open", e.name, "--ide", "vscode")
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pitlane open: %v: %s", err, out)
	}
	got, _ := os.ReadFile(record)
	want := "--folder-uri\nvscode-remote://ssh-remote+" + e.host() + e.ws.Folder + "\n"
	if string(got) != want {
		t.Fatalf("code ran with %q, want %q", got, want)
	}
	// The choice is remembered.
	r := e.run(t, nil, e.bin, "open", e.name, "--print")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "vscode-remote://ssh-remote+"+e.host()) {
		t.Fatalf("open --print after --ide vscode: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	// A missing editor is reported in words, with the URL to use by hand.
	cmd = exec.Command(e.bin, "open", e.name, "--ide", "cursor")
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(e.bin)+string(os.PathListSeparator)+"/usr/bin:/bin")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Cursor is not installed") {
		t.Fatalf("open with a missing editor: %v: %s", err, out)
	}
	r = e.run(t, nil, e.bin, "open", e.name, "--ide", "jetbrains:GO", "--print")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "jetbrains-gateway://connect#") || !strings.Contains(r.stdout, "host="+e.host()) {
		t.Fatalf("jetbrains --print: %q %q", r.stdout, r.stderr)
	}
}

func TestNonRootRemoteUser(t *testing.T) {
	e := need(t)
	ctx := context.Background()
	src := filepath.Join(e.root, "src", "userproject")
	files := map[string]string{
		".devcontainer/Dockerfile":        "FROM " + workspace.DefaultImage + "\nRUN useradd -m -s /bin/bash dev\n",
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}, "remoteUser": "dev"}`,
	}
	for name, content := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	name := "ssh-user-" + randHex(3)
	ws, err := e.mgr.Create(ctx, workspace.CreateOptions{Source: src, Name: name})
	if err != nil {
		t.Fatalf("creating a workspace with remoteUser dev: %v", err)
	}
	t.Cleanup(func() { e.mgr.Delete(context.Background(), name, workspace.DeleteOptions{DiscardChanges: true}) })
	// Created in-process, not by the CLI: refresh the host blocks.
	if out, err := exec.Command(e.bin, "ssh-config").CombinedOutput(); err != nil {
		t.Fatalf("pitlane ssh-config: %v: %s", err, out)
	}
	host := name + ".pitlane"
	r := e.ssh(t, host, `echo "$USER|$HOME|$SHELL|$(id -un)|$(pwd)"; touch /tmp/made-by-ssh; stat -c %U /tmp/made-by-ssh`)
	want := "dev|/home/dev|/bin/bash|dev|" + ws.Folder + "\ndev\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("as the remote user: exit %d, stdout %q (want %q), stderr %q", r.code, r.stdout, want, r.stderr)
	}
	// Files written over sftp belong to the remote user and land in
	// its home for relative paths.
	local := filepath.Join(t.TempDir(), "f")
	makeFile(t, local, 1024)
	if r := e.run(t, nil, "scp", "-F", e.cfg, "-q", local, host+":uploaded"); r.code != 0 {
		t.Fatalf("scp: %s", r.stderr)
	}
	if r := e.ssh(t, host, "stat -c %U ~/uploaded"); r.stdout != "dev\n" {
		t.Fatalf("owner of the uploaded file: %q %q", r.stdout, r.stderr)
	}
}

// Editors open several connections at once; the first ones into a fresh
// container all install the agent and must all get in.
func TestConcurrentFirstConnects(t *testing.T) {
	e := need(t)
	ctx := context.Background()
	if code, err := e.mgr.Exec(ctx, e.name, workspace.ExecOptions{Cmd: []string{"rm", "-rf", "/.pitlane"}, User: "root"}); err != nil || code != 0 {
		t.Fatalf("removing the agent: %d %v", code, err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := exec.Command("ssh", "-F", e.cfg, e.host(), "echo ok").CombinedOutput()
			if err != nil || string(out) != "ok\n" {
				errs <- fmt.Sprintf("%v: %s", err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	if r := e.ssh(t, e.host(), "ls -a / | grep -c pitlane-agent; ls /.pitlane | grep -c ^agent-"); r.stdout != "0\n1\n" {
		t.Errorf("after concurrent installs: staged files and agents %q, want none and one", r.stdout)
	}
}

// TestThroughTheUsersOwnConfig: with a ~/.ssh/config that has Match
// blocks, CRLF line ends, an Include glob and a stale Include of an old
// Pitlane config folder, `pitlane ssh-config` replaces only the stale
// line, every other byte stays, and plain ssh reaches the workspace
// through the user's file.
func TestThroughTheUsersOwnConfig(t *testing.T) {
	e := need(t)
	home := os.Getenv("HOME")
	user := filepath.Join(home, ".ssh", "config")
	stale := filepath.Join(home, "old-config", "pitlane", "ssh_config")
	rest := "Host *.corp.example\r\n  User me\r\nMatch host *.internal.example exec \"false\"\r\n  ProxyJump nowhere\r\nInclude " + filepath.Join(home, ".ssh", "config.d") + "/*\r\n"
	os.MkdirAll(filepath.Join(home, ".ssh", "config.d"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "config.d", "extra"), []byte("Host extra.example\r\n  Port 2222\r\n"), 0o600)
	if err := os.WriteFile(user, []byte("Include "+stale+"\r\n"+rest), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(user) })
	r := e.run(t, nil, e.bin, "ssh-config")
	if r.code != 0 || !strings.Contains(r.stdout, "stale") {
		t.Fatalf("ssh-config: %d %q %q", r.code, r.stdout, r.stderr)
	}
	got, _ := os.ReadFile(user)
	if want := "Include " + e.cfg + "\r\n" + rest; string(got) != want {
		t.Fatalf("~/.ssh/config =\n%q\nwant\n%q", got, want)
	}
	if r := e.run(t, nil, "ssh", "-F", user, "-o", "BatchMode=yes", e.host(), "echo", "through-user-config"); r.code != 0 || r.stdout != "through-user-config\n" {
		t.Fatalf("ssh through the user's config: %d %q %q", r.code, r.stdout, r.stderr)
	}
}
