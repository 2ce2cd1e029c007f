package bridge_test

import (
	"context"
	"testing"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/protocol"
)

// TestOpenCountsIDE checks that a successful workspace/open reaches
// telemetry with the IDE that was opened.
func TestOpenCountsIDE(t *testing.T) {
	source, _ := writeSources(t)
	tel := &fakeTelemetry{}
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(t.TempDir()), Telemetry: tel}))
	initialize(t, c)
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: "demo"}, nil))
	var res protocol.OpenResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceOpen, protocol.OpenParams{Name: "demo", IDE: "vscode"}, &res))
	if len(tel.opened) != 1 || tel.opened[0] != "vscode" {
		t.Errorf("telemetry saw opens %q, want [vscode]", tel.opened)
	}
}

// TestBinaryConsentHonoursEnvironment runs the real bridge binary: an IDE
// that says yes twice still gets "off" back when DO_NOT_TRACK is set, and
// "on" when nothing overrides it.
func TestBinaryConsentHonoursEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want bool
	}{
		{"DO_NOT_TRACK", []string{"DO_NOT_TRACK=1"}, false},
		{"PITLANE_TELEMETRY=off", []string{"DO_NOT_TRACK=", "PITLANE_TELEMETRY=off"}, false},
		{"no override", []string{"DO_NOT_TRACK=", "PITLANE_TELEMETRY="}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEngineEnv(t)
			env.extra = append([]string{"PITLANE_TELEMETRY_ENDPOINT=http://127.0.0.1:9/v1/metrics"}, tc.env...)
			tr, _ := startBinary(t, env)
			c := newClient(t, pipeRWC{chanReader(tr.msgs), tr.in})
			var init protocol.InitializeResult
			must(t, c.conn.Call(context.Background(), protocol.MethodInitialize,
				protocol.InitializeParams{ProtocolVersion: protocol.Version, ClientInfo: protocol.ClientInfo{Name: "vscode"}}, &init))
			var res protocol.SetConsentResult
			must(t, c.conn.Call(context.Background(), protocol.MethodTelemetrySetConsent,
				protocol.SetConsentParams{Enabled: true, IDETelemetryEnabled: true}, &res))
			if res.Effective != tc.want {
				t.Errorf("effective = %v, want %v", res.Effective, tc.want)
			}
		})
	}
}
