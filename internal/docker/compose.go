package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/cli/cli/command"
	cliflags "github.com/docker/cli/cli/flags"
	"github.com/docker/compose/v2/pkg/api"
	"github.com/docker/compose/v2/pkg/compose"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"gopkg.in/yaml.v3"

	"github.com/pitlane/pitlane/internal/runtime"
)

// The Compose runtime's types, under this package's names.
type (
	ComposeFiles     = runtime.ComposeFiles
	ComposeProject   = runtime.ComposeProject
	ComposeService   = runtime.ComposeService
	ComposeUp        = runtime.ComposeUp
	ComposeContainer = runtime.ComposeContainer
	ServiceOverride  = runtime.ServiceOverride
)

const composeProjectName = "COMPOSE_PROJECT_NAME"

// loadProject reads a Compose project's files. The project name is the
// files' top-level name:, else COMPOSE_PROJECT_NAME (from the environment,
// then the .env beside the first file), else f.DefaultName.
func loadProject(ctx context.Context, f ComposeFiles) (*types.Project, error) {
	if len(f.Files) == 0 {
		return nil, errors.New("no Compose file given: set dockerComposeFile in devcontainer.json")
	}
	for _, file := range f.Files {
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("the Compose file %s cannot be read: %w", file, err)
		}
	}
	// An empty COMPOSE_PROJECT_NAME in the environment names nothing: the
	// .env may still name the project.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return kv == composeProjectName+"=" })
	opts, err := cli.NewProjectOptions(f.Files,
		cli.WithWorkingDirectory(filepath.Dir(f.Files[0])),
		cli.WithEnv(env),
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(),
	)
	if err != nil {
		return nil, composeLoadErr(f, err)
	}
	named, err := namedInFiles(f.Files)
	if err != nil {
		return nil, err
	}
	switch {
	case named:
		delete(opts.Environment, composeProjectName)
	case opts.Environment[composeProjectName] == "":
		opts.Name = loader.NormalizeProjectName(f.DefaultName)
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, composeLoadErr(f, err)
	}
	// The labels by which Compose finds the project's containers again,
	// as its own command line sets them.
	for name, s := range p.Services {
		s.CustomLabels = map[string]string{
			api.ProjectLabel:     p.Name,
			api.ServiceLabel:     name,
			api.VersionLabel:     api.ComposeVersion,
			api.WorkingDirLabel:  p.WorkingDir,
			api.ConfigFilesLabel: strings.Join(p.ComposeFiles, ","),
			api.OneoffLabel:      "False",
		}
		if len(opts.EnvFiles) > 0 {
			s.CustomLabels[api.EnvironmentFileLabel] = strings.Join(opts.EnvFiles, ",")
		}
		p.Services[name] = s
	}
	return p, nil
}

func composeLoadErr(f ComposeFiles, err error) error {
	return fmt.Errorf("loading the Compose files %s: %w", strings.Join(f.Files, ", "), err)
}

// namedInFiles reports whether one of the files has a top-level name:.
func namedInFiles(files []string) (bool, error) {
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return false, err
		}
		var n struct {
			Name string `yaml:"name"`
		}
		// A file that is not YAML is reported by the loader, with more to
		// say than this decoder.
		if yaml.Unmarshal(data, &n) == nil && n.Name != "" {
			return true, nil
		}
	}
	return false, nil
}

// LoadCompose reads a Compose project's files and describes its services.
func (c *Client) LoadCompose(ctx context.Context, f ComposeFiles) (*ComposeProject, error) {
	p, err := loadProject(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &ComposeProject{Name: p.Name, Dir: p.WorkingDir}
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		cs := ComposeService{
			Name: name, Image: api.GetImageNameOrDefault(s, p.Name),
			Privileged: s.Privileged, CapAdd: s.CapAdd, SecurityOpt: s.SecurityOpt,
			NetworkMode: s.NetworkMode, Pid: s.Pid, Ipc: s.Ipc, User: s.User,
			HasCommand: len(s.Command) > 0 || len(s.Entrypoint) > 0,
		}
		for dep := range s.DependsOn {
			cs.DependsOn = append(cs.DependsOn, dep)
		}
		slices.Sort(cs.DependsOn)
		for _, d := range s.Devices {
			dev := d.Source
			if d.Target != "" || d.Permissions != "" {
				dev += ":" + d.Target
			}
			if d.Permissions != "" {
				dev += ":" + d.Permissions
			}
			cs.Devices = append(cs.Devices, dev)
		}
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind {
				cs.Binds = append(cs.Binds, runtime.Mount{Type: "bind", Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
			}
		}
		if b := s.Build; b != nil {
			if b.DockerfileInline != "" {
				return nil, fmt.Errorf("service %s: build.dockerfile_inline is not supported: write the Dockerfile to a file and name it in build.dockerfile", name)
			}
			var needKit []string
			for _, o := range []struct {
				name string
				set  bool
			}{
				{"secrets", len(b.Secrets) > 0}, {"ssh", len(b.SSH) > 0}, {"additional_contexts", len(b.AdditionalContexts) > 0},
				{"platforms", len(b.Platforms) > 0}, {"entitlements", len(b.Entitlements) > 0}, {"privileged", b.Privileged},
			} {
				if o.set {
					needKit = append(needKit, "build."+o.name)
				}
			}
			if len(needKit) > 0 {
				cs.BuildProblem = fmt.Sprintf("service %s: %s need BuildKit, and Pitlane builds with the engine's classic builder: remove them, or build the image yourself and name it in image:", name, strings.Join(needKit, ", "))
			}
			bs := &runtime.BuildSpec{Context: b.Context, Dockerfile: b.Dockerfile, Target: b.Target, Tag: cs.Image, Labels: map[string]string{}}
			if bs.Dockerfile == "" {
				bs.Dockerfile = "Dockerfile"
			}
			for k, v := range b.Args {
				if v != nil {
					if bs.Args == nil {
						bs.Args = map[string]string{}
					}
					bs.Args[k] = *v
				}
			}
			for k, v := range b.Labels {
				bs.Labels[k] = v
			}
			bs.NoCache, bs.NetworkMode, bs.ShmSize = b.NoCache, b.Network, int64(b.ShmSize)
			for host, ips := range b.ExtraHosts {
				for _, ip := range ips {
					bs.ExtraHosts = append(bs.ExtraHosts, host+":"+ip)
				}
			}
			cs.Build = bs
		}
		out.Services = append(out.Services, cs)
	}
	for _, v := range p.Volumes {
		if !bool(v.External) {
			out.Volumes = append(out.Volumes, v.Name)
		}
	}
	slices.Sort(out.Volumes)
	return out, nil
}

// applyOverride sets what the engine asks on one service.
func applyOverride(p *types.Project, name string, o ServiceOverride) error {
	s, ok := p.Services[name]
	if !ok {
		return fmt.Errorf("the Compose project %s has no service %s", p.Name, name)
	}
	if o.Image != "" {
		s.Image, s.Build = o.Image, nil
		s.PullPolicy = types.PullPolicyMissing
	}
	if o.ContainerName != "" {
		s.ContainerName = o.ContainerName
	}
	if len(o.Labels) > 0 && s.Labels == nil {
		s.Labels = types.Labels{}
	}
	for k, v := range o.Labels {
		s.Labels[k] = v
	}
	if len(o.Env) > 0 && s.Environment == nil {
		s.Environment = types.MappingWithEquals{}
	}
	for _, kv := range o.Env {
		k, v, _ := strings.Cut(kv, "=")
		s.Environment[k] = &v
	}
	if o.User != "" {
		s.User = o.User
	}
	if len(o.Entrypoint) > 0 {
		s.Entrypoint, s.Command = o.Entrypoint, o.Cmd
	}
	for _, m := range o.Mounts {
		v := types.ServiceVolumeConfig{Type: m.Type, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		if m.Type == "volume" && m.Source != "" {
			if p.Volumes == nil {
				p.Volumes = types.Volumes{}
			}
			if _, ok := p.Volumes[m.Source]; !ok {
				// A volume that devcontainer.json names keeps its name.
				p.Volumes[m.Source] = types.VolumeConfig{Name: m.Source}
			}
		}
		s.Volumes = append(s.Volumes, v)
	}
	s.Privileged = s.Privileged || o.Privileged
	if o.Init {
		yes := true
		s.Init = &yes
	}
	s.CapAdd = appendNew(s.CapAdd, o.CapAdd...)
	s.SecurityOpt = appendNew(s.SecurityOpt, o.SecurityOpt...)
	p.Services[name] = s
	return nil
}

func ptr[T any](v T) *T { return &v }

func appendNew(list []string, more ...string) []string {
	for _, m := range more {
		if !slices.Contains(list, m) {
			list = append(list, m)
		}
	}
	return list
}

// composeService returns Compose's own implementation of its API, using
// this client's connection and writing its progress lines to out.
func (c *Client) composeService(out func(string)) (api.Compose, func(), error) {
	w := &lineWriter{out: out}
	dcli, err := command.NewDockerCli(
		command.WithAPIClient(c.api),
		command.WithInputStream(io.NopCloser(strings.NewReader(""))),
		command.WithOutputStream(w),
		command.WithErrorStream(w),
	)
	if err != nil {
		return nil, nil, err
	}
	// The library logs warnings to the process's stderr, where they mix
	// with Pitlane's own output: errors only (Initialize sets the level).
	opts := cliflags.NewClientOptions()
	opts.LogLevel = "error"
	if err := dcli.Initialize(opts); err != nil {
		return nil, nil, err
	}
	yes := func(string, bool) (bool, error) { return true, nil }
	svc := compose.NewComposeService(dcli, compose.WithPrompt(yes))
	if err := c.warmCompose(svc); err != nil {
		return nil, nil, err
	}
	return svc, w.flush, nil
}

// composeWarm guards warmCompose.
var composeWarm struct {
	sync.Mutex
	done bool
}

// warmCompose asks the Compose library for the engine's version once per
// process, on a context nobody cancels, after checking that the engine
// answers. The library keeps the first answer for the life of the
// process, error and all: asked first on a request's context that is then
// cancelled (Ctrl-C, an IDE's cancel), every later Compose call would
// fail with "context canceled".
func (c *Client) warmCompose(svc api.Compose) error {
	composeWarm.Lock()
	defer composeWarm.Unlock()
	if composeWarm.done {
		return nil
	}
	rv, ok := svc.(interface {
		RuntimeVersion(context.Context) (string, error)
	})
	if !ok {
		composeWarm.done = true
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.api.Ping(ctx); err != nil {
		return unreachable(c.api.DaemonHost(), err)
	}
	if _, err := rv.RuntimeVersion(context.Background()); err != nil {
		return wrap(err)
	}
	composeWarm.done = true
	return nil
}

// ComposeUp creates (as needed) and starts a Compose project's services.
func (c *Client) ComposeUp(ctx context.Context, up ComposeUp, out func(string)) error {
	p, err := loadProject(ctx, up.Files)
	if err != nil {
		return err
	}
	for name, o := range up.Override {
		if err := applyOverride(p, name, o); err != nil {
			return err
		}
	}
	if p, err = p.WithSelectedServices(up.Services); err != nil {
		return err
	}
	p = p.WithoutUnnecessaryResources()
	svc, flush, err := c.composeService(out)
	if err != nil {
		return err
	}
	defer flush()
	opts := api.UpOptions{
		Create: api.CreateOptions{
			Services: up.Services, Recreate: api.RecreateDiverged, RecreateDependencies: api.RecreateDiverged,
			Inherit: true, QuietPull: true, AssumeYes: true,
		},
		Start: api.StartOptions{Project: p, Services: up.Services},
	}
	if len(up.Recreate) > 0 {
		opts.Create.Services, opts.Create.Recreate = up.Recreate, api.RecreateForce
	}
	return wrap(svc.Up(ctx, p, opts))
}

// composeStopTimeout is how long a stop or down waits for a container to
// end before killing it.
const composeStopTimeout = 10 * time.Second

// ComposeStop stops a Compose project's containers.
func (c *Client) ComposeStop(ctx context.Context, project string, out func(string)) error {
	svc, flush, err := c.composeService(out)
	if err != nil {
		return err
	}
	defer flush()
	return wrap(svc.Stop(ctx, project, api.StopOptions{Timeout: ptr(composeStopTimeout)}))
}

// ComposeStart starts the containers a Compose project has.
func (c *Client) ComposeStart(ctx context.Context, project string, out func(string)) error {
	svc, flush, err := c.composeService(out)
	if err != nil {
		return err
	}
	defer flush()
	return wrap(svc.Start(ctx, project, api.StartOptions{}))
}

// ComposeDown removes a Compose project's containers and networks, and
// its volumes with volumes. It returns the project's volumes that are
// kept.
func (c *Client) ComposeDown(ctx context.Context, project string, volumes bool, out func(string)) ([]string, error) {
	svc, flush, err := c.composeService(out)
	if err != nil {
		return nil, err
	}
	err = svc.Down(ctx, project, api.DownOptions{Volumes: volumes, RemoveOrphans: true, Timeout: ptr(composeStopTimeout)})
	flush()
	if err != nil && !errors.Is(err, api.ErrNotFound) {
		return nil, wrap(err)
	}
	return c.ComposeVolumes(ctx, project)
}

// ComposeVolumes lists the volumes of a Compose project, by name.
func (c *Client) ComposeVolumes(ctx context.Context, project string) ([]string, error) {
	resp, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", api.ProjectLabel+"="+project))})
	if err != nil {
		return nil, wrap(err)
	}
	var names []string
	for _, v := range resp.Volumes {
		names = append(names, v.Name)
	}
	slices.Sort(names)
	return names, nil
}

// RemoveVolume removes a volume; a missing one is not an error.
func (c *Client) RemoveVolume(ctx context.Context, name string) error {
	err := c.api.VolumeRemove(ctx, name, true)
	if err != nil && !errors.Is(wrap(err), ErrNotFound) {
		return wrap(err)
	}
	return nil
}

// ComposeContainers lists the containers of a Compose project.
func (c *Client) ComposeContainers(ctx context.Context, project string) ([]ComposeContainer, error) {
	sums, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", api.ProjectLabel+"="+project),
		filters.Arg("label", api.OneoffLabel+"=False"),
	)})
	if err != nil {
		return nil, wrap(err)
	}
	out := make([]ComposeContainer, 0, len(sums))
	for _, s := range sums {
		name := ""
		if len(s.Names) > 0 {
			name = trimSlash(s.Names[0])
		}
		out = append(out, ComposeContainer{ID: s.ID, Name: name, Service: s.Labels[api.ServiceLabel], State: string(s.State)})
	}
	slices.SortFunc(out, func(a, b ComposeContainer) int { return strings.Compare(a.Service+a.Name, b.Service+b.Name) })
	return out, nil
}

// lineWriter hands what Compose writes to out, one line at a time.
type lineWriter struct {
	mu  sync.Mutex
	out func(string)
	buf []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexAny(w.buf, "\r\n")
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(w.buf[:i])); line != "" && w.out != nil {
			w.out(line)
		}
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if line := strings.TrimSpace(string(w.buf)); line != "" && w.out != nil {
		w.out(line)
	}
	w.buf = nil
}
