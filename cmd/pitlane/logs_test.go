package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/testenv"
)

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogsFollow runs `pitlane logs -f` while `pitlane start` runs a
// postStartCommand, sees its lines as they come, and stops it with
// Ctrl-C.
func TestLogsFollow(t *testing.T) {
	c := newCLI(t)
	src := filepath.Join(t.TempDir(), "proj")
	must(t, os.MkdirAll(filepath.Join(src, ".devcontainer"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, ".devcontainer", "devcontainer.json"), []byte(`{
		"image": "pitlane/base:bookworm",
		"postStartCommand": "for i in 1 2 3 4; do echo tick-$i; sleep 1; done"
	}`), 0o644))
	name := "logs-" + testenv.ID()
	if out, errOut, code := c.run("create", src, "--name", name); code != 0 {
		t.Fatalf("create exited %d\n%s\n%s", code, out, errOut)
	}
	if out, errOut, code := c.run("stop", name); code != 0 {
		t.Fatalf("stop exited %d\n%s\n%s", code, out, errOut)
	}
	out, _, code := c.run("logs", "--tail", "1", name)
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("logs --tail 1: exit %d, %q", code, out)
	}

	follow := exec.Command(c.bin, "logs", "-f", "-n", "0", name)
	var fout lockedBuffer
	var ferr bytes.Buffer
	follow.Stdout, follow.Stderr = &fout, &ferr
	must(t, follow.Start())
	defer follow.Process.Kill()
	start := exec.Command(c.bin, "start", name)
	must(t, start.Start())
	started := make(chan error, 1)
	go func() { started <- start.Wait() }()

	// The first tick shows while the start still runs its hook.
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(fout.String(), "tick-1") {
		select {
		case err := <-started:
			t.Fatalf("start ended (%v) before logs -f showed the hook's first line: %q", err, fout.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs -f showed no tick-1 within 2 minutes: %q\n%s", fout.String(), ferr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := <-started; err != nil {
		t.Fatalf("start: %v", err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(fout.String(), "tick-4") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(fout.String(), "tick-4") {
		t.Errorf("logs -f lacks the hook's last line: %q", fout.String())
	}
	must(t, follow.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- follow.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("logs -f after Ctrl-C: %v\n%s", err, ferr.String())
		}
	case <-time.After(30 * time.Second):
		t.Error("logs -f did not end on Ctrl-C")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
