package bridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/protocol"
)

// hostBusybox finds a static busybox on this machine to copy into a
// container, or skips.
func hostBusybox(t testing.TB) []byte {
	t.Helper()
	p, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("no busybox on this machine to serve HTTP in a container (install busybox-static)")
	}
	data, err := os.ReadFile(p)
	must(t, err)
	return data
}

// startHTTPD serves page as index.html on port in a running workspace with
// busybox httpd, which runs in the background.
func startHTTPD(t testing.TB, m *workspace.Manager, name string, busybox []byte, port, page string) {
	t.Helper()
	ctx := context.Background()
	must(t, m.CopyFile(ctx, name, "/tmp/busybox", busybox, 0o755))
	www := "/tmp/www-" + port
	var out bytes.Buffer
	code, err := m.Exec(ctx, name, workspace.ExecOptions{
		Cmd: []string{"/tmp/busybox", "sh", "-c", `mkdir -p "$1" && printf '%s' "$2" > "$1/index.html" && /tmp/busybox httpd -p "$3" -h "$1"`,
			"sh", www, page, port}, Dir: "/",
		Stdout: &out, Stderr: &out, Bare: true,
	})
	must(t, err)
	if code != 0 {
		t.Fatalf("busybox httpd: exit status %d: %s", code, out.String())
	}
}

// TestForwardPortBinary runs an HTTP server inside a workspace, finds it
// with workspace/ports, forwards it with `pitlane bridge` (which installs
// the agent on its own) and fetches a page through the forward.
func TestForwardPortBinary(t *testing.T) {
	cli := requireDocker(t)
	busybox := hostBusybox(t)
	env := newEngineEnv(t)
	m := env.manager(t, cli)
	source, _ := writeSources(t)
	tr, _ := startBinary(t, env)
	c := newClient(t, pipeRWC{chanReader(tr.msgs), tr.in})
	initialize(t, c)
	ctx := context.Background()
	name := uniqueName("ports")
	must(t, c.conn.Call(ctx, protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: name}, nil))
	startHTTPD(t, m, name, busybox, "8000", "hello through the forward\n")

	var list protocol.PortsResult
	must(t, c.conn.Call(ctx, protocol.MethodWorkspacePorts, protocol.PortsParams{Name: name}, &list))
	if p := findPort(list.Ports, 8000); p == nil || p.Source != protocol.PortDetected || p.Forwarded != nil {
		t.Fatalf("ports: %+v, want 8000 detected", list.Ports)
	}

	var fwd protocol.ForwardPortResult
	must(t, c.conn.Call(ctx, protocol.MethodWorkspaceForwardPort, protocol.ForwardPortParams{Name: name, Port: 8000}, &fwd))
	if fwd.Forwarded == nil {
		t.Fatalf("forward result %+v", fwd)
	}
	for i := range 3 {
		if got := fetch(t, fwd.Forwarded.URL); got != "hello through the forward\n" {
			t.Fatalf("fetch %d through %s: %q", i, fwd.Forwarded.URL, got)
		}
	}

	// A second server is found by the bridge's polling.
	startHTTPD(t, m, name, busybox, "8001", "second\n")
	c.waitNotify(t, time.Minute, "portsChanged with port 8001", portsChanged(name, func(ps []protocol.Port) bool {
		return findPort(ps, 8001) != nil && findPort(ps, 8000) != nil && findPort(ps, 8000).Forwarded != nil
	}))

	must(t, c.conn.Call(ctx, protocol.MethodWorkspaceStopForwarding, protocol.StopForwardingParams{Name: name, Port: 8000}, nil))
	hc := &httpClientNoKeepAlive
	if resp, err := hc.Get(fwd.Forwarded.URL); err == nil {
		resp.Body.Close()
		t.Errorf("%s still answers after stopForwarding", fwd.Forwarded.URL)
	}
}

// TestLogsFollowBinary follows a workspace's log while its
// postStartCommand writes lines, and sees them before the start ends.
func TestLogsFollowBinary(t *testing.T) {
	cli := requireDocker(t)
	env := newEngineEnv(t)
	env.manager(t, cli)
	dir := filepath.Join(t.TempDir(), "ticks")
	must(t, os.MkdirAll(filepath.Join(dir, ".devcontainer"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, ".devcontainer", "devcontainer.json"), []byte(`{"image": "pitlane/base:bookworm",
		"postStartCommand": "for i in 1 2 3 4 5 6; do echo tick $i; sleep 1; done"}`), 0o644))
	tr, _ := startBinary(t, env)
	c := newClient(t, pipeRWC{chanReader(tr.msgs), tr.in})
	initialize(t, c)
	ctx := context.Background()
	name := uniqueName("follow")
	must(t, c.conn.Call(ctx, protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: dir, Name: name}, nil))
	must(t, c.conn.Call(ctx, protocol.MethodWorkspaceStop, protocol.NameParams{Name: name}, nil))

	var logs protocol.LogsResult
	must(t, c.conn.Call(ctx, protocol.MethodWorkspaceLogs, protocol.LogsParams{Name: name, Follow: true}, &logs))
	if logs.FollowID == "" {
		t.Fatal("no followId")
	}
	start, err := c.conn.DispatchCall(ctx, protocol.MethodWorkspaceStart, protocol.StartParams{Name: name})
	must(t, err)
	// Lines of the running hook arrive while the start still runs.
	var first []string
	c.waitNotify(t, 2*time.Minute, "workspace/logAppended with a tick", func(r *jsonrpc2.Request) bool {
		var p protocol.LogAppendedParams
		if r.Method != protocol.MethodLogAppended || json.Unmarshal(*r.Params, &p) != nil || p.FollowID != logs.FollowID {
			return false
		}
		for _, l := range p.Lines {
			if strings.Contains(l, "tick 1") {
				first = p.Lines
				return true
			}
		}
		return false
	})
	c.record("tick")
	must(t, start.Wait(ctx, nil))
	c.record("started")
	ev := c.events()
	if i := indexOf(ev, "tick"); i < 0 || i > indexOf(ev, "started") {
		t.Errorf("the hook's lines came after the start ended: %q", ev)
	}
	for _, l := range first {
		if strings.Contains(l, "tick 6") {
			t.Errorf("the first batch already holds the last tick, so nothing was live: %q", first)
		}
	}
	must(t, c.conn.Call(ctx, protocol.MethodWorkspaceUnfollowLogs, protocol.UnfollowLogsParams{FollowID: logs.FollowID}, nil))
}

func indexOf(s []string, v string) int {
	for i, e := range s {
		if e == v {
			return i
		}
	}
	return -1
}
