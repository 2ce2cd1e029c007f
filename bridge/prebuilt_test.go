package bridge_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/protocol"
)

// TestCreateReportsPrebuiltImage prebuilds a source with the real engine,
// then creates it through the bridge: one progress report carries
// "prebuilt" with the key, and its message says so.
func TestCreateReportsPrebuiltImage(t *testing.T) {
	cli := requireDocker(t)
	env := newEngineEnv(t)
	m := env.manager(t, cli)
	src := filepath.Join(t.TempDir(), "app")
	must(t, os.MkdirAll(filepath.Join(src, ".devcontainer"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, ".devcontainer", "devcontainer.json"),
		[]byte(`{"build": {"dockerfile": "Dockerfile"}, "onCreateCommand": "touch /tmp/baked"}`), 0o644))
	must(t, os.WriteFile(filepath.Join(src, ".devcontainer", "Dockerfile"),
		[]byte("FROM pitlane/base:bookworm\nRUN echo "+uniqueName("prebuilt")+"\n"), 0o644))
	pb, err := m.Prebuild(context.Background(), workspace.PrebuildOptions{Source: src})
	must(t, err)

	c := newClient(t, inProcessConn(t, bridge.Options{Manager: m, Version: "test"}))
	initialize(t, c)
	var res protocol.CreateResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate,
		map[string]any{"workDoneToken": "pb", "source": src, "name": uniqueName("pb")}, &res))
	var found []protocol.ProgressReport
	for _, e := range c.events() {
		if !strings.HasPrefix(e, "notify $/progress ") {
			continue
		}
		var p struct {
			Value protocol.ProgressReport `json:"value"`
		}
		must(t, json.Unmarshal([]byte(strings.TrimPrefix(e, "notify $/progress ")), &p))
		if p.Value.Prebuilt != nil {
			found = append(found, p.Value)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d reports carry prebuilt, want 1", len(found))
	}
	r := found[0]
	if r.Prebuilt.Key != pb.Key || r.Prebuilt.Image != pb.Image || r.Prebuilt.Built.IsZero() ||
		strings.Join(r.Prebuilt.Baked, ",") != "onCreateCommand,updateContentCommand" ||
		!strings.HasPrefix(r.Message, "Using prebuilt image "+pb.Key[:12]) {
		t.Errorf("report = %+v, prebuilt %+v; prebuild made %+v", r, r.Prebuilt, pb)
	}
}
