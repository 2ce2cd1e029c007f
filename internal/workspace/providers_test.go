package workspace

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/runtime"
)

// gitSource makes a git repository holding a devcontainer.json and
// returns its file:// URL.
func gitSource(t *testing.T, config string) string {
	t.Helper()
	dir := writeConfig(t, config)
	env := append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"commit", "-q", "-m", "init"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return "file://" + dir
}

// clonerRuntime is a fake runtime that clones sources itself, as the
// Kubernetes runtime does.
type clonerRuntime struct{ *fakeRuntime }

func (clonerRuntime) ClonesSource() bool { return true }

func newRemoteManager(t *testing.T, rt Runtime, provider string) *Manager {
	t.Helper()
	return NewManager(rt, Options{DataDir: t.TempDir(), Instance: "unit", Provider: provider, Remote: true, HostIDs: func() (int, int) { return 0, 0 }})
}

func TestRemoteRefusesLocalFolders(t *testing.T) {
	rt := newFakeRuntime()
	m := newRemoteManager(t, rt, "cluster")
	src := writeConfig(t, `{"image": "pitlane/base:bookworm"}`)
	_, err := m.Create(context.Background(), CreateOptions{Source: src, Name: "app"})
	if !errors.Is(err, ErrRemoteSource) {
		t.Fatalf("Create of a local folder on a remote provider = %v, want ErrRemoteSource", err)
	}
	for _, want := range []string{src, "cluster", "--provider docker", "git repository"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if rt.containerCount() != 0 {
		t.Errorf("%d containers left", rt.containerCount())
	}
}

func TestRemoteGitSourceIsClonedWhereTheWorkspaceRuns(t *testing.T) {
	url := gitSource(t, `{"image": "pitlane/base:bookworm", "workspaceFolder": "/work/app", "workspaceMount": "type=bind,source=${localWorkspaceFolder},target=/work/app", "hostRequirements": {"cpus": 2, "memory": "1gb", "storage": "2gb"}, "postCreateCommand": "echo made"}`)

	t.Run("engine clones", func(t *testing.T) {
		rt := newFakeRuntime()
		m := newRemoteManager(t, rt, "box")
		ws, err := m.Create(context.Background(), CreateOptions{Source: url, Name: "app"})
		if err != nil {
			t.Fatal(err)
		}
		spec := rt.specs[ws.ContainerID]
		if spec.Source == nil || spec.Source.URL != url || spec.Folder != "/work/app" {
			t.Errorf("spec source %+v, folder %q", spec.Source, spec.Folder)
		}
		if !reflect.DeepEqual(spec.Mounts, []runtime.Mount{{Type: "volume", Target: "/work/app"}}) {
			t.Errorf("mounts = %+v: want the folder on a volume of the container, not a folder of this machine", spec.Mounts)
		}
		if spec.Resources.CPUs != 2 || spec.Resources.Memory != 1<<30 || spec.Resources.Storage != 2<<30 {
			t.Errorf("resources = %+v", spec.Resources)
		}
		cmds := rt.commands()
		if len(cmds) < 2 || cmds[0] != cloneScript || cmds[len(cmds)-1] != "echo made" {
			t.Errorf("commands = %q: want the clone first, then the hooks", cmds)
		}
		if ws.Provider != "box" || spec.Labels[LabelProvider] != "box" {
			t.Errorf("provider = %q, label %q", ws.Provider, spec.Labels[LabelProvider])
		}
		if _, err := os.Stat(filepath.Join(m.wsDir("app"), "src")); err == nil {
			t.Error("a clone under src/ would be taken for the workspace's files")
		}
	})

	t.Run("runtime clones", func(t *testing.T) {
		rt := clonerRuntime{newFakeRuntime()}
		m := newRemoteManager(t, rt, "cluster")
		ws, err := m.Create(context.Background(), CreateOptions{Source: url, Name: "app"})
		if err != nil {
			t.Fatal(err)
		}
		spec := rt.specs[ws.ContainerID]
		if spec.Source == nil || spec.Mounts[0].Type != "bind" {
			t.Errorf("spec source %+v, mounts %+v: the runtime maps the folder itself", spec.Source, spec.Mounts)
		}
		for _, c := range rt.commands() {
			if c == cloneScript {
				t.Error("the engine cloned although the runtime does")
			}
		}
	})

	t.Run("clone failure rolls back", func(t *testing.T) {
		rt := newFakeRuntime()
		rt.execFn = func(_ context.Context, _ string, spec runtime.ExecSpec) (int, error) {
			if len(spec.Cmd) == 3 && spec.Cmd[2] == cloneScript {
				spec.Stderr.Write([]byte("fatal: repository not found\n"))
				return 128, nil
			}
			return 0, nil
		}
		m := newRemoteManager(t, rt, "box")
		_, err := m.Create(context.Background(), CreateOptions{Source: url, Name: "app"})
		if !errors.Is(err, ErrSourceInvalid) || !strings.Contains(err.Error(), "repository not found") {
			t.Fatalf("err = %v", err)
		}
		if rt.containerCount() != 0 {
			t.Errorf("%d containers left", rt.containerCount())
		}
	})
}

func TestRemoteUnsavedWorkAsksGitInTheWorkspace(t *testing.T) {
	url := gitSource(t, `{"image": "pitlane/base:bookworm"}`)
	rt := clonerRuntime{newFakeRuntime()}
	m := newRemoteManager(t, rt, "cluster")
	ctx := context.Background()
	if _, err := m.Create(ctx, CreateOptions{Source: url, Name: "app"}); err != nil {
		t.Fatal(err)
	}
	rt.execFn = func(_ context.Context, _ string, spec runtime.ExecSpec) (int, error) {
		if len(spec.Cmd) > 2 && spec.Cmd[2] == unsavedScript {
			spec.Stdout.Write([]byte("?? notes.txt\n@@pitlane-stash\n1\n@@pitlane-unpushed\nabc123 wip\n"))
		}
		return 0, nil
	}
	err := m.Delete(ctx, "app", DeleteOptions{})
	var uw *UnsavedWorkError
	if !errors.As(err, &uw) || uw.Work == nil {
		t.Fatalf("Delete = %v, want an *UnsavedWorkError", err)
	}
	if !reflect.DeepEqual(uw.Work.Changes, []string{"?? notes.txt"}) || uw.Work.Stashes != 1 || !reflect.DeepEqual(uw.Work.Unpushed, []string{"abc123 wip"}) {
		t.Errorf("work = %+v", uw.Work)
	}
	if _, err := m.Get(ctx, "app"); err != nil {
		t.Fatalf("the workspace went: %v", err)
	}
	if _, err := m.Stop(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "app", DeleteOptions{}); !errors.Is(err, ErrUnsavedWork) || !strings.Contains(err.Error(), "pitlane start app") {
		t.Errorf("Delete of a stopped remote workspace = %v, want it to ask for a start first", err)
	}
	if err := m.Delete(ctx, "app", DeleteOptions{DiscardChanges: true}); err != nil {
		t.Fatal(err)
	}
	if rt.containerCount() != 0 {
		t.Errorf("%d containers left", rt.containerCount())
	}
}

func TestProvidersFindListAndNames(t *testing.T) {
	local, cluster := newFakeRuntime(), clonerRuntime{newFakeRuntime()}
	down := errors.New("connection refused")
	open := func(rt Runtime, remote bool) func(context.Context) (Runtime, bool, error) {
		return func(context.Context) (Runtime, bool, error) { return rt, remote, nil }
	}
	opts := Options{DataDir: t.TempDir(), Instance: "unit", HostIDs: func() (int, int) { return 0, 0 }}
	ps := NewProviders(opts, "cluster",
		Target{Name: DefaultProvider, Open: open(local, false)},
		Target{Name: "cluster", Open: open(cluster, true)},
		Target{Name: "gone", Open: func(context.Context) (Runtime, bool, error) { return nil, false, down }},
	)
	ctx := context.Background()
	if got := ps.Names(); !reflect.DeepEqual(got, []string{"cluster", DefaultProvider, "gone"}) {
		t.Errorf("Names = %q, want the default first", got)
	}
	dir := writeConfig(t, `{"image": "pitlane/base:bookworm"}`)
	if _, err := ps.Create(ctx, DefaultProvider, CreateOptions{Source: dir, Name: "here"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Create(ctx, "", CreateOptions{Source: gitSource(t, `{"image": "pitlane/base:bookworm"}`), Name: "there"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Create(ctx, "", CreateOptions{Source: gitSource(t, `{"image": "pitlane/base:bookworm"}`), Name: "here"}); !errors.Is(err, ErrNameTaken) || !strings.Contains(err.Error(), "provider docker") {
		t.Errorf("a second %q on another provider = %v, want ErrNameTaken naming the provider", "here", err)
	}
	if _, err := ps.Create(ctx, "nope", CreateOptions{Source: dir}); !errors.Is(err, ErrNoProvider) {
		t.Errorf("Create on an unknown provider = %v", err)
	}

	m, ws, err := ps.Find(ctx, "there")
	if err != nil || m.Provider() != "cluster" || ws.Provider != "cluster" {
		t.Fatalf("Find(there) = %v, %+v, %v", m, ws, err)
	}
	m, _, err = ps.Find(ctx, "here")
	if err != nil || m.Provider() != DefaultProvider {
		t.Fatalf("Find(here) = %v, %v", m, err)
	}
	_, _, err = ps.Find(ctx, "missing")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "gone") {
		t.Errorf("Find(missing) = %v, want ErrNotFound naming the provider that did not answer", err)
	}

	wss, errs := ps.List(ctx)
	var got []string
	for _, ws := range wss {
		got = append(got, ws.Name+"@"+ws.Provider)
	}
	if !reflect.DeepEqual(got, []string{"here@docker", "there@cluster"}) {
		t.Errorf("List = %q", got)
	}
	var pe *ProviderError
	if len(errs) != 1 || !errors.As(errs[0], &pe) || pe.Provider != "gone" || !errors.Is(errs[0], down) {
		t.Errorf("List errors = %v, want one for provider gone", errs)
	}
}

func TestProviderLabelKeepsProvidersApart(t *testing.T) {
	// Two providers that reach the same engine: each sees only what it
	// created; containers without the label are the built-in provider's.
	rt := newFakeRuntime()
	opts := Options{DataDir: t.TempDir(), Instance: "unit", HostIDs: func() (int, int) { return 0, 0 }}
	a := NewManager(rt, opts)
	opts.Provider = "other"
	b := NewManager(rt, opts)
	ctx := context.Background()
	if _, err := b.Create(ctx, CreateOptions{Source: writeConfig(t, `{"image": "pitlane/base:bookworm"}`), Name: "app"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "app"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the built-in provider sees another's workspace: %v", err)
	}
	if l, _ := a.List(ctx); len(l) != 0 {
		t.Errorf("the built-in provider lists %d workspaces", len(l))
	}
	for _, c := range rt.containers {
		delete(c.Labels, LabelProvider)
	}
	if _, err := a.Get(ctx, "app"); err != nil {
		t.Errorf("a container without the label is not the built-in provider's: %v", err)
	}
}

func TestRemoteRebuildIsRefused(t *testing.T) {
	rt := clonerRuntime{newFakeRuntime()}
	m := newRemoteManager(t, rt, "cluster")
	ctx := context.Background()
	if _, err := m.Create(ctx, CreateOptions{Source: gitSource(t, `{"image": "pitlane/base:bookworm"}`), Name: "app"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Rebuild(ctx, "app", RebuildOptions{}); !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "pitlane delete app") {
		t.Errorf("Rebuild on a remote provider = %v", err)
	}
	if _, err := m.Get(ctx, "app"); err != nil {
		t.Errorf("the workspace went: %v", err)
	}
}

func TestProvidersWatchMergesFeeds(t *testing.T) {
	local, cluster := newFakeRuntime(), clonerRuntime{newFakeRuntime()}
	open := func(rt Runtime, remote bool) func(context.Context) (Runtime, bool, error) {
		return func(context.Context) (Runtime, bool, error) { return rt, remote, nil }
	}
	opts := Options{DataDir: t.TempDir(), Instance: "unit", HostIDs: func() (int, int) { return 0, 0 }}
	ps := NewProviders(opts, DefaultProvider,
		Target{Name: DefaultProvider, Open: open(local, false)},
		Target{Name: "cluster", Open: open(cluster, true)},
		Target{Name: "gone", Open: func(context.Context) (Runtime, bool, error) { return nil, false, errors.New("refused") }},
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs, err := ps.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Create(ctx, "cluster", CreateOptions{Source: gitSource(t, `{"image": "pitlane/base:bookworm"}`), Name: "there"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Create(ctx, "", CreateOptions{Source: writeConfig(t, `{"image": "pitlane/base:bookworm"}`), Name: "here"}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	deadline := time.After(10 * time.Second)
	for len(seen) < 2 {
		select {
		case ev := <-evs:
			if ev.Kind == EventDeleted {
				t.Errorf("a provider reported %s deleted", ev.Name)
			}
			if ev.Workspace != nil && ev.Workspace.State == StateRunning {
				seen[ev.Name] = ev.Workspace.Provider
			}
		case <-deadline:
			t.Fatalf("events seen: %v", seen)
		}
	}
	if seen["there"] != "cluster" || seen["here"] != DefaultProvider {
		t.Errorf("events: %v", seen)
	}
	cancel()
	for range evs {
	}
}
