package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/internal/ports"
	"github.com/pitlane/pitlane/protocol"
)

var httpClientNoKeepAlive = http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// fetch GETs url and returns the body.
func fetch(t testing.TB, url string) string {
	t.Helper()
	resp, err := httpClientNoKeepAlive.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return string(b)
}

func portsChanged(name string, ok func([]protocol.Port) bool) func(*jsonrpc2.Request) bool {
	return func(r *jsonrpc2.Request) bool {
		var p protocol.PortsChangedParams
		return r.Method == protocol.MethodPortsChanged && json.Unmarshal(*r.Params, &p) == nil && p.Name == name && p.Ports != nil && ok(p.Ports)
	}
}

func findPort(ps []protocol.Port, n int) *protocol.Port {
	for i := range ps {
		if ps[i].Port == n {
			return &ps[i]
		}
	}
	return nil
}

func TestPortsFake(t *testing.T) {
	source, _ := writeSources(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello from the workspace") }))
	defer srv.Close()
	fp := newFakePorts()
	fp.configured["demo"] = []ports.Port{{Number: 3000, Label: "web", Source: ports.SourceForwardPorts}, {Number: 5432, Source: ports.SourceAppPort}}
	fp.listening["demo"] = []int{9229, 3000}
	// The workspace's port 3000 is a local test server, reached on
	// whichever local port the forward gets.
	fp.targets[3000] = srv.Listener.Addr().String()
	fm := newFakeManager(t.TempDir())
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: fm, Ports: fp, PortsInterval: 20 * time.Millisecond}))
	initialize(t, c)
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: "demo"}, nil))

	var list protocol.PortsResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspacePorts, protocol.PortsParams{Name: "demo"}, &list))
	want := []protocol.Port{
		{Port: 3000, Label: "web", Source: protocol.PortForwardPorts, Protocol: "tcp"},
		{Port: 5432, Source: protocol.PortAppPort, Protocol: "tcp"},
		{Port: 9229, Source: protocol.PortDetected, Protocol: "tcp"},
	}
	if got, _ := json.Marshal(list.Ports); string(got) != mustJSON(want) {
		t.Errorf("ports:\n got %s\nwant %s", got, mustJSON(want))
	}

	// Keep local port 3000 busy when it is free, so the forward has to
	// move; when something else holds it, it moves anyway.
	if l, err := net.Listen("tcp", "127.0.0.1:3000"); err == nil {
		defer l.Close()
	}
	var fwd protocol.ForwardPortResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceForwardPort, protocol.ForwardPortParams{Name: "demo", Port: 3000}, &fwd))
	if fwd.Forwarded == nil || fwd.Forwarded.LocalPort == 3000 || fwd.Forwarded.LocalPort == 0 {
		t.Fatalf("forward of a busy local port: %+v", fwd)
	}
	if wantMsg := fmt.Sprintf("local port 3000 is busy; forwarded to %d", fwd.Forwarded.LocalPort); fwd.Message != wantMsg {
		t.Errorf("message %q, want %q", fwd.Message, wantMsg)
	}
	if fwd.Label != "web" || fwd.Source != protocol.PortForwardPorts {
		t.Errorf("forward result %+v", fwd)
	}
	if want := fmt.Sprintf("http://127.0.0.1:%d/", fwd.Forwarded.LocalPort); fwd.Forwarded.URL != want {
		t.Errorf("url %q, want %q", fwd.Forwarded.URL, want)
	}
	c.waitNotify(t, 5*time.Second, "portsChanged with the forward", portsChanged("demo", func(ps []protocol.Port) bool {
		p := findPort(ps, 3000)
		return p != nil && p.Forwarded != nil && p.Forwarded.LocalPort == fwd.Forwarded.LocalPort
	}))
	if got := fetch(t, fwd.Forwarded.URL); got != "hello from the workspace" {
		t.Errorf("through the forward: %q", got)
	}
	// Forwarding again returns the same forward.
	var again protocol.ForwardPortResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceForwardPort, protocol.ForwardPortParams{Name: "demo", Port: 3000}, &again))
	if again.Forwarded == nil || again.Forwarded.LocalPort != fwd.Forwarded.LocalPort || again.Message != "" {
		t.Errorf("second forward %+v, want the first one", again)
	}

	// A new listening port inside is reported.
	fp.setListening("demo", 3000, 8080, 9229)
	c.waitNotify(t, 5*time.Second, "portsChanged with port 8080", portsChanged("demo", func(ps []protocol.Port) bool {
		p := findPort(ps, 8080)
		return p != nil && p.Source == protocol.PortDetected && findPort(ps, 3000).Forwarded != nil
	}))

	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceStopForwarding, protocol.StopForwardingParams{Name: "demo", Port: 3000}, nil))
	c.waitNotify(t, 5*time.Second, "portsChanged without the forward", portsChanged("demo", func(ps []protocol.Port) bool {
		p := findPort(ps, 3000)
		return p != nil && p.Forwarded == nil
	}))
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", fwd.Forwarded.LocalPort), time.Second); err == nil {
		conn.Close()
		t.Errorf("local port %d still accepts after stopForwarding", fwd.Forwarded.LocalPort)
	}
	// Stopping what is not forwarded is not an error.
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceStopForwarding, protocol.StopForwardingParams{Name: "demo", Port: 3000}, nil))
}

// TestPortsPollReadsConfigOncePerContainer checks that the poller reads a
// workspace's configured ports again only for a new container: between
// rebuilds only the listening ports change.
func TestPortsPollReadsConfigOncePerContainer(t *testing.T) {
	source, _ := writeSources(t)
	fp := newFakePorts()
	fp.configured["demo"] = []ports.Port{{Number: 3000, Source: ports.SourceForwardPorts}}
	fm := newFakeManager(t.TempDir())
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: fm, Ports: fp, PortsInterval: 10 * time.Millisecond}))
	initialize(t, c)
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: "demo"}, nil))
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspacePorts, protocol.PortsParams{Name: "demo"}, &protocol.PortsResult{}))

	// Several polls see listening ports come and go.
	for _, p := range []int{8080, 8081, 8082} {
		fp.setListening("demo", p)
		c.waitNotify(t, 5*time.Second, fmt.Sprintf("portsChanged with port %d", p), portsChanged("demo", func(ps []protocol.Port) bool {
			return findPort(ps, p) != nil
		}))
	}
	fp.mu.Lock()
	reads := fp.configReads
	fp.configured["demo"] = []ports.Port{{Number: 4000, Source: ports.SourceForwardPorts}}
	fp.mu.Unlock()
	if reads != 1 {
		t.Errorf("the configured ports were read %d times for one container, want once", reads)
	}

	// A rebuild makes a new container, whose configuration is read again.
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceRebuild, protocol.RebuildParams{Name: "demo"}, nil))
	c.waitNotify(t, 5*time.Second, "portsChanged with the rebuilt configuration", portsChanged("demo", func(ps []protocol.Port) bool {
		return findPort(ps, 4000) != nil && findPort(ps, 3000) == nil
	}))
}

func TestForwardPortExplicitLocalPort(t *testing.T) {
	source, _ := writeSources(t)
	fp := newFakePorts()
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(t.TempDir()), Ports: fp}))
	initialize(t, c)
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: "demo"}, nil))
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	// An explicit local port that is busy fails and says so.
	err = c.conn.Call(context.Background(), protocol.MethodWorkspaceForwardPort, protocol.ForwardPortParams{Name: "demo", Port: 8080, LocalPort: busyPort}, nil)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(busyPort)) {
		t.Errorf("forward to a busy explicit port: %v", err)
	}
	// A port nothing listens on is listed while forwarded, so it can be
	// stopped; a connection to it is closed.
	var fwd protocol.ForwardPortResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceForwardPort, protocol.ForwardPortParams{Name: "demo", Port: 8080}, &fwd))
	if fwd.Port.Port != 8080 || fwd.Source != protocol.PortDetected || fwd.Forwarded == nil {
		t.Errorf("forward of a quiet port: %+v", fwd)
	}
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", fwd.Forwarded.LocalPort))
	must(t, err)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read from a forward of a quiet port: %d, %v", n, err)
	}
	conn.Close()
	c.waitNotify(t, 5*time.Second, "a logMessage about the failed connection", func(r *jsonrpc2.Request) bool {
		return r.Method == protocol.MethodLogMessage && strings.Contains(string(*r.Params), "port 8080")
	})

	// Bad params and unknown workspaces.
	for _, tc := range []struct {
		params any
		code   int64
	}{
		{protocol.ForwardPortParams{Name: "demo", Port: 0}, protocol.CodeInvalidParams},
		{protocol.ForwardPortParams{Name: "demo", Port: 70000}, protocol.CodeInvalidParams},
		{protocol.ForwardPortParams{Name: "demo", Port: 80, LocalPort: -1}, protocol.CodeInvalidParams},
		{protocol.ForwardPortParams{Name: "nope", Port: 80}, protocol.CodeNotFound},
	} {
		err := c.conn.Call(context.Background(), protocol.MethodWorkspaceForwardPort, tc.params, nil)
		var re *jsonrpc2.Error
		if !errors.As(err, &re) || re.Code != tc.code {
			t.Errorf("forwardPort %+v: %v, want code %d", tc.params, err, tc.code)
		}
	}
	// A stopped workspace cannot be forwarded.
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceStop, protocol.NameParams{Name: "demo"}, nil))
	if err := c.conn.Call(context.Background(), protocol.MethodWorkspaceForwardPort, protocol.ForwardPortParams{Name: "demo", Port: 9000}, nil); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("forward in a stopped workspace: %v", err)
	}
}

// TestForwardsEndWithTheBridge checks that shutdown and a deleted
// workspace close the forwards.
func TestForwardsEndWithTheBridge(t *testing.T) {
	source, _ := writeSources(t)
	fp := newFakePorts()
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(t.TempDir()), Ports: fp}))
	initialize(t, c)
	for _, n := range []string{"one", "two"} {
		must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: n}, nil))
	}
	local := map[string]int{}
	for _, n := range []string{"one", "two"} {
		var fwd protocol.ForwardPortResult
		must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceForwardPort, protocol.ForwardPortParams{Name: n, Port: 8080}, &fwd))
		local[n] = fwd.Forwarded.LocalPort
	}
	if local["one"] == local["two"] {
		t.Fatalf("two forwards share local port %d", local["one"])
	}
	listening := func(n string) bool {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", local[n]), time.Second)
		if err == nil {
			conn.Close()
		}
		return err == nil
	}
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceDelete, protocol.DeleteParams{Name: "one"}, nil))
	deadline := time.Now().Add(5 * time.Second)
	for listening("one") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if listening("one") {
		t.Error("the forward of a deleted workspace still listens")
	}
	if !listening("two") {
		t.Error("the forward of another workspace stopped")
	}
	must(t, c.conn.Call(context.Background(), protocol.MethodShutdown, nil, nil))
	if listening("two") {
		t.Error("a forward still listens after shutdown")
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
