package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/protocol"
)

// TestProgressOrder checks that a create's progress comes as begin,
// reports with steps and output lines, end, and only then the response.
func TestProgressOrder(t *testing.T) {
	source, _ := writeSources(t)
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(t.TempDir())}))
	initialize(t, c)
	var res protocol.CreateResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate,
		map[string]any{"workDoneToken": 7, "source": source, "name": "demo"}, &res))
	c.record("reply")
	var kinds []string
	for _, e := range c.events() {
		switch {
		case e == "reply":
			kinds = append(kinds, "reply")
		case strings.HasPrefix(e, "notify $/progress "):
			var p struct {
				Token int                     `json:"token"`
				Value protocol.ProgressReport `json:"value"`
			}
			must(t, json.Unmarshal([]byte(strings.TrimPrefix(e, "notify $/progress ")), &p))
			if p.Token != 7 {
				t.Errorf("token %d, want 7", p.Token)
			}
			k := string(p.Value.Kind)
			if p.Value.Output != "" {
				k += "+output(" + p.Value.Message + ")"
			}
			kinds = append(kinds, k)
		}
	}
	got := strings.Join(kinds, " ")
	want := "begin report report report+output(Building image) report+output(Building image) report end reply"
	if got != want {
		t.Errorf("sequence:\n got %s\nwant %s", got, want)
	}
	if res.Workspace.Name != "demo" || res.Workspace.State != protocol.StateRunning {
		t.Errorf("result %+v", res.Workspace)
	}
}

// TestNoProgressWithoutToken checks that a create without a token sends
// no $/progress.
func TestNoProgressWithoutToken(t *testing.T) {
	source, _ := writeSources(t)
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(t.TempDir())}))
	initialize(t, c)
	var res protocol.CreateResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: "demo"}, &res))
	for _, e := range c.events() {
		if strings.HasPrefix(e, "notify $/progress") {
			t.Errorf("unexpected %s", e)
		}
	}
}

type fakeTelemetry struct {
	client       string
	setting, ide bool
	// forcedOff stands for an environment override such as DO_NOT_TRACK.
	forcedOff bool
	err       error
	opened    []string
}

// Enabled follows the two switches unless forced off, as the real
// recorder does.
func (f *fakeTelemetry) Enabled() bool      { return f.setting && f.ide && !f.forcedOff }
func (f *fakeTelemetry) IDEOpened(i string) { f.opened = append(f.opened, i) }

func (f *fakeTelemetry) SetClient(name string) { f.client = name }
func (f *fakeTelemetry) SetIDEConsent(s, i bool) error {
	f.setting, f.ide = s, i
	return f.err
}

// TestTelemetry checks that the client name and both consent switches
// reach telemetry, and that a failure to save is an error.
func TestTelemetry(t *testing.T) {
	tel := &fakeTelemetry{}
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(t.TempDir()), Telemetry: tel}))
	var init protocol.InitializeResult
	must(t, c.conn.Call(context.Background(), protocol.MethodInitialize,
		protocol.InitializeParams{ProtocolVersion: 1, ClientInfo: protocol.ClientInfo{Name: "jetbrains"}}, &init))
	if tel.client != "jetbrains" {
		t.Errorf("client %q, want jetbrains", tel.client)
	}
	for _, tc := range []struct{ setting, ide, forcedOff, want bool }{
		{true, true, false, true}, {true, false, false, false}, {false, true, false, false},
		// The answer is what telemetry says, not the two switches alone.
		{true, true, true, false},
	} {
		tel.forcedOff = tc.forcedOff
		var res protocol.SetConsentResult
		must(t, c.conn.Call(context.Background(), protocol.MethodTelemetrySetConsent,
			protocol.SetConsentParams{Enabled: tc.setting, IDETelemetryEnabled: tc.ide}, &res))
		if res.Effective != tc.want || tel.setting != tc.setting || tel.ide != tc.ide {
			t.Errorf("setConsent(%v, %v): effective %v, telemetry saw (%v, %v)", tc.setting, tc.ide, res.Effective, tel.setting, tel.ide)
		}
	}
	tel.err = errors.New("disk full")
	err := c.conn.Call(context.Background(), protocol.MethodTelemetrySetConsent, protocol.SetConsentParams{Enabled: true}, nil)
	var re *jsonrpc2.Error
	if !errors.As(err, &re) || re.Code != protocol.CodeInternalError || !strings.Contains(re.Message, "disk full") {
		t.Errorf("got %v, want an internal error that says why", err)
	}
}

// TestUnsupportedVersion checks the version negotiation.
func TestUnsupportedVersion(t *testing.T) {
	for _, tc := range []struct{ client, want int }{{1, 1}, {7, protocol.Version}, {0, protocol.Version}} {
		c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(t.TempDir())}))
		var res protocol.InitializeResult
		must(t, c.conn.Call(context.Background(), protocol.MethodInitialize, protocol.InitializeParams{ProtocolVersion: tc.client}, &res))
		if res.ProtocolVersion != tc.want {
			t.Errorf("client %d: got version %d, want %d", tc.client, res.ProtocolVersion, tc.want)
		}
	}
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(t.TempDir())}))
	err := c.conn.Call(context.Background(), protocol.MethodInitialize, protocol.InitializeParams{ProtocolVersion: -1}, nil)
	var re *jsonrpc2.Error
	if !errors.As(err, &re) || re.Code != protocol.CodeUnsupportedVersion {
		t.Errorf("version -1: got %v, want code %d", err, protocol.CodeUnsupportedVersion)
	}
}

// TestCreatePassesDotfiles checks that the IDE's dotfiles setting reaches
// the engine, and that its absence stays absent (the default applies).
func TestCreatePassesDotfiles(t *testing.T) {
	source, _ := writeSources(t)
	f := newFakeManager(t.TempDir())
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: f}))
	initialize(t, c)
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{
		Source: source, Name: "dots", Dotfiles: &protocol.Dotfiles{Repository: "me/dotfiles", Script: "bin/setup"},
	}, nil))
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: "plain"}, nil))
	if len(f.created) != 2 {
		t.Fatalf("%d creates", len(f.created))
	}
	if d := f.created[0].Dotfiles; d == nil || d.Repository != "me/dotfiles" || d.Script != "bin/setup" {
		t.Errorf("dotfiles reached the engine as %+v", d)
	}
	if d := f.created[1].Dotfiles; d != nil {
		t.Errorf("a create without dotfiles passed %+v", d)
	}
}

// TestPanicInHandlerKeepsServing: a handler that panics answers its own
// request with an internal error; the bridge goes on serving.
func TestPanicInHandlerKeepsServing(t *testing.T) {
	dir := t.TempDir()
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(dir)}))
	initialize(t, c)
	err := c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: dir + "/panic", Name: "boom"}, nil)
	var re *jsonrpc2.Error
	if !errors.As(err, &re) || re.Code != protocol.CodeInternalError || !strings.Contains(re.Message, "a bug in the engine") {
		t.Fatalf("err = %v, want an internal error naming the panic", err)
	}
	var list protocol.ListResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceList, nil, &list))
}

// TestTrustRequiredCarriesTheList: a create whose configuration needs
// trust fails with CodeTrustRequired and the list; the same request with
// trust succeeds.
func TestTrustRequiredCarriesTheList(t *testing.T) {
	dir := t.TempDir()
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(dir)}))
	initialize(t, c)
	params := protocol.CreateParams{Source: dir + "/untrusted", Name: "stranger"}
	err := c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, params, nil)
	var re *jsonrpc2.Error
	if !errors.As(err, &re) || re.Code != protocol.CodeTrustRequired || re.Data == nil {
		t.Fatalf("err = %v, want CodeTrustRequired with data", err)
	}
	var data protocol.ErrorData
	must(t, json.Unmarshal(*re.Data, &data))
	if data.Workspace != "stranger" || data.Trust == nil || len(data.Trust.Items) != 1 || data.Trust.Items[0].Kind != "initializeCommand" || data.Trust.Items[0].Detail != "./prepare.sh" {
		t.Fatalf("data = %+v", data)
	}
	params.Trust = true
	var res protocol.CreateResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, params, &res))
	if res.Workspace.Name != "stranger" {
		t.Errorf("result = %+v", res.Workspace)
	}
}

// TestDeleteUnsavedWork: a delete that would lose work fails with
// CodeUnsavedWork and what would be lost; discardChanges deletes.
func TestDeleteUnsavedWork(t *testing.T) {
	dir := t.TempDir()
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(dir)}))
	initialize(t, c)
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: dir + "/dirty", Name: "dirty"}, nil))
	err := c.conn.Call(context.Background(), protocol.MethodWorkspaceDelete, protocol.DeleteParams{Name: "dirty"}, nil)
	var re *jsonrpc2.Error
	if !errors.As(err, &re) || re.Code != protocol.CodeUnsavedWork || re.Data == nil {
		t.Fatalf("err = %v, want CodeUnsavedWork with data", err)
	}
	var data protocol.ErrorData
	must(t, json.Unmarshal(*re.Data, &data))
	if u := data.Unsaved; u == nil || len(u.Changes) != 1 || len(u.Unpushed) != 1 || u.Summary != "1 uncommitted change and 1 commit on no remote" {
		t.Fatalf("data = %+v", data.Unsaved)
	}
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceDelete, protocol.DeleteParams{Name: "dirty", DiscardChanges: true}, nil))
}

// TestRequestsAreBounded: with every turn taken and the queue full, a
// request fails at once with CodeBusy instead of piling up; once the
// long one ends, requests run again.
func TestRequestsAreBounded(t *testing.T) {
	dir := t.TempDir()
	fm := newFakeManager(dir)
	fm.createStarted = make(chan struct{})
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: fm, MaxConcurrent: 1, MaxPending: 1}))
	initialize(t, c)
	w, err := c.conn.DispatchCall(context.Background(), protocol.MethodWorkspaceCreate,
		protocol.CreateParams{Source: dir + "/slow", Name: "slow"}, jsonrpc2.PickID(jsonrpc2.ID{Num: 42}))
	must(t, err)
	<-fm.createStarted
	err = c.conn.Call(context.Background(), protocol.MethodWorkspaceList, nil, nil)
	var re *jsonrpc2.Error
	if !errors.As(err, &re) || re.Code != protocol.CodeBusy {
		t.Fatalf("a request beyond the bound: %v, want CodeBusy", err)
	}
	must(t, c.conn.Notify(context.Background(), protocol.MethodCancelRequest, map[string]any{"id": 42}))
	if err := w.Wait(context.Background(), nil); !errors.As(err, &re) || re.Code != protocol.CodeRequestCancelled {
		t.Fatalf("the long request: %v", err)
	}
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceList, nil, nil))
}
