package workspace

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/runtime"
)

// keySource is a source folder whose every input of the key can be
// changed by a test.
var keySource = map[string]string{
	".devcontainer/devcontainer.json": `{
		"build": {"dockerfile": "Dockerfile", "context": "..", "args": {"V": "1", "TOKEN": "${localEnv:PREBUILD_TEST_TOKEN}"}},
		"features": {"./feat": {"flavor": "mild"}},
		"workspaceFolder": "${containerWorkspaceFolder}",
		"forwardPorts": [3000],
		"onCreateCommand": "echo on-create",
		"postStartCommand": "echo post-start",
		"mounts": ["type=bind,source=${localWorkspaceFolder},target=/src"]
	}`,
	".devcontainer/Dockerfile":                     "FROM pitlane/base:bookworm\nRUN echo v1\n",
	".devcontainer/feat/devcontainer-feature.json": `{"id": "feat", "options": {"flavor": {"type": "string", "default": "plain"}}}`,
	".devcontainer/feat/install.sh":                "echo installing\n",
	"app/main.go":                                  "package main\n",
	"node_modules/x/index.js":                      "1",
	// The configuration is in the context too (the build could copy
	// it): ignored here, so that the keys it has beside the image's own
	// are seen not to count.
	".dockerignore": "node_modules\n.devcontainer/devcontainer.json\n",
}

func writeSource(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proj")
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func keyOf(t *testing.T, m *Manager, dir string) string {
	t.Helper()
	r, err := m.planStep(context.Background(), "app", dir, "", nopProgress{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := m.imageKey(context.Background(), r, nopProgress{})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestImageKeyTable checks that the key changes when, and only when, an
// input that decides the image's content changes.
func TestImageKeyTable(t *testing.T) {
	t.Setenv("PREBUILD_TEST_TOKEN", "secret-1")
	m, rt := newFakeManager(t)
	base := keyOf(t, m, writeSource(t, keySource))
	edit := func(file, old, new string) func(map[string]string) {
		return func(f map[string]string) {
			if !strings.Contains(f[file], old) {
				t.Fatalf("%s has no %q", file, old)
			}
			f[file] = strings.Replace(f[file], old, new, 1)
		}
	}
	const cfg = ".devcontainer/devcontainer.json"
	tests := []struct {
		name    string
		change  func(map[string]string)
		setup   func()
		changes bool
	}{
		{"nothing", func(map[string]string) {}, nil, false},
		{"Dockerfile", edit(".devcontainer/Dockerfile", "v1", "v2"), nil, true},
		{"context file", edit("app/main.go", "main", "main // edited"), nil, true},
		{"new context file", func(f map[string]string) { f["README.md"] = "hello" }, nil, true},
		{"ignored file", edit("node_modules/x/index.js", "1", "2"), nil, false},
		{"feature option", edit(cfg, `"mild"`, `"hot"`), nil, true},
		{"feature script", edit(".devcontainer/feat/install.sh", "installing", "installing more"), nil, true},
		{"build arg", edit(cfg, `"V": "1"`, `"V": "2"`), nil, true},
		{"onCreateCommand", edit(cfg, "echo on-create", "echo on-create again"), nil, true},
		{"forwardPorts", edit(cfg, "3000", "4000"), nil, false},
		{"postStartCommand", edit(cfg, "echo post-start", "echo started"), nil, false},
		{"comment", edit(cfg, `"forwardPorts"`, "// a comment\n\t\t\"forwardPorts\""), nil, false},
		{"value of a localEnv variable", func(map[string]string) {}, func() { t.Setenv("PREBUILD_TEST_TOKEN", "secret-2") }, false},
		{"base image digest", func(map[string]string) {}, func() {
			rt.images[DefaultImage] = &runtime.ImageConfig{ID: "sha256:newbase", Env: []string{"PATH=/usr/bin:/bin"}}
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range keySource {
				files[k] = v
			}
			tc.change(files)
			saved := rt.images[DefaultImage]
			defer func() { rt.images[DefaultImage] = saved }()
			if tc.setup != nil {
				tc.setup()
			}
			// A fresh folder each time: the folder's path never counts.
			got := keyOf(t, m, writeSource(t, files))
			if (got != base) != tc.changes {
				t.Errorf("key changed = %v, want %v", got != base, tc.changes)
			}
		})
	}
}

// stepRecorder keeps steps, lines and prebuilt reports.
type stepRecorder struct {
	mu       sync.Mutex
	steps    []string
	lines    []string
	prebuilt []PrebuiltImage
}

func (r *stepRecorder) Step(s string)   { r.mu.Lock(); r.steps = append(r.steps, s); r.mu.Unlock() }
func (r *stepRecorder) Output(s string) { r.mu.Lock(); r.lines = append(r.lines, s); r.mu.Unlock() }
func (r *stepRecorder) Prebuilt(pi PrebuiltImage) {
	r.mu.Lock()
	r.prebuilt = append(r.prebuilt, pi)
	r.mu.Unlock()
}

func (r *stepRecorder) hasStep(prefix string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.steps, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

const hookConfig = `{
	"build": {"dockerfile": "Dockerfile"},
	"onCreateCommand": "echo on-create",
	"updateContentCommand": "echo update",
	"postCreateCommand": "echo post-create",
	"postStartCommand": "echo post-start"
}`

func hookSource(t *testing.T) string {
	src := writeConfig(t, hookConfig)
	os.WriteFile(filepath.Join(src, ".devcontainer", "Dockerfile"), []byte("FROM pitlane/base:bookworm\n"), 0o644)
	return src
}

func TestFakeCreateReusesCachedImage(t *testing.T) {
	m, rt := newFakeManager(t)
	src := hookSource(t)
	ctx := context.Background()
	a, err := m.Create(ctx, CreateOptions{Source: src, Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rt.builds) != 1 || !strings.HasPrefix(a.Image, m.cacheRepo()+":") {
		t.Fatalf("first create: %d builds, image %s", len(rt.builds), a.Image)
	}
	rec := &stepRecorder{}
	b, err := m.Create(ctx, CreateOptions{Source: src, Name: "b", Progress: rec})
	if err != nil {
		t.Fatal(err)
	}
	if len(rt.builds) != 1 {
		t.Errorf("the second create built again (%d builds)", len(rt.builds))
	}
	if b.Image != a.Image || !rec.hasStep("Using prebuilt image ") || len(rec.prebuilt) != 1 {
		t.Errorf("second create: image %s, steps %q, prebuilt %+v", b.Image, rec.steps, rec.prebuilt)
	}
	// A create-built image has nothing baked: every hook ran in both.
	if n := strings.Count(strings.Join(rt.commands(), "\n"), "echo on-create"); n != 2 {
		t.Errorf("onCreateCommand ran %d times, want 2", n)
	}

	imgs, err := m.Images(ctx)
	if err != nil || len(imgs) != 1 || !reflect.DeepEqual(imgs[0].UsedBy, []string{"a", "b"}) {
		t.Fatalf("Images = %+v, %v", imgs, err)
	}
	if removed, err := m.PruneImages(ctx, PruneOptions{}); err != nil || len(removed) != 0 {
		t.Errorf("prune removed %+v (%v) while workspaces use it", removed, err)
	}
	for _, n := range []string{"a", "b"} {
		if err := m.Delete(ctx, n, DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if imgs, _ := m.Images(ctx); len(imgs) != 1 || len(imgs[0].UsedBy) != 0 {
		t.Fatalf("after delete: %+v, want the image kept, unused", imgs)
	}
	if removed, err := m.PruneImages(ctx, PruneOptions{Keep: 1}); err != nil || len(removed) != 0 {
		t.Errorf("prune --keep 1 removed %+v (%v)", removed, err)
	}
	if removed, err := m.PruneImages(ctx, PruneOptions{}); err != nil || len(removed) != 1 {
		t.Errorf("prune removed %+v (%v), want the unused image", removed, err)
	}
	if imgs, _ := m.Images(ctx); len(imgs) != 0 {
		t.Errorf("after prune: %+v", imgs)
	}
}

func TestFakePrebuildThenCreateSkipsBakedPhases(t *testing.T) {
	m, rt := newFakeManager(t)
	src := hookSource(t)
	ctx := context.Background()
	res, err := m.Prebuild(ctx, PrebuildOptions{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Baked, bakedPhases) || res.Image != m.CacheRef(res.Key) || len(rt.commits) != 1 {
		t.Fatalf("prebuild = %+v, %d commits", res, len(rt.commits))
	}
	if got := rt.commands(); !reflect.DeepEqual(got, []string{"echo on-create", "echo update"}) {
		t.Errorf("prebuild ran %q", got)
	}
	if rt.containerCount() != 0 {
		t.Errorf("the prebuild's container was left behind")
	}
	// Once more: the cache has it.
	again, err := m.Prebuild(ctx, PrebuildOptions{Source: src})
	if err != nil || !again.Reused || again.Key != res.Key || len(rt.commits) != 1 {
		t.Errorf("second prebuild = %+v, %v (%d commits)", again, err, len(rt.commits))
	}

	rt.execs = nil
	rec := &stepRecorder{}
	ws, err := m.Create(ctx, CreateOptions{Source: src, Name: "app", Progress: rec})
	if err != nil {
		t.Fatal(err)
	}
	if got := rt.commands(); !reflect.DeepEqual(got, []string{"echo post-create", "echo post-start"}) {
		t.Errorf("create ran %q; the baked phases must not run again", got)
	}
	if len(rec.prebuilt) != 1 || !reflect.DeepEqual(rec.prebuilt[0].Baked, bakedPhases) || rec.prebuilt[0].Key != res.Key {
		t.Errorf("prebuilt report = %+v", rec.prebuilt)
	}
	if mk := m.readMarker("app"); !mk.done(ws.ContainerID, devcontainer.PhaseOnCreate) || !mk.done(ws.ContainerID, devcontainer.PhasePostCreate) {
		t.Errorf("marker = %+v", mk)
	}
	if len(rt.builds) != 1 {
		t.Errorf("%d builds, want the prebuild's only", len(rt.builds))
	}
}

func TestFakeCacheFromPullsByKey(t *testing.T) {
	m, rt := newFakeManager(t)
	src := hookSource(t)
	ctx := context.Background()
	res, err := m.Prebuild(ctx, PrebuildOptions{Source: src, Push: "registry.test/team/app"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pushed != "registry.test/team/app:"+res.Key || rt.registry[res.Pushed] == nil {
		t.Fatalf("pushed %q; registry %v", res.Pushed, rt.registry)
	}
	// Another machine: nothing cached here.
	rt.forgetImages(LabelCacheKey, res.Key)
	rt.execs = nil
	if _, err := m.Create(ctx, CreateOptions{Source: src, Name: "one", CacheFrom: "bad repo!"}); err == nil {
		t.Error("a malformed --cache-from was accepted")
	}
	rec := &stepRecorder{}
	if _, err := m.Create(ctx, CreateOptions{Source: src, Name: "one", CacheFrom: "registry.test/team/app", Progress: rec}); err != nil {
		t.Fatal(err)
	}
	if len(rt.pulls) != 1 || rt.pulls[0] != res.Pushed || len(rt.builds) != 1 {
		t.Errorf("pulls %q, builds %d: want the prebuilt image pulled, nothing built", rt.pulls, len(rt.builds))
	}
	if len(rec.prebuilt) != 1 || rec.prebuilt[0].PulledFrom != "registry.test/team/app" {
		t.Errorf("prebuilt report = %+v", rec.prebuilt)
	}
	if got := rt.commands(); slices.Contains(got, "echo on-create") {
		t.Errorf("create ran %q", got)
	}
	// The setting was saved for the source: the next create pulls too.
	if got := m.CacheFrom(src); got != "registry.test/team/app" {
		t.Errorf("saved cache-from = %q", got)
	}
	rt.forgetImages(LabelCacheKey, res.Key)
	if _, err := m.Create(ctx, CreateOptions{Source: src, Name: "two"}); err != nil {
		t.Fatal(err)
	}
	if len(rt.pulls) != 2 {
		t.Errorf("the saved setting was not used: pulls %q", rt.pulls)
	}
	// "none" forgets it; a missing prebuilt image means building here.
	rt.forgetImages(LabelCacheKey, res.Key)
	delete(rt.registry, res.Pushed)
	rec = &stepRecorder{}
	if _, err := m.Create(ctx, CreateOptions{Source: src, Name: "three", CacheFrom: "none", Progress: rec}); err != nil {
		t.Fatal(err)
	}
	if m.CacheFrom(src) != "" || len(rt.pulls) != 2 || len(rt.builds) != 2 {
		t.Errorf("after none: saved %q, pulls %q, builds %d", m.CacheFrom(src), rt.pulls, len(rt.builds))
	}
}

func TestNewEntries(t *testing.T) {
	before := []string{"a", "src", "src/x.go"}
	after := []string{"a", "src", "src/x.go", "node_modules", "node_modules/p", "node_modules/p/i.js", "src/gen", "src/gen/y.go", "out.txt", "bad\nname"}
	want := []string{"node_modules", "out.txt", "src/gen"}
	if got := newEntries(before, after); !reflect.DeepEqual(got, want) {
		t.Errorf("newEntries = %q, want %q", got, want)
	}
}

// TestFakeWatchPrebuildsWhenTheKeyChanges watches a real folder (fsnotify)
// over the fake runtime: a change to a file of the key prebuilds again, a
// change to an ignored file does not.
func TestFakeWatchPrebuildsWhenTheKeyChanges(t *testing.T) {
	m, _ := newFakeManager(t)
	src := hookSource(t)
	os.WriteFile(filepath.Join(src, ".devcontainer", ".dockerignore"), []byte("scratch\n"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan *PrebuildResult, 10)
	done := make(chan error, 1)
	go func() {
		done <- m.WatchPrebuild(ctx, WatchOptions{
			PrebuildOptions: PrebuildOptions{Source: src},
			Settle:          50 * time.Millisecond,
			OnResult: func(res *PrebuildResult, err error) {
				if err != nil {
					t.Errorf("prebuild: %v", err)
					return
				}
				results <- res
			},
		})
	}()
	next := func(what string) *PrebuildResult {
		t.Helper()
		select {
		case res := <-results:
			return res
		case <-time.After(10 * time.Second):
			t.Fatalf("no prebuild after %s", what)
			return nil
		}
	}
	first := next("starting")
	// Ignored: no prebuild.
	os.MkdirAll(filepath.Join(src, ".devcontainer", "scratch"), 0o755)
	os.WriteFile(filepath.Join(src, ".devcontainer", "scratch", "notes.txt"), []byte("x"), 0o644)
	select {
	case res := <-results:
		t.Errorf("an ignored file prebuilt again: %+v", res)
	case <-time.After(500 * time.Millisecond):
	}
	os.WriteFile(filepath.Join(src, ".devcontainer", "Dockerfile"), []byte("FROM pitlane/base:bookworm\nRUN echo changed\n"), 0o644)
	second := next("changing the Dockerfile")
	if second.Key == first.Key || second.Reused {
		t.Errorf("after the change: %+v (first %+v)", second, first)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("WatchPrebuild: %v", err)
	}
}
