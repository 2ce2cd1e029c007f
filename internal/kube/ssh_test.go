package kube

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/pitlane/pitlane/internal/agent"
	"github.com/pitlane/pitlane/internal/sshconfig"
	"github.com/pitlane/pitlane/internal/testenv"
)

// agentPath is where the SSH test copies the pitlane binary in a pod.
const agentPath = "/usr/local/bin/pitlane-agent"

// proxyMain makes the test binary an SSH ProxyCommand, called as
// `BINARY ssh --stdio NAME.pitlane` (Pitlane's own ssh_config line): it
// runs Pitlane's stdio SSH agent in the pod NAME of the namespace in
// $PITLANE_KUBE_TEST_PROXY through the API server's exec stream, and
// pipes the SSH connection through it.
func proxyMain(args []string) int {
	if len(args) != 3 || args[0] != "ssh" || args[1] != "--stdio" {
		fmt.Fprintf(os.Stderr, "proxy: unexpected arguments %q\n", args)
		return 2
	}
	name := strings.TrimSuffix(args[2], "."+sshconfig.Domain)
	cfgDir, err := sshconfig.DefaultConfigDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	keys, err := sshconfig.EnsureKeys(cfgDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	rc, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c, err := NewFromConfig(rc, Options{}, os.Getenv(envProxy))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var hello bytes.Buffer
	if err := agent.WriteHello(&hello, agent.Hello{HostKey: keys.HostKey, AuthorizedKey: keys.AuthorizedKey}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := &afterReady{w: os.Stdout}
	code, err := c.Exec(context.Background(), "pitlane-"+name, ExecSpec{
		Cmd:    []string{agentPath, "agent", "ssh", "--stdio"},
		Stdin:  io.MultiReader(&hello, os.Stdin),
		Stdout: out,
		Stderr: os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		return 1
	}
	return code
}

// afterReady drops the agent's ready line and passes the rest on.
type afterReady struct {
	w    io.Writer
	mu   sync.Mutex
	buf  []byte
	pass bool
}

func (a *afterReady) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pass {
		return a.w.Write(p)
	}
	a.buf = append(a.buf, p...)
	i := bytes.IndexByte(a.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	if string(a.buf[:i+1]) != agent.Ready {
		return 0, fmt.Errorf("the agent did not announce itself: %q", a.buf[:i+1])
	}
	a.pass = true
	if rest := a.buf[i+1:]; len(rest) > 0 {
		if _, err := a.w.Write(rest); err != nil {
			return 0, err
		}
	}
	a.buf = nil
	return len(p), nil
}

// TestSSHThroughExecStream connects the real OpenSSH client to Pitlane's
// stdio SSH agent in a pod, with the API server's exec stream as its
// ProxyCommand: no Service, no port, no sshd in the image.
func TestSSHThroughExecStream(t *testing.T) {
	cl := testCluster(t)
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no OpenSSH client")
	}
	testenv.Isolate(t)
	c, ns := cl.client(t, Options{})
	ctx := context.Background()
	id := startPlain(t, c, "pitlane-ssh")

	t0 := time.Now()
	bin := testenv.Binary(t)
	t.Logf("pitlane built in %v", time.Since(t0))
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	if err := c.CopyFile(ctx, id, agentPath, data, 0o755, 0, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d MiB copied in in %v", len(data)>>20, time.Since(t0))
	if got := shell(t, c, id, "sha256sum "+agentPath+" | cut -c1-64"); got != fmt.Sprintf("%x", sha256.Sum256(data)) {
		t.Fatalf("the agent binary arrived damaged")
	}

	cfgDir, err := sshconfig.DefaultConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sshconfig.EnsureKeys(cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(cfg, sshconfig.OwnConfig(self, keys, []string{"ssh"}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(envProxy, ns)

	ssh := func(stdin io.Reader, args ...string) string {
		t.Helper()
		cmd := exec.Command("ssh", append([]string{"-F", cfg, "-o", "BatchMode=yes", "ssh.pitlane"}, args...)...)
		cmd.Stdin = stdin
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("ssh %v: %v\nstdout: %s\nstderr: %s", args, err, out.String(), errb.String())
		}
		return out.String()
	}
	t0 = time.Now()
	if got := ssh(nil, "echo hello from $(hostname); id -un"); got != "hello from pitlane-ssh\nroot\n" {
		t.Fatalf("ssh = %q", got)
	}
	t.Logf("first ssh in %v", time.Since(t0))
	t0 = time.Now()
	// A megabyte each way over the same path.
	blob := bytes.Repeat([]byte("pitlane over the exec stream\n"), 40000)
	ssh(bytes.NewReader(blob), "cat > /tmp/blob")
	if got := ssh(nil, "sha256sum /tmp/blob | cut -c1-64"); strings.TrimSpace(got) != fmt.Sprintf("%x", sha256.Sum256(blob)) {
		t.Fatalf("the upload arrived damaged: %s", got)
	}
	back := ssh(nil, "cat /tmp/blob")
	if !bytes.Equal([]byte(back), blob) {
		t.Fatalf("the download came back damaged: %d bytes, want %d", len(back), len(blob))
	}
	t.Logf("a megabyte up and down in %v", time.Since(t0))
	// The exit status comes through.
	cmd := exec.Command("ssh", "-F", cfg, "-o", "BatchMode=yes", "ssh.pitlane", "exit 3")
	if err := cmd.Run(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 3 {
		t.Fatalf("ssh exit 3: %v", err)
	}
}
