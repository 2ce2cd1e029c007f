package agent_test

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/workspace"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// processes counts the processes in the workspace whose command line
// holds marker. The pattern is bracketed so the counting command does not
// count itself.
func (e *testEnv) processes(t *testing.T, marker string) int {
	t.Helper()
	pattern := marker[:1] + "[" + marker[1:2] + "]" + marker[2:]
	var out bytes.Buffer
	code, err := e.mgr.Exec(context.Background(), e.name, workspace.ExecOptions{
		Cmd:  []string{"sh", "-c", `grep -ls -e "$1" /proc/[0-9]*/cmdline | wc -l`, "sh", pattern},
		User: "root", Dir: "/", Stdout: &out, Bare: true,
	})
	if err != nil || code != 0 {
		t.Fatalf("counting processes: %d %v", code, err)
	}
	var n int
	for _, c := range strings.TrimSpace(out.String()) {
		n = n*10 + int(c-'0')
	}
	return n
}

// agentMarker is in the command line of every agent serving SSH.
const agentMarker = "--stdio"

// TestResumedConnection is a laptop that slept: its SSH client and
// ProxyCommand freeze with a session open, and the IDE connects again
// through a new ProxyCommand (ServerAliveInterval and ServerAliveCountMax
// in the SSH config make the client notice and give up on the dead one).
// The new connection works at once, without restarting anything, while
// the old one hangs. Once the old client is gone its agent ends, and with
// it the terminal session it served (the kernel hangs up the terminal, as
// with sshd). A command without a terminal is left running, as sshd
// does, so servers an IDE started survive a dropped connection.
func TestResumedConnection(t *testing.T) {
	e := need(t)
	for _, tc := range []struct {
		name  string
		flags []string
		ends  bool
	}{
		{"terminal", []string{"-tt"}, true},
		{"no terminal", []string{"-T"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resume(t, e, tc.flags, tc.ends)
		})
	}
}

func resume(t *testing.T, e *testEnv, flags []string, sessionEnds bool) {
	marker := "resume-" + randHex(4)
	agentsBefore := e.processes(t, agentMarker)
	args := append([]string{"-F", e.cfg, "-o", "BatchMode=yes"}, flags...)
	old := exec.Command("ssh", append(args, e.host(), "echo started; sleep 600; echo "+marker)...)
	old.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out syncBuffer
	old.Stdout, old.Stderr = &out, &out
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			syscall.Kill(-old.Process.Pid, syscall.SIGKILL)
			old.Wait()
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), "started") {
		if time.Now().After(deadline) {
			t.Fatalf("the first session did not start: %q", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := e.processes(t, marker); n == 0 {
		t.Fatal("the first session's process is not in the container")
	}

	// The laptop sleeps: the old client and its ProxyCommand freeze.
	if err := syscall.Kill(-old.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	again, err := exec.CommandContext(ctx, "ssh", "-F", e.cfg, "-o", "BatchMode=yes", e.host(), "echo again").CombinedOutput()
	if err != nil || string(again) != "again\n" {
		t.Fatalf("a new connection while the old one hangs: %v: %q", err, again)
	}

	// The old client is gone for good.
	syscall.Kill(-old.Process.Pid, syscall.SIGKILL)
	old.Wait()
	killed = true
	deadline = time.Now().Add(time.Minute)
	for e.processes(t, agentMarker) > agentsBefore {
		if time.Now().After(deadline) {
			t.Fatal("the dead connection's agent still runs in the container a minute after its client died")
		}
		time.Sleep(500 * time.Millisecond)
	}
	if sessionEnds {
		for e.processes(t, marker) != 0 {
			if time.Now().After(deadline) {
				t.Fatal("the dead connection's terminal session still runs a minute after its client died")
			}
			time.Sleep(500 * time.Millisecond)
		}
	} else if e.processes(t, marker) == 0 {
		t.Error("a command without a terminal ended with its connection; sshd leaves it running")
	} else {
		pattern := marker[:1] + "[" + marker[1:2] + "]" + marker[2:]
		e.mgr.Exec(ctx, e.name, workspace.ExecOptions{
			Cmd:  []string{"sh", "-c", `for p in /proc/[0-9]*; do grep -qs -e "$1" $p/cmdline && kill ${p#/proc/}; done; true`, "sh", pattern},
			User: "root", Dir: "/", Bare: true,
		})
	}
	again, err = exec.CommandContext(ctx, "ssh", "-F", e.cfg, "-o", "BatchMode=yes", e.host(), "echo after").CombinedOutput()
	if err != nil || string(again) != "after\n" {
		t.Fatalf("a connection after the old one died: %v: %q", err, again)
	}
}
