package workspace

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pitlane/pitlane/internal/runtime"
)

// fakeCompose is a fakeRuntime that runs Compose projects: ComposeUp
// makes one fake container per started service, the workspace service's
// from its override, and it keeps each project's volumes.
type fakeCompose struct {
	*fakeRuntime
	project *runtime.ComposeProject
	ups     []runtime.ComposeUp
	stops   []string
	downs   []string
	volumes map[string][]string // by project
	// services are the fake containers' ids, by service.
	services map[string]string
	upFn     func(up runtime.ComposeUp) error
}

func newFakeCompose(t *testing.T) (*Manager, *fakeCompose) {
	t.Helper()
	fc := &fakeCompose{
		fakeRuntime: newFakeRuntime(),
		project: &runtime.ComposeProject{Name: "proj", Services: []runtime.ComposeService{
			{Name: "app", Image: DefaultImage, DependsOn: []string{"db"}},
			{Name: "db", Image: "proj-db", Build: &runtime.BuildSpec{Context: "/elsewhere-not-checked", Tag: "proj-db"}},
			{Name: "cache", Image: DefaultImage},
		}, Volumes: []string{"proj_data"}},
		volumes:  map[string][]string{"proj": {"proj_old"}},
		services: map[string]string{},
	}
	m := NewManager(fc, Options{DataDir: t.TempDir(), Instance: "unit", HostIDs: func() (int, int) { return 0, 0 }})
	return m, fc
}

func (f *fakeCompose) LoadCompose(context.Context, runtime.ComposeFiles) (*runtime.ComposeProject, error) {
	return f.project, nil
}

func (f *fakeCompose) ComposeUp(ctx context.Context, up runtime.ComposeUp, out func(string)) error {
	f.ups = append(f.ups, up)
	if f.upFn != nil {
		if err := f.upFn(up); err != nil {
			return err
		}
	}
	f.volumes["proj"] = append(f.volumes["proj"], "proj_data")
	services := up.Services
	if services == nil {
		services = serviceNames(f.project)
	}
	for _, s := range services {
		o := up.Override[s]
		spec := runtime.ContainerSpec{Name: "proj-" + s + "-1", Image: f.project.Service(s).Image, Labels: map[string]string{}}
		if o.Image != "" {
			spec.Image = o.Image
		}
		if o.ContainerName != "" {
			spec.Name, spec.Labels, spec.Env, spec.Mounts, spec.Entrypoint = o.ContainerName, o.Labels, o.Env, o.Mounts, o.Entrypoint
		}
		if old := f.services[s]; old != "" {
			_ = f.Remove(ctx, old)
		}
		id, err := f.Create(ctx, spec)
		if err != nil {
			return err
		}
		f.services[s] = id
		if err := f.Start(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeCompose) ComposeStop(ctx context.Context, project string, _ func(string)) error {
	f.stops = append(f.stops, project)
	for _, id := range f.services {
		_ = f.Stop(ctx, id, 0)
	}
	return nil
}

func (f *fakeCompose) ComposeStart(ctx context.Context, project string, _ func(string)) error {
	for _, id := range f.services {
		_ = f.Start(ctx, id)
	}
	return nil
}

func (f *fakeCompose) ComposeDown(ctx context.Context, project string, volumes bool, _ func(string)) ([]string, error) {
	f.downs = append(f.downs, project)
	for s, id := range f.services {
		_ = f.Remove(ctx, id)
		delete(f.services, s)
	}
	if volumes {
		delete(f.volumes, project)
	}
	return f.volumes[project], nil
}

func (f *fakeCompose) ComposeVolumes(_ context.Context, project string) ([]string, error) {
	return slices.Clone(f.volumes[project]), nil
}

func (f *fakeCompose) RemoveVolume(_ context.Context, name string) error {
	for p, vs := range f.volumes {
		f.volumes[p] = slices.DeleteFunc(vs, func(v string) bool { return v == name })
	}
	return nil
}

func (f *fakeCompose) ComposeContainers(_ context.Context, project string) ([]runtime.ComposeContainer, error) {
	var out []runtime.ComposeContainer
	for s, id := range f.services {
		c := f.byName(id)
		out = append(out, runtime.ComposeContainer{ID: id, Name: c.Name, Service: s, State: c.Status})
	}
	return out, nil
}

var _ Composer = (*fakeCompose)(nil)

const fakeComposeConfig = `{"dockerComposeFile": "compose.yaml", "service": "app", "runServices": ["app"],
  "workspaceFolder": "/w", "containerEnv": {"A": "1"}, "postCreateCommand": "echo post-create"}`

func TestFakeComposeCreate(t *testing.T) {
	m, fc := newFakeCompose(t)
	ws, err := m.Create(context.Background(), CreateOptions{Source: writeConfig(t, fakeComposeConfig), Name: "app", Consent: TrustAll})
	if err != nil {
		t.Fatal(err)
	}
	if ws.Compose == nil || ws.Compose.Project != "proj" || ws.Folder != "/w" {
		t.Fatalf("workspace = %+v", ws)
	}
	// db is built (app depends on it), cache is not started.
	if len(fc.builds) != 1 || fc.builds[0].Tag != "proj-db" || fc.builds[0].Labels[LabelWorkspace] != "app" {
		t.Fatalf("builds = %+v", fc.builds)
	}
	up := fc.ups[0]
	if !slices.Equal(up.Services, []string{"app", "db"}) {
		t.Errorf("up started %v", up.Services)
	}
	o := up.Override["app"]
	if o.ContainerName != ContainerName("app") || o.Labels[LabelWorkspace] != "app" || o.Labels[LabelComposeProject] != "proj" || o.Labels[LabelComposeStop] != composeStopProject {
		t.Errorf("the workspace service's override: %+v", o)
	}
	if o.Labels[LabelComposeImages] != "proj-db" || up.Override["db"].Image != "proj-db" {
		t.Errorf("the built image is not recorded or used: %+v", up.Override)
	}
	if len(o.Mounts) != 0 || len(o.Entrypoint) != 0 || !slices.Equal(o.Env, []string{"A=1"}) {
		t.Errorf("override mounts %v, entrypoint %v (overrideCommand defaults to false), env %v", o.Mounts, o.Entrypoint, o.Env)
	}
	if got := fc.commands(); !slices.Contains(got, "echo post-create") {
		t.Errorf("hooks ran %q", got)
	}

	if _, err := m.Stop(context.Background(), "app"); err != nil || !slices.Equal(fc.stops, []string{"proj"}) {
		t.Fatalf("stop: %v, project stops %v", err, fc.stops)
	}
	var said []string
	if err := m.Delete(context.Background(), "app", DeleteOptions{Output: func(s string) { said = append(said, s) }}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fc.downs, []string{"proj"}) || len(said) != 1 || !strings.Contains(said[0], "proj_old, proj_data") {
		t.Errorf("delete: downs %v, said %q", fc.downs, said)
	}
	if !slices.Contains(fc.removedImg, "proj-db") {
		t.Errorf("the image built for db stays: removed %v", fc.removedImg)
	}
}

func TestFakeComposeShutdownNoneStopsTheContainerOnly(t *testing.T) {
	m, fc := newFakeCompose(t)
	cfg := strings.Replace(fakeComposeConfig, `"service": "app"`, `"service": "app", "shutdownAction": "none"`, 1)
	if _, err := m.Create(context.Background(), CreateOptions{Source: writeConfig(t, cfg), Name: "app", Consent: TrustAll}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Stop(context.Background(), "app"); err != nil {
		t.Fatal(err)
	}
	if len(fc.stops) != 0 || fc.byName(fc.services["app"]).Running || !fc.byName(fc.services["db"]).Running {
		t.Fatalf("stops %v; app running %v, db running %v", fc.stops, fc.byName(fc.services["app"]).Running, fc.byName(fc.services["db"]).Running)
	}
}

// A create that fails while the project comes up takes it down again,
// removing the volumes it made and the images it built, keeping volumes
// that were there before.
func TestFakeComposeFailedUpRollsBack(t *testing.T) {
	m, fc := newFakeCompose(t)
	boom := errors.New("boom")
	fc.upFn = func(runtime.ComposeUp) error {
		fc.volumes["proj"] = append(fc.volumes["proj"], "proj_data")
		return boom
	}
	_, err := m.Create(context.Background(), CreateOptions{Source: writeConfig(t, fakeComposeConfig), Name: "app", Consent: TrustAll})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if !slices.Equal(fc.downs, []string{"proj"}) || !slices.Equal(fc.volumes["proj"], []string{"proj_old"}) {
		t.Errorf("downs %v, volumes left %v (want proj_old alone)", fc.downs, fc.volumes["proj"])
	}
	if !slices.Contains(fc.removedImg, "proj-db") {
		t.Errorf("the image built for db stays: removed %v", fc.removedImg)
	}
}

// A project that exists already is not taken over.
func TestFakeComposeProjectTaken(t *testing.T) {
	m, fc := newFakeCompose(t)
	if err := fc.ComposeUp(context.Background(), runtime.ComposeUp{Services: []string{"cache"}}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := m.Create(context.Background(), CreateOptions{Source: writeConfig(t, fakeComposeConfig), Name: "app", Consent: TrustAll})
	if !errors.Is(err, ErrNameTaken) || !strings.Contains(err.Error(), "a Compose project named proj exists already") {
		t.Fatalf("err = %v", err)
	}
	if len(fc.ups) != 1 {
		t.Errorf("the project came up again")
	}
}

// A service to build with options the builder lacks is refused before
// anything is built, unless it does not run.
func TestFakeComposeBuildProblem(t *testing.T) {
	m, fc := newFakeCompose(t)
	fc.project.Services[2].Build, fc.project.Services[2].BuildProblem = &runtime.BuildSpec{Tag: "proj-cache"}, "service cache: build.ssh needs BuildKit"
	if _, err := m.Create(context.Background(), CreateOptions{Source: writeConfig(t, fakeComposeConfig), Name: "app", Consent: TrustAll}); err != nil {
		t.Fatalf("cache does not run, yet: %v", err)
	}
	m, fc = newFakeCompose(t)
	fc.project.Services[1].BuildProblem = "service db: build.ssh needs BuildKit"
	_, err := m.Create(context.Background(), CreateOptions{Source: writeConfig(t, fakeComposeConfig), Name: "app", Consent: TrustAll})
	if err == nil || !strings.Contains(err.Error(), "service db: build.ssh needs BuildKit") || len(fc.builds) != 0 || len(fc.ups) != 0 {
		t.Fatalf("err = %v; builds %d, ups %d", err, len(fc.builds), len(fc.ups))
	}
}

// A runtime without Compose says so.
func TestFakeComposeWithoutComposer(t *testing.T) {
	m, _ := newFakeManager(t)
	_, err := m.Create(context.Background(), CreateOptions{Source: writeConfig(t, fakeComposeConfig), Name: "app", Consent: TrustAll})
	if err == nil || !strings.Contains(err.Error(), "runs on a Docker engine only") {
		t.Fatalf("err = %v", err)
	}
}

// A rebuild recreates the workspace service in the running project and
// keeps the other services' images; a project renamed meanwhile is
// refused.
func TestFakeComposeRebuild(t *testing.T) {
	m, fc := newFakeCompose(t)
	ctx := context.Background()
	old, err := m.Create(ctx, CreateOptions{Source: writeConfig(t, fakeComposeConfig), Name: "app", Consent: TrustAll})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := m.Rebuild(ctx, "app", RebuildOptions{Consent: TrustAll})
	if err != nil {
		t.Fatal(err)
	}
	up := fc.ups[len(fc.ups)-1]
	if !slices.Equal(up.Recreate, []string{"app"}) || len(fc.builds) != 1 || up.Override["db"].Image != "proj-db" {
		t.Errorf("rebuild: recreate %v, builds %d, db override %+v", up.Recreate, len(fc.builds), up.Override["db"])
	}
	if ws.ContainerID == old.ContainerID || fc.services["app"] != ws.ContainerID {
		t.Errorf("rebuild kept the workspace container %s", old.ContainerID)
	}
	if up.Override["app"].Labels[LabelComposeImages] != "proj-db" {
		t.Errorf("the rebuilt container forgets the db image: %v", up.Override["app"].Labels)
	}
	fc.project.Name = "renamed"
	if _, err := m.Rebuild(ctx, "app", RebuildOptions{Consent: TrustAll}); err == nil || !strings.Contains(err.Error(), "name is now renamed, not proj") {
		t.Fatalf("rebuild of a renamed project: %v", err)
	}
}
