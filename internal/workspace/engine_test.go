package workspace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pitlane/pitlane/internal/runtime"
)

// These tests run the engine over the in-memory fake runtime: they check
// its decisions (steps, roll-back, states), not Docker's behaviour, which
// the integration tests cover.

func TestFakeCreateRunsStepsInOrder(t *testing.T) {
	m, rt := newFakeManager(t)
	src := writeConfig(t, `{
		"image": "pitlane/base:bookworm",
		"containerEnv": {"A": "1"},
		"onCreateCommand": "echo on-create",
		"updateContentCommand": "echo update",
		"postCreateCommand": "echo post-create",
		"postStartCommand": "echo post-start",
		"postAttachCommand": "echo post-attach"
	}`)
	var events []Event
	m.opts.Observer = func(ev Event) { events = append(events, ev) }
	ws, err := m.Create(context.Background(), CreateOptions{Source: src, Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if ws.State != StateRunning || ws.ConfigKind != KindDevcontainer || ws.ContainerID == "" {
		t.Errorf("workspace = %+v", ws)
	}
	want := []string{"echo on-create", "echo update", "echo post-create", "echo post-start", "echo post-attach"}
	if got := rt.commands(); !reflect.DeepEqual(got, want) {
		t.Errorf("hooks ran %q, want %q", got, want)
	}
	spec := rt.specs[ws.ContainerID]
	if spec.Labels[LabelWorkspace] != "app" || spec.Labels[LabelInstance] != "unit" {
		t.Errorf("labels = %v", spec.Labels)
	}
	if !reflect.DeepEqual(spec.Env, []string{"A=1"}) {
		t.Errorf("env = %v", spec.Env)
	}
	if len(events) != 1 || events[0].Kind != EventCreated {
		t.Errorf("events = %+v", events)
	}
	got, err := m.Get(context.Background(), "app")
	if err != nil || got.State != StateRunning {
		t.Errorf("Get = %+v, %v", got, err)
	}
}

func TestFakeCreateRollsBackEachStep(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		config   string
		breakIt  func(*fakeRuntime)
		wantStep string
	}{
		{"config", `{"image": "pitlane/base:bookworm", "waitFor": "never"}`, nil, "config"},
		{"build", `{"build": {"dockerfile": "Dockerfile"}}`, func(f *fakeRuntime) {
			f.buildFn = func(context.Context, runtime.BuildSpec) error { return boom }
		}, "build"},
		{"pull", `{"image": "example.test/missing:1"}`, nil, "build"},
		{"create", `{"image": "pitlane/base:bookworm"}`, func(f *fakeRuntime) {
			f.createFn = func(runtime.ContainerSpec) error { return boom }
		}, "container"},
		{"start", `{"image": "pitlane/base:bookworm"}`, func(f *fakeRuntime) {
			f.startFn = func(string) error { return boom }
		}, "container"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, rt := newFakeManager(t)
			if tc.breakIt != nil {
				tc.breakIt(rt)
			}
			src := writeConfig(t, tc.config)
			os.WriteFile(filepath.Join(src, ".devcontainer", "Dockerfile"), []byte("FROM pitlane/base:bookworm\n"), 0o644)
			var ev Event
			m.opts.Observer = func(e Event) { ev = e }
			_, err := m.Create(context.Background(), CreateOptions{Source: src, Name: "app"})
			if err == nil {
				t.Fatal("create succeeded")
			}
			if ev.Kind != EventCreateFailed || ev.FailedStep != tc.wantStep {
				t.Errorf("event = %s at %q, want createFailed at %q (err %v)", ev.Kind, ev.FailedStep, tc.wantStep, err)
			}
			if n := rt.containerCount(); n != 0 {
				t.Errorf("%d containers left behind", n)
			}
			if _, err := os.Stat(m.wsDir("app")); !os.IsNotExist(err) {
				t.Errorf("data folder left behind: %v", err)
			}
			// The same create works once the fault is gone.
			rt.buildFn, rt.createFn, rt.startFn = nil, nil, nil
			if tc.name == "config" || tc.name == "pull" {
				return
			}
			if _, err := m.Create(context.Background(), CreateOptions{Source: src, Name: "app"}); err != nil {
				t.Errorf("create again: %v", err)
			}
		})
	}
}

func TestFakeHookFailureKeepsWorkspace(t *testing.T) {
	m, rt := newFakeManager(t)
	rt.execFn = func(_ context.Context, _ string, spec runtime.ExecSpec) (int, error) {
		if spec.Cmd[2] == "exit 3" {
			return 3, nil
		}
		return 0, nil
	}
	src := writeConfig(t, `{"image": "pitlane/base:bookworm", "onCreateCommand": "exit 3", "postCreateCommand": "echo never"}`)
	ws, err := m.Create(context.Background(), CreateOptions{Source: src, Name: "app"})
	if !errors.Is(err, ErrHookFailed) {
		t.Fatalf("err = %v, want ErrHookFailed", err)
	}
	if ws == nil || ws.State != StateError {
		t.Fatalf("workspace = %+v", ws)
	}
	if got := rt.commands(); !reflect.DeepEqual(got, []string{"exit 3"}) {
		t.Errorf("ran %q; nothing may run after the failed hook", got)
	}
	got, err := m.Get(context.Background(), "app")
	if err != nil || got.State != StateError || got.LastError == "" {
		t.Errorf("Get = %+v, %v", got, err)
	}
}

func TestFakeCancelDuringHooksRemovesEverything(t *testing.T) {
	m, rt := newFakeManager(t)
	ctx, cancel := context.WithCancel(context.Background())
	rt.execFn = func(ctx context.Context, _ string, _ runtime.ExecSpec) (int, error) {
		cancel()
		return -1, ctx.Err()
	}
	src := writeConfig(t, `{"image": "pitlane/base:bookworm", "postCreateCommand": "sleep 100"}`)
	_, err := m.Create(ctx, CreateOptions{Source: src, Name: "app"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := rt.containerCount(); n != 0 {
		t.Errorf("%d containers left behind", n)
	}
}

func TestFakeNameTakenByForeignContainer(t *testing.T) {
	m, rt := newFakeManager(t)
	if _, err := rt.Create(context.Background(), runtime.ContainerSpec{Name: ContainerName("app"), Image: DefaultImage}); err != nil {
		t.Fatal(err)
	}
	_, err := m.Create(context.Background(), CreateOptions{Source: t.TempDir(), Name: "app"})
	if !errors.Is(err, ErrNameTaken) {
		t.Fatalf("err = %v, want ErrNameTaken", err)
	}
	if n := rt.containerCount(); n != 1 {
		t.Errorf("containers = %d; the foreign one must stay", n)
	}
}

func TestFakeRebuildFailurePutsOldContainerBack(t *testing.T) {
	m, rt := newFakeManager(t)
	src := writeConfig(t, `{"build": {"dockerfile": "Dockerfile"}}`)
	os.WriteFile(filepath.Join(src, ".devcontainer", "Dockerfile"), []byte("FROM pitlane/base:bookworm\n"), 0o644)
	ws, err := m.Create(context.Background(), CreateOptions{Source: src, Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	rt.buildFn = func(context.Context, runtime.BuildSpec) error { return errors.New("broken Dockerfile") }
	if _, err := m.Rebuild(context.Background(), "app", RebuildOptions{}); err == nil {
		t.Fatal("rebuild succeeded")
	}
	got, err := m.Get(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if got.ContainerID != ws.ContainerID || got.State != StateRunning {
		t.Errorf("after a failed rebuild: %+v, want the old container %s running", got, ws.ContainerID)
	}
}
