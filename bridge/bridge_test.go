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
