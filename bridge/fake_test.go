package bridge_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pitlane/pitlane/internal/ports"
	"github.com/pitlane/pitlane/internal/source"
	"github.com/pitlane/pitlane/internal/workspace"
)

// fakeManager is an in-memory engine for tests of the bridge layer. It
// follows the engine's contract (names, sentinel errors, events for every
// change) without Docker. A source whose path contains "slow" makes Create
// block in its build step until the context ends, then roll back.
type fakeManager struct {
	logDir string

	mu       sync.Mutex
	wss      map[string]*workspace.Workspace
	watchers []chan workspace.Event
	// createStarted, if set, is closed when a slow Create reaches its
	// build step.
	createStarted chan struct{}
	// created holds the options of every Create.
	created []workspace.CreateOptions
}

func newFakeManager(logDir string) *fakeManager {
	return &fakeManager{logDir: logDir, wss: map[string]*workspace.Workspace{}}
}

var fakeEpoch = time.Date(2025, 5, 1, 9, 30, 0, 0, time.UTC)

func (f *fakeManager) emit(kind workspace.EventKind, name string, ws *workspace.Workspace) {
	var cp *workspace.Workspace
	if ws != nil {
		c := *ws
		cp = &c
	}
	for _, w := range f.watchers {
		select {
		case w <- workspace.Event{Kind: kind, Name: name, Workspace: cp}:
		default: // a slow watcher loses events, as with a full Docker event buffer
		}
	}
}

func (f *fakeManager) Create(ctx context.Context, opts workspace.CreateOptions) (*workspace.Workspace, error) {
	f.mu.Lock()
	f.created = append(f.created, opts)
	f.mu.Unlock()
	name := opts.Name
	if name == "" {
		name = strings.ToLower(filepath.Base(opts.Source))
	}
	if err := workspace.ValidateName(name); err != nil {
		return nil, err
	}
	base := filepath.Base(opts.Source)
	if strings.Contains(base, "panic") {
		panic("a bug in the engine")
	}
	if strings.Contains(base, "untrusted") && opts.Consent == nil {
		return nil, &workspace.TrustError{Request: &workspace.TrustRequest{
			Workspace: name, Source: opts.Source, ConfigPath: ".devcontainer/devcontainer.json",
			Items: []workspace.TrustItem{{Kind: workspace.TrustInitialize, Detail: "./prepare.sh", From: "devcontainer.json"}},
		}}
	}
	p := opts.Progress
	if p == nil {
		p = nopProgress{}
	}
	f.mu.Lock()
	if _, ok := f.wss[name]; ok {
		f.mu.Unlock()
		return nil, fmt.Errorf("%w: %q: pick another name or delete the existing workspace", workspace.ErrNameTaken, name)
	}
	ws := &workspace.Workspace{
		Name:        name,
		State:       workspace.StateCreating,
		Source:      workspace.Source{URL: opts.Source, Ref: opts.Branch, Local: strings.HasPrefix(opts.Source, "/")},
		Image:       workspace.DefaultImage,
		ConfigKind:  workspace.KindDevcontainer,
		ConfigPath:  opts.ConfigPath,
		LocalFolder: opts.Source,
		Folder:      "/workspaces/" + filepath.Base(opts.Source),
		SSHHost:     name + "." + workspace.SSHDomain,
		CreatedAt:   fakeEpoch.Add(time.Duration(len(f.wss)) * time.Minute),
	}
	f.wss[name] = ws
	f.mu.Unlock()

	p.Step("Preparing source")
	p.Step("Building image")
	p.Output("Step 1/2 : FROM " + workspace.DefaultImage)
	if strings.Contains(filepath.Base(opts.Source), "slow") {
		if f.createStarted != nil {
			close(f.createStarted)
		}
		<-ctx.Done()
		f.mu.Lock()
		delete(f.wss, name)
		f.mu.Unlock()
		return nil, fmt.Errorf("creating %s: %w", name, ctx.Err())
	}
	p.Output("Step 2/2 : RUN true")
	p.Step("Running postCreateCommand")
	if err := os.MkdirAll(filepath.Join(f.logDir, name), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(f.LogPath(name), []byte("Step 1/2 : FROM pitlane/base:bookworm\nStep 2/2 : RUN true\npostCreateCommand: done\n"), 0o644); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ws.State = workspace.StateRunning
	ws.ContainerID = fmt.Sprintf("%012x", len(name)*7919)
	f.emit(workspace.EventCreated, name, ws)
	c := *ws
	return &c, nil
}

func (f *fakeManager) get(name string) (*workspace.Workspace, error) {
	if err := workspace.ValidateName(name); err != nil {
		return nil, err
	}
	ws, ok := f.wss[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q: see `pitlane list` for the names", workspace.ErrNotFound, name)
	}
	return ws, nil
}

func (f *fakeManager) setState(name string, st workspace.State, kind workspace.EventKind) (*workspace.Workspace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ws, err := f.get(name)
	if err != nil {
		return nil, err
	}
	if ws.State != st {
		ws.State = st
		f.emit(kind, name, ws)
	}
	c := *ws
	return &c, nil
}

func (f *fakeManager) Start(ctx context.Context, name string, opts workspace.StartOptions) (*workspace.Workspace, error) {
	return f.setState(name, workspace.StateRunning, workspace.EventStarted)
}

func (f *fakeManager) Stop(ctx context.Context, name string) (*workspace.Workspace, error) {
	return f.setState(name, workspace.StateStopped, workspace.EventStopped)
}

func (f *fakeManager) Rebuild(ctx context.Context, name string, opts workspace.RebuildOptions) (*workspace.Workspace, error) {
	if p := opts.Progress; p != nil {
		p.Step("Building image")
	}
	if _, err := f.Get(ctx, name); err != nil {
		return nil, err
	}
	// The engine appends the rebuild's output to the log.
	lf, err := os.OpenFile(f.LogPath(name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	_, err = lf.WriteString("Rebuilding\npostCreateCommand: done\n")
	if cerr := lf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	// A rebuild makes a new container, as the engine's does.
	f.mu.Lock()
	if ws, err := f.get(name); err == nil {
		ws.ContainerID += "r"
	}
	f.mu.Unlock()
	return f.setState(name, workspace.StateRunning, workspace.EventStarted)
}

func (f *fakeManager) Delete(ctx context.Context, name string, opts workspace.DeleteOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ws, err := f.get(name)
	if err != nil {
		return err
	}
	if strings.Contains(ws.Source.URL, "dirty") && !opts.DiscardChanges {
		return &workspace.UnsavedWorkError{Name: name, Clone: ws.LocalFolder, Work: &source.Work{
			Changes: []string{" M main.go"}, Unpushed: []string{"3f1c2a9 wip"},
		}}
	}
	delete(f.wss, name)
	f.emit(workspace.EventDeleted, name, nil)
	return nil
}

func (f *fakeManager) List(ctx context.Context) ([]*workspace.Workspace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*workspace.Workspace, 0, len(f.wss))
	for _, ws := range f.wss {
		c := *ws
		out = append(out, &c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeManager) Get(ctx context.Context, name string) (*workspace.Workspace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ws, err := f.get(name)
	if err != nil {
		return nil, err
	}
	c := *ws
	return &c, nil
}

func (f *fakeManager) LogPath(name string) string {
	return filepath.Join(f.logDir, name, "pitlane.log")
}

func (f *fakeManager) Attach(ctx context.Context, name string, p workspace.Progress) (*workspace.Workspace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.get(name)
}

func (f *fakeManager) Touch(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ws, err := f.get(name)
	if err != nil {
		return err
	}
	ws.LastUsedAt = fakeEpoch.Add(time.Hour)
	return nil
}

func (f *fakeManager) Watch(ctx context.Context) (<-chan workspace.Event, error) {
	ch := make(chan workspace.Event, 256)
	f.mu.Lock()
	f.watchers = append(f.watchers, ch)
	f.mu.Unlock()
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, w := range f.watchers {
			if w == ch {
				f.watchers = append(f.watchers[:i], f.watchers[i+1:]...)
				break
			}
		}
		close(ch)
	}()
	return ch, nil
}

func (f *fakeManager) Configs(ctx context.Context, source string) ([]string, error) {
	var out []string
	for _, c := range []string{".devcontainer/devcontainer.json", ".devcontainer.json"} {
		if _, err := os.Stat(filepath.Join(source, c)); err == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeManager) Detect(ctx context.Context, source string) (*workspace.Detection, error) {
	return workspace.Detect(ctx, source, workspace.DefaultImage)
}

type nopProgress struct{}

func (nopProgress) Step(string)   {}
func (nopProgress) Output(string) {}

func workspaceCreateOptions(source, name string) workspace.CreateOptions {
	return workspace.CreateOptions{Source: source, Name: name}
}

// fakePorts is an in-memory bridge.Ports: configured and listening ports
// per workspace, and dials to local addresses standing in for the ports
// inside the container.
type fakePorts struct {
	mu         sync.Mutex
	configured map[string][]ports.Port
	listening  map[string][]int
	// targets maps a container port to a local address that answers.
	targets map[int]string
	dials   int
	// configReads counts the calls of Configured.
	configReads int
}

func newFakePorts() *fakePorts {
	return &fakePorts{configured: map[string][]ports.Port{}, listening: map[string][]int{}, targets: map[int]string{}}
}

func (f *fakePorts) Configured(ctx context.Context, name string) ([]ports.Port, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configReads++
	return slices.Clone(f.configured[name]), nil
}

func (f *fakePorts) Listening(ctx context.Context, name string) ([]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.listening[name]), nil
}

func (f *fakePorts) setListening(name string, ps ...int) {
	f.mu.Lock()
	f.listening[name] = ps
	f.mu.Unlock()
}

func (f *fakePorts) Dial(ctx context.Context, name string, port int) (net.Conn, error) {
	f.mu.Lock()
	addr, ok := f.targets[port]
	f.dials++
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("nothing answers on port %d in %s", port, name)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}
