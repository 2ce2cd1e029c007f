package workspace

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/runtime"
)

// fakeRuntime is an in-memory Runtime for unit tests of the engine's
// decisions. It keeps containers and images in maps; function fields let
// a test make one call fail or see it, docker/cli style. Exec answers the
// engine's environment probe itself and records every other command.
type fakeRuntime struct {
	mu         sync.Mutex
	containers map[string]*runtime.Container // by id
	images     map[string]*runtime.ImageConfig
	specs      map[string]runtime.ContainerSpec // by id
	nextID     int
	execs      []fakeExec
	builds     []runtime.BuildSpec
	removed    []string
	removedImg []string

	// Optional overrides; nil means the default behaviour.
	createFn func(spec runtime.ContainerSpec) error
	startFn  func(id string) error
	buildFn  func(ctx context.Context, spec runtime.BuildSpec) error
	execFn   func(ctx context.Context, id string, spec runtime.ExecSpec) (int, error)
}

type fakeExec struct {
	id   string
	user string
	cmd  []string
}

func newFakeRuntime() *fakeRuntime {
	return &fakeRuntime{
		containers: map[string]*runtime.Container{},
		images: map[string]*runtime.ImageConfig{
			DefaultImage: {ID: "sha256:base", Env: []string{"PATH=/usr/bin:/bin"}},
		},
		specs: map[string]runtime.ContainerSpec{},
	}
}

// newFakeManager returns a Manager over a fresh fake runtime, with its data
// in a temporary folder.
func newFakeManager(t *testing.T) (*Manager, *fakeRuntime) {
	t.Helper()
	rt := newFakeRuntime()
	m := NewManager(rt, Options{DataDir: t.TempDir(), Instance: "unit", HostIDs: func() (int, int) { return 0, 0 }})
	return m, rt
}

func (f *fakeRuntime) byName(nameOrID string) *runtime.Container {
	if c, ok := f.containers[nameOrID]; ok {
		return c
	}
	for _, c := range f.containers {
		if c.Name == nameOrID {
			return c
		}
	}
	return nil
}

func (f *fakeRuntime) List(_ context.Context, labels ...string) ([]runtime.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []runtime.Container
	for _, c := range f.containers {
		ok := true
		for _, l := range labels {
			k, v, hasV := strings.Cut(l, "=")
			got, has := c.Labels[k]
			if !has || (hasV && got != v) {
				ok = false
			}
		}
		if ok {
			out = append(out, *c)
		}
	}
	return out, nil
}

func (f *fakeRuntime) Inspect(_ context.Context, nameOrID string) (*runtime.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.byName(nameOrID)
	if c == nil {
		return nil, fmt.Errorf("%w: %s", runtime.ErrNotFound, nameOrID)
	}
	cp := *c
	return &cp, nil
}

func (f *fakeRuntime) Create(_ context.Context, spec runtime.ContainerSpec) (string, error) {
	if f.createFn != nil {
		if err := f.createFn(spec); err != nil {
			return "", err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byName(spec.Name) != nil {
		return "", fmt.Errorf("%w: %s", runtime.ErrConflict, spec.Name)
	}
	if _, ok := f.images[spec.Image]; !ok {
		return "", fmt.Errorf("%w: image %s", runtime.ErrNotFound, spec.Image)
	}
	f.nextID++
	id := fmt.Sprintf("c%063d", f.nextID)
	f.containers[id] = &runtime.Container{
		ID: id, Name: spec.Name, Image: spec.Image, Labels: spec.Labels, Status: "created",
		Created: time.Now(), Env: spec.Env, ImageID: f.images[spec.Image].ID,
	}
	f.specs[id] = spec
	return id, nil
}

func (f *fakeRuntime) Start(_ context.Context, id string) error {
	if f.startFn != nil {
		if err := f.startFn(id); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.byName(id)
	if c == nil {
		return runtime.ErrNotFound
	}
	c.Running, c.Status = true, "running"
	return nil
}

func (f *fakeRuntime) Stop(_ context.Context, id string, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.byName(id)
	if c == nil {
		return runtime.ErrNotFound
	}
	c.Running, c.Status = false, "exited"
	return nil
}

func (f *fakeRuntime) Remove(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.byName(id); c != nil {
		delete(f.containers, c.ID)
		f.removed = append(f.removed, c.ID)
	}
	return nil
}

func (f *fakeRuntime) Rename(_ context.Context, id, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.byName(id)
	if c == nil {
		return runtime.ErrNotFound
	}
	if o := f.byName(name); o != nil && o != c {
		return runtime.ErrConflict
	}
	c.Name = name
	return nil
}

func (f *fakeRuntime) Exec(ctx context.Context, id string, spec runtime.ExecSpec) (int, error) {
	f.mu.Lock()
	c := f.byName(id)
	if c == nil || !c.Running {
		f.mu.Unlock()
		return -1, fmt.Errorf("container %s is not running", id)
	}
	f.mu.Unlock()
	script := strings.Join(spec.Cmd, " ")
	if strings.Contains(script, probeMark) {
		// The environment probe: answer as a shell would.
		if spec.Stdout != nil {
			fmt.Fprintf(spec.Stdout, "%sHOME=/root\x00PATH=/usr/bin:/bin\x00%s", probeMark, probeMark)
		}
		return 0, nil
	}
	f.mu.Lock()
	f.execs = append(f.execs, fakeExec{id: id, user: spec.User, cmd: spec.Cmd})
	f.mu.Unlock()
	if f.execFn != nil {
		return f.execFn(ctx, id, spec)
	}
	return 0, nil
}

func (f *fakeRuntime) CopyFile(context.Context, string, string, []byte, os.FileMode, int, int) error {
	return nil
}

func (f *fakeRuntime) ImageExists(_ context.Context, ref string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.images[ref]
	return ok, nil
}

func (f *fakeRuntime) InspectImage(_ context.Context, ref string) (*runtime.ImageConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, ok := f.images[ref]
	if !ok {
		return nil, fmt.Errorf("%w: image %s", runtime.ErrNotFound, ref)
	}
	cp := *img
	return &cp, nil
}

func (f *fakeRuntime) RemoveImage(_ context.Context, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.images, ref)
	f.removedImg = append(f.removedImg, ref)
	return nil
}

func (f *fakeRuntime) Build(ctx context.Context, spec runtime.BuildSpec, out func(string)) error {
	if f.buildFn != nil {
		if err := f.buildFn(ctx, spec); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.builds = append(f.builds, spec)
	f.images[spec.Tag] = &runtime.ImageConfig{ID: fmt.Sprintf("sha256:built%d", len(f.builds)), Labels: spec.Labels}
	out("built " + spec.Tag)
	return nil
}

func (f *fakeRuntime) Pull(_ context.Context, ref string, _ func(string)) error {
	return fmt.Errorf("%w: pull access denied for %s (the fake has no registry)", runtime.ErrNotFound, ref)
}

func (f *fakeRuntime) Events(ctx context.Context, _ ...string) (<-chan runtime.Event, <-chan error) {
	ch, errc := make(chan runtime.Event), make(chan error, 1)
	go func() { <-ctx.Done(); close(ch) }()
	return ch, errc
}

func (f *fakeRuntime) Host() string { return "fake://" }

// commands returns the shell commands the fake ran, in order, skipping
// the engine's own housekeeping.
func (f *fakeRuntime) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.execs {
		if len(e.cmd) == 3 && e.cmd[0] == "/bin/sh" && e.cmd[1] == "-c" && e.cmd[2] != profilePatch {
			out = append(out, e.cmd[2])
		}
	}
	return out
}

func (f *fakeRuntime) containerCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.containers)
}

// writeConfig writes a devcontainer.json into a new source folder and
// returns the folder.
func writeConfig(t *testing.T, json string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(dir+"/.devcontainer", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/.devcontainer/devcontainer.json", []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

var _ Runtime = (*fakeRuntime)(nil)
