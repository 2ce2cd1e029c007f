package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/internal/docker"
	"github.com/pitlane/pitlane/internal/testenv"
	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/protocol"
)

// Tests in this file use the real engine and the real Docker engine. They
// skip when no Docker engine answers, unless PITLANE_REQUIRE_DOCKER=1.

func requireDocker(t testing.TB) *docker.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := docker.New(ctx)
	if err != nil {
		if os.Getenv("PITLANE_REQUIRE_DOCKER") == "1" {
			t.Fatalf("PITLANE_REQUIRE_DOCKER=1 but no Docker engine answers: %v", err)
		}
		t.Skipf("no Docker engine answers (set PITLANE_REQUIRE_DOCKER=1 to make this a failure): %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// engineEnv is an isolated Pitlane environment: its own instance label and
// data, config and home folders.
type engineEnv struct {
	instance, data, config, home string
	// extra environment entries, applied last.
	extra []string
}

func newEngineEnv(t testing.TB) *engineEnv {
	dir := t.TempDir()
	e := &engineEnv{
		instance: fmt.Sprintf("bridge-test-%d-%d", os.Getpid(), time.Now().UnixNano()),
		data:     filepath.Join(dir, "data"),
		config:   filepath.Join(dir, "config"),
		home:     filepath.Join(dir, "home"),
	}
	for _, d := range []string{e.data, e.config, e.home} {
		must(t, os.MkdirAll(d, 0o755))
	}
	return e
}

func (e *engineEnv) environ() []string {
	env := os.Environ()
	env = append(env, "PITLANE_INSTANCE="+e.instance, "XDG_DATA_HOME="+e.data,
		"XDG_CONFIG_HOME="+e.config, "HOME="+e.home)
	return append(env, e.extra...)
}

// manager returns a real Manager for the environment and deletes every
// workspace of the instance when the test ends.
func (e *engineEnv) manager(t testing.TB, cli *docker.Client) *workspace.Manager {
	m := workspace.NewManager(cli, workspace.Options{DataDir: filepath.Join(e.data, "pitlane"), Instance: e.instance})
	testenv.RemoveInstance(t, cli, e.instance)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		wss, err := m.List(ctx)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		for _, ws := range wss {
			if err := m.Delete(ctx, ws.Name, workspace.DeleteOptions{DiscardChanges: true}); err != nil {
				t.Logf("cleanup: deleting %s: %v", ws.Name, err)
			}
		}
	})
	return m
}

// pitlaneBinary builds cmd/pitlane once per test run (or uses PITLANE_BIN).
func pitlaneBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PITLANE_BIN"); p != "" {
		return p
	}
	return testenv.Binary(t)
}

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// startBinary runs `pitlane bridge` as a child process.
func startBinary(t testing.TB, env *engineEnv) (*transport, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(pitlaneBinary(t), "bridge", "--log-file=")
	cmd.Env = env.environ()
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	var stderr strings.Builder
	cmd.Stderr = &syncWriter{w: &stderr}
	must(t, cmd.Start())
	tr := &transport{in: stdin, msgs: readMessages(stdout)}
	var once sync.Once
	code := 0
	tr.wait = func() int {
		once.Do(func() {
			err := cmd.Wait()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				code = -1
			}
		})
		return code
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { tr.wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("bridge stderr:\n%s", stderr.String())
		}
	})
	return tr, cmd
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1_000_000_000)
}

// TestTranscriptsEngine replays every transcript in process against the
// real engine.
func TestTranscriptsEngine(t *testing.T) {
	cli := requireDocker(t)
	for _, name := range transcriptNames(t) {
		t.Run(name, func(t *testing.T) {
			env := newEngineEnv(t)
			vars := transcriptVars(t, uniqueName("tr"))
			m := env.manager(t, cli)
			tr := startInProcess(t, bridge.Options{Manager: m, Ports: enginePorts(t, m), Version: "test"})
			runTranscript(t, name, tr, vars)
		})
	}
}

// TestTranscriptsBinary replays every transcript against the built
// binary, `pitlane bridge`, as a child process.
func TestTranscriptsBinary(t *testing.T) {
	cli := requireDocker(t)
	for _, name := range transcriptNames(t) {
		t.Run(name, func(t *testing.T) {
			env := newEngineEnv(t)
			env.manager(t, cli) // cleanup only
			vars := transcriptVars(t, uniqueName("bin"))
			tr, _ := startBinary(t, env)
			runTranscript(t, name, tr, vars)
		})
	}
}

// client is a JSON-RPC client of a bridge for tests that need more than a
// transcript: it records every notification in arrival order, together with
// responses, as events.
type client struct {
	conn *jsonrpc2.Conn
	mu   sync.Mutex
	log  []string // "notify METHOD PARAMS" and "reply ID"
	ch   chan *jsonrpc2.Request
}

func newClient(t testing.TB, tr io.ReadWriteCloser) *client {
	c := &client{ch: make(chan *jsonrpc2.Request, 4096)}
	c.conn = jsonrpc2.NewConn(context.Background(), bridge.NewStream(tr, tr, tr),
		jsonrpc2.HandlerWithError(func(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
			c.record("notify " + req.Method + " " + string(*req.Params))
			c.ch <- req
			return nil, nil
		}))
	t.Cleanup(func() { c.conn.Close() })
	return c
}

func (c *client) record(s string) {
	c.mu.Lock()
	c.log = append(c.log, s)
	c.mu.Unlock()
}

func (c *client) events() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

// waitNotify waits for a notification that satisfies ok.
func (c *client) waitNotify(t testing.TB, d time.Duration, what string, ok func(*jsonrpc2.Request) bool) *jsonrpc2.Request {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case r := <-c.ch:
			if ok(r) {
				return r
			}
		case <-deadline:
			t.Fatalf("no %s within %s", what, d)
			return nil
		}
	}
}

// pipeRWC joins a reader and a writer.
type pipeRWC struct {
	io.Reader
	io.WriteCloser
}

func inProcessConn(t testing.TB, opts bridge.Options) io.ReadWriteCloser {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan struct{})
	go func() {
		bridge.New(opts).Serve(context.Background(), inR, outW)
		outW.Close()
		close(done)
	}()
	t.Cleanup(func() {
		inW.Close()
		<-done
	})
	return pipeRWC{outR, inW}
}

func initialize(t testing.TB, c *client) {
	t.Helper()
	var res protocol.InitializeResult
	err := c.conn.Call(context.Background(), protocol.MethodInitialize,
		protocol.InitializeParams{ProtocolVersion: protocol.Version, ClientInfo: protocol.ClientInfo{Name: "vscode"}}, &res)
	must(t, err)
}

func isBuildOutput(token string) func(*jsonrpc2.Request) bool {
	return func(r *jsonrpc2.Request) bool {
		if r.Method != protocol.MethodProgress {
			return false
		}
		var p struct {
			Token string          `json:"token"`
			Value json.RawMessage `json:"value"`
		}
		var rep protocol.ProgressReport
		return json.Unmarshal(*r.Params, &p) == nil && p.Token == token &&
			json.Unmarshal(p.Value, &rep) == nil && strings.TrimSpace(rep.Output) == "building"
	}
}

// noContainers fails if any container of the instance is left.
func noContainers(t testing.TB, cli *docker.Client, instance string) {
	t.Helper()
	cs, err := cli.List(context.Background(), workspace.LabelInstance+"="+instance)
	must(t, err)
	if len(cs) != 0 {
		t.Errorf("%d container(s) left behind after a cancelled create: %+v", len(cs), cs)
	}
}

// TestCreateCancelMidBuild cancels a create while `docker build` runs a
// slow RUN step, and checks the order of progress and response and that
// nothing is left behind.
func TestCreateCancelMidBuild(t *testing.T) {
	cli := requireDocker(t)
	env := newEngineEnv(t)
	m := env.manager(t, cli)
	_, slow := writeSources(t)
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: m}))
	initialize(t, c)

	name := uniqueName("cancel")
	id := jsonrpc2.ID{Num: 42}
	w, err := c.conn.DispatchCall(context.Background(), protocol.MethodWorkspaceCreate,
		map[string]any{"workDoneToken": "tok", "source": slow, "name": name}, jsonrpc2.PickID(id))
	must(t, err)
	c.waitNotify(t, 2*time.Minute, "build output", isBuildOutput("tok"))

	// list is answered while the create runs.
	var list protocol.ListResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceList, nil, &list))

	must(t, c.conn.Notify(context.Background(), protocol.MethodCancelRequest, map[string]any{"id": 42}))
	err = w.Wait(context.Background(), nil)
	var rpcErr *jsonrpc2.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != protocol.CodeRequestCancelled {
		t.Fatalf("create after cancel: got %v, want code %d", err, protocol.CodeRequestCancelled)
	}
	c.record("reply")
	// The end of the progress comes before the response.
	ev := c.events()
	endAt, replyAt := -1, -1
	for i, e := range ev {
		if strings.HasPrefix(e, "notify $/progress") && strings.Contains(e, `"kind":"end"`) {
			endAt = i
		}
		if e == "reply" {
			replyAt = i
		}
	}
	if endAt < 0 || endAt > replyAt {
		t.Errorf("progress end (%d) must come before the response (%d): %q", endAt, replyAt, ev)
	}
	wss, err := m.List(context.Background())
	must(t, err)
	if len(wss) != 0 {
		t.Errorf("workspaces left after a cancelled create: %v", wss)
	}
	noContainers(t, cli, env.instance)
}

// TestClientDiesMidCreate closes the bridge's standard input while a create
// builds: the bridge cancels the create, cleans up and exits 0.
func TestClientDiesMidCreate(t *testing.T) {
	cli := requireDocker(t)
	env := newEngineEnv(t)
	env.manager(t, cli)
	_, slow := writeSources(t)
	tr, cmd := startBinary(t, env)
	c := newClient(t, pipeRWC{chanReader(tr.msgs), tr.in})
	initialize(t, c)
	_, err := c.conn.DispatchCall(context.Background(), protocol.MethodWorkspaceCreate,
		map[string]any{"workDoneToken": "tok", "source": slow, "name": uniqueName("dies")})
	must(t, err)
	c.waitNotify(t, 2*time.Minute, "build output", isBuildOutput("tok"))
	tr.in.Close()
	done := make(chan int)
	go func() { done <- tr.wait() }()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("bridge exit code %d after end of input, want 0", code)
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the bridge did not exit after its input closed")
	}
	noContainers(t, cli, env.instance)
}

// TestCLIStopNotifies stops a workspace with `pitlane stop` in another
// process; the bridge reports it with workspace/didChange.
func TestCLIStopNotifies(t *testing.T) {
	cli := requireDocker(t)
	env := newEngineEnv(t)
	env.manager(t, cli)
	source, _ := writeSources(t)
	tr, _ := startBinary(t, env)
	c := newClient(t, pipeRWC{chanReader(tr.msgs), tr.in})
	initialize(t, c)
	name := uniqueName("cli")
	var res protocol.CreateResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: name}, &res))

	cmd := exec.Command(pitlaneBinary(t), "stop", name)
	cmd.Env = env.environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pitlane stop: %v\n%s", err, out)
	}
	c.waitNotify(t, time.Minute, "workspace/didChange with state stopped", func(r *jsonrpc2.Request) bool {
		var p protocol.DidChangeParams
		return r.Method == protocol.MethodDidChange && json.Unmarshal(*r.Params, &p) == nil &&
			p.Name == name && p.Workspace != nil && p.Workspace.State == protocol.StateStopped
	})
}

// chanReader turns the transport's message channel back into a framed
// byte stream for a jsonrpc2 client.
func chanReader(msgs <-chan json.RawMessage) io.Reader {
	r, w := io.Pipe()
	go func() {
		for m := range msgs {
			fmt.Fprintf(w, "Content-Length: %d\r\n\r\n%s", len(m), m)
		}
		w.Close()
	}()
	return r
}
