package workspace

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/runtime"
)

// Labels of a Compose workspace's container (empty on other workspaces).
const (
	// LabelComposeProject is the workspace's Compose project.
	LabelComposeProject = "dev.pitlane.compose.project"
	// LabelComposeService is the service the workspace runs in.
	LabelComposeService = "dev.pitlane.compose.service"
	// LabelComposeStop is composeStopProject when stopping the workspace
	// stops its project (shutdownAction stopCompose), composeStopNone when
	// it stops the workspace's container alone (shutdownAction none).
	LabelComposeStop = "dev.pitlane.compose.stop"
	// LabelComposeImages are the images Pitlane built for the project's
	// other services, comma-separated; they go with the workspace.
	LabelComposeImages = "dev.pitlane.compose.images"
)

const (
	composeStopProject = "project"
	composeStopNone    = "none"
)

// Composer runs Compose projects. The Docker runtime (*docker.Client) has
// it; a runtime without it cannot run Compose configs.
type Composer interface {
	// LoadCompose reads a project's files.
	LoadCompose(ctx context.Context, f runtime.ComposeFiles) (*runtime.ComposeProject, error)
	// ComposeUp creates (as needed) and starts a project's services.
	ComposeUp(ctx context.Context, up runtime.ComposeUp, out func(string)) error
	// ComposeStop stops every container of a project.
	ComposeStop(ctx context.Context, project string, out func(string)) error
	// ComposeStart starts every container a project has.
	ComposeStart(ctx context.Context, project string, out func(string)) error
	// ComposeDown removes a project's containers and networks, and its
	// volumes with volumes; it returns the volumes kept.
	ComposeDown(ctx context.Context, project string, volumes bool, out func(string)) ([]string, error)
	// ComposeVolumes lists a project's volumes.
	ComposeVolumes(ctx context.Context, project string) ([]string, error)
	RemoveVolume(ctx context.Context, name string) error
	// ComposeContainers lists a project's containers.
	ComposeContainers(ctx context.Context, project string) ([]runtime.ComposeContainer, error)
}

// ComposeInfo is what a Compose workspace's record says of its project.
type ComposeInfo struct {
	Project string `json:"project"`
	// Service is the service the workspace runs in.
	Service string `json:"service"`
	// Services are the project's other containers.
	Services []ServiceState `json:"services,omitempty"`
}

// ServiceState is one container of a Compose project.
type ServiceState struct {
	Service   string `json:"service"`
	Container string `json:"container"`
	// State is the engine's word: running, exited, created, ...
	State string `json:"state"`
}

func (m *Manager) composer() (Composer, error) {
	c, ok := m.rt.(Composer)
	if !ok {
		return nil, errors.New("a Compose config (dockerComposeFile) runs on a Docker engine only, and this provider is not one: create the workspace on a Docker provider")
	}
	return c, nil
}

// composeInfo fills in a Compose workspace's project and its other
// services; other workspaces get nil.
func (m *Manager) composeInfo(ctx context.Context, c *runtime.Container) *ComposeInfo {
	project := c.Labels[LabelComposeProject]
	if project == "" {
		return nil
	}
	info := &ComposeInfo{Project: project, Service: c.Labels[LabelComposeService]}
	cm, err := m.composer()
	if err != nil {
		return info
	}
	cs, err := cm.ComposeContainers(ctx, project)
	if err != nil {
		return info
	}
	for _, sc := range cs {
		if sc.ID != c.ID {
			info.Services = append(info.Services, ServiceState{Service: sc.Service, Container: sc.Name, State: sc.State})
		}
	}
	return info
}

// runSet is the services a Compose workspace starts: runServices (all
// when empty) and the workspace's service, with what they depend on.
func runSet(p *runtime.ComposeProject, spec *devcontainer.ComposeSpec) ([]string, error) {
	want := spec.RunServices
	if len(want) == 0 {
		for _, s := range p.Services {
			want = append(want, s.Name)
		}
	}
	want = append(slices.Clone(want), spec.Service)
	var out []string
	var add func(name, from string) error
	add = func(name, from string) error {
		if slices.Contains(out, name) {
			return nil
		}
		s := p.Service(name)
		if s == nil {
			return fmt.Errorf("%s names the service %q, which the Compose files do not define (they define %s)", from, name, strings.Join(serviceNames(p), ", "))
		}
		out = append(out, name)
		for _, d := range s.DependsOn {
			if err := add(d, "the service "+name+"'s depends_on"); err != nil {
				return err
			}
		}
		return nil
	}
	for i, n := range want {
		from := "runServices"
		if i == len(want)-1 {
			from = "service"
		}
		if err := add(n, from); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func serviceNames(p *runtime.ComposeProject) []string {
	names := make([]string, 0, len(p.Services))
	for _, s := range p.Services {
		names = append(names, s.Name)
	}
	return names
}

// composeTrust lists what the services that will run ask of the host:
// privileges, host namespaces, devices, and bind mounts or build
// contexts outside the source folder local.
func composeTrust(p *runtime.ComposeProject, run []string, local string) []TrustItem {
	var items []TrustItem
	for _, name := range run {
		s := p.Service(name)
		from := "Compose service " + name
		if s.Privileged {
			items = append(items, TrustItem{Kind: TrustPrivileged, Detail: "privileged mode", From: from})
		}
		for _, c := range s.CapAdd {
			items = append(items, TrustItem{Kind: TrustCapability, Detail: strings.ToUpper(c), From: from})
		}
		for _, o := range s.SecurityOpt {
			items = append(items, TrustItem{Kind: TrustSecurityOpt, Detail: o, From: from})
		}
		for _, d := range s.Devices {
			items = append(items, TrustItem{Kind: TrustDevice, Detail: d, From: from})
		}
		switch n := s.NetworkMode; {
		case n == "host":
			items = append(items, TrustItem{Kind: TrustHostNetwork, Detail: "network_mode: host", From: from})
		case strings.HasPrefix(n, "container:"):
			items = append(items, TrustItem{Kind: TrustHostNamespace, Detail: strings.TrimPrefix(n, "container:"), From: from})
		}
		for _, ns := range []struct{ key, v string }{{"pid", s.Pid}, {"ipc", s.Ipc}} {
			switch {
			case ns.v == "host":
				items = append(items, TrustItem{Kind: TrustHostNamespace, Detail: "this machine's " + ns.key + " namespace", From: from})
			case strings.HasPrefix(ns.v, "container:"):
				items = append(items, TrustItem{Kind: TrustHostNamespace, Detail: strings.TrimPrefix(ns.v, "container:"), From: from})
			}
		}
		for _, b := range s.Binds {
			if !within(local, b.Source) {
				items = append(items, TrustItem{Kind: TrustBindMount, Detail: b.Source + " to " + b.Target, From: from})
			}
		}
		if s.Build != nil && !within(local, s.Build.Context) {
			items = append(items, TrustItem{Kind: TrustBuildContext, Detail: s.Build.Context, From: from})
		}
	}
	return items
}

// composeSetup is setup for a Compose config: it loads the project, asks
// for trust, runs initializeCommand, builds the services' images (the
// workspace service's through the image step, with features and the uid
// update), brings the project up with Pitlane's settings on the workspace
// service, and runs the hooks in the workspace container. A rebuild
// (rebuildOf names the workspace's project) makes the workspace service's
// image and container again in the project that runs.
//
// If a create fails before the hooks, or ctx is cancelled, the project is
// taken down again: its containers, networks and the volumes it made.
func (m *Manager) composeSetup(ctx context.Context, name string, src Source, local string, consent Consent, r *resolved, rebuildOf string, p Progress) (_ *Workspace, err error) {
	rebuild := rebuildOf != ""
	cm, err := m.composer()
	if err != nil {
		return nil, inStep("config", err)
	}
	files := runtime.ComposeFiles{Files: r.compose.Files, DefaultName: ContainerName(name)}
	p.Step("Reading the Compose files")
	proj, err := cm.LoadCompose(ctx, files)
	if err != nil {
		return nil, inStep("config", configErr(r.plan, m.engineErr(err)))
	}
	run, err := runSet(proj, r.compose)
	if err != nil {
		return nil, inStep("config", configErr(r.plan, err))
	}
	if rebuild && proj.Name != rebuildOf {
		return nil, inStep("config", fmt.Errorf("the Compose project's name is now %s, not %s: delete the workspace and create it again", proj.Name, rebuildOf))
	}
	if !rebuild {
		cs, err := cm.ComposeContainers(ctx, proj.Name)
		if err != nil {
			return nil, inStep("config", m.engineErr(err))
		}
		if len(cs) > 0 {
			return nil, inStep("config", fmt.Errorf("%w: a Compose project named %s exists already (container %s): give this one another name (top-level name: in the Compose file, or COMPOSE_PROJECT_NAME), or take that one down", ErrNameTaken, proj.Name, cs[0].Name))
		}
	}
	if len(r.cfg.RunArgs) > 0 {
		p.Output("warning: runArgs do not apply to a Compose config: set them on the service " + r.compose.Service + " in the Compose file")
	}
	r.runArgs = &devcontainer.RunArgs{}

	asked := append(planTrust(r, local), composeTrust(proj, run, local)...)
	if err := m.checkTrust(ctx, consent, name, src, r.configPath, r.configHash, asked); err != nil {
		return nil, inStep("config", err)
	}
	if !r.cfg.InitializeCommand.Empty() {
		if err := runInitialize(ctx, r.cfg, local, p); err != nil {
			return nil, inStep("initialize", err)
		}
		// initializeCommand may write what the files read (.env).
		if proj, err = cm.LoadCompose(ctx, files); err != nil {
			return nil, inStep("config", configErr(r.plan, err))
		}
		if run, err = runSet(proj, r.compose); err != nil {
			return nil, inStep("config", configErr(r.plan, err))
		}
	}

	for _, n := range run {
		if s := proj.Service(n); s.Build != nil && s.BuildProblem != "" {
			return nil, inStep("config", configErr(r.plan, errors.New(s.BuildProblem)))
		}
	}
	// The other services' images.
	override := map[string]runtime.ServiceOverride{}
	var built []string
	defer func() {
		if err != nil && !rebuild && !errors.Is(err, ErrHookFailed) {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			for _, ref := range built {
				_ = m.rt.RemoveImage(cctx, ref)
			}
		}
	}()
	for _, n := range run {
		s := proj.Service(n)
		if n == r.compose.Service || s.Build == nil {
			continue
		}
		if rebuild {
			if ok, _ := m.rt.ImageExists(ctx, s.Image); ok {
				override[n] = runtime.ServiceOverride{Image: s.Image}
				continue
			}
		}
		p.Step("Building the image of service " + n)
		bs := *s.Build
		bs.Labels = m.imageLabels(name, nil)
		for k, v := range s.Build.Labels {
			bs.Labels[k] = v
		}
		if err := m.rt.Build(ctx, bs, p.Output); err != nil {
			return nil, inStep("build", fmt.Errorf("service %s: %w", n, m.engineErr(err)))
		}
		built = append(built, bs.Tag)
		override[n] = runtime.ServiceOverride{Image: bs.Tag}
	}

	// The workspace service's image goes through the image step.
	svc := proj.Service(r.compose.Service)
	if b := svc.Build; b != nil {
		r.build = &devcontainer.BuildSpec{Context: b.Context, Dockerfile: b.Dockerfile, Args: b.Args, Target: b.Target}
	} else {
		r.cfg.Image, r.image = svc.Image, svc.Image
	}
	if r.cfg.OverrideCommand == nil {
		// A Compose service runs its own command unless asked otherwise.
		no := false
		r.cfg.OverrideCommand, r.record.OverrideCommand = &no, &no
	}
	img, err := m.imageStep(ctx, name, r, p)
	if err != nil {
		return nil, inStep("build", err)
	}
	if more := metadataTrust(img.metadata); len(more) > 0 {
		if err := m.checkTrust(ctx, consent, name, src, r.configPath, r.configHash, append(asked, more...)); err != nil {
			return nil, inStep("build", err)
		}
	}
	cp, err := m.containerSpec(name, src, local, r, img)
	if err != nil {
		return nil, inStep("config", err)
	}
	spec := cp.spec
	// The Compose files mount what the workspace needs: no workspace
	// mount is added.
	spec.Mounts = spec.Mounts[1:]
	stop := composeStopProject
	if !r.compose.StopCompose {
		stop = composeStopNone
	}
	spec.Labels[LabelComposeProject] = proj.Name
	spec.Labels[LabelComposeService] = svc.Name
	spec.Labels[LabelComposeStop] = stop
	spec.Labels[LabelComposeImages] = strings.Join(built, ",")
	if rebuild {
		// Images built for the other services at create time stay with
		// the workspace.
		spec.Labels[LabelComposeImages] = strings.Join(composeImages(proj, run, r.compose.Service), ",")
	}
	override[svc.Name] = runtime.ServiceOverride{
		Image: img.ref, ContainerName: spec.Name, Labels: spec.Labels, Env: spec.Env, User: spec.User,
		Entrypoint: spec.Entrypoint, Cmd: spec.Cmd, Mounts: spec.Mounts,
		Privileged: spec.Privileged, Init: spec.Init, CapAdd: spec.CapAdd, SecurityOpt: spec.SecurityOpt,
	}

	before, err := cm.ComposeVolumes(ctx, proj.Name)
	if err != nil {
		return nil, inStep("container", m.engineErr(err))
	}
	up := runtime.ComposeUp{Files: files, Override: override}
	if len(r.compose.RunServices) > 0 {
		up.Services = run
	}
	if rebuild {
		up.Recreate = []string{svc.Name}
	}
	defer func() {
		if err != nil && !rebuild && !errors.Is(err, ErrHookFailed) {
			m.composeRollback(ctx, cm, proj.Name, before)
		}
	}()
	p.Step("Starting the Compose project " + proj.Name)
	if err := cm.ComposeUp(ctx, up, p.Output); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, inStep("container", fmt.Errorf("starting the Compose project %s: %w", proj.Name, m.engineErr(err)))
	}
	c, err := m.rt.Inspect(ctx, spec.Name)
	if err != nil {
		return nil, inStep("container", m.engineErr(err))
	}
	ws := cp.ws
	ws.ContainerID = c.ID
	ws.Compose = &ComposeInfo{Project: proj.Name, Service: svc.Name}
	return m.finishStep(ctx, name, ws, c.ID, img, r, cp, p)
}

// composeImages are the images of the services in run, other than the
// workspace's, that Pitlane built for workspace.
func composeImages(p *runtime.ComposeProject, run []string, workspace string) []string {
	var out []string
	for _, n := range run {
		if s := p.Service(n); n != workspace && s.Build != nil {
			out = append(out, s.Image)
		}
	}
	return out
}

// composeRollback takes down a project a create made, with the volumes
// that were not there before it.
func (m *Manager) composeRollback(ctx context.Context, cm Composer, project string, before []string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	kept, err := cm.ComposeDown(cctx, project, false, nil)
	if err != nil {
		return
	}
	for _, v := range kept {
		if !slices.Contains(before, v) {
			_ = cm.RemoveVolume(cctx, v)
		}
	}
}

// composeStop stops a Compose workspace: its project, or with
// shutdownAction none its container alone.
func (m *Manager) composeStop(ctx context.Context, c *runtime.Container) error {
	if c.Labels[LabelComposeStop] == composeStopNone {
		return m.engineErr(m.rt.Stop(ctx, c.ID, stopTimeout))
	}
	cm, err := m.composer()
	if err != nil {
		return err
	}
	return m.engineErr(cm.ComposeStop(ctx, c.Labels[LabelComposeProject], nil))
}

// composeStart starts every container of a Compose workspace's project.
func (m *Manager) composeStart(ctx context.Context, c *runtime.Container, p Progress) error {
	cm, err := m.composer()
	if err != nil {
		return err
	}
	return m.engineErr(cm.ComposeStart(ctx, c.Labels[LabelComposeProject], p.Output))
}

// composeDelete takes a Compose workspace's project down, with its
// volumes when asked, and removes the images Pitlane built for it.
func (m *Manager) composeDelete(ctx context.Context, c *runtime.Container, opts DeleteOptions) error {
	cm, err := m.composer()
	if err != nil {
		return err
	}
	project := c.Labels[LabelComposeProject]
	kept, err := cm.ComposeDown(ctx, project, opts.Volumes, nil)
	if err != nil {
		return m.engineErr(err)
	}
	if len(kept) > 0 && opts.Output != nil {
		opts.Output(fmt.Sprintf("kept the volumes of the Compose project %s: %s (delete with --volumes to remove them, or remove them with `docker volume rm %s`)", project, strings.Join(kept, ", "), strings.Join(kept, " ")))
	}
	if img := c.Labels[LabelBuiltImage]; img != "" {
		_ = m.rt.RemoveImage(ctx, img)
	}
	for _, img := range strings.Split(c.Labels[LabelComposeImages], ",") {
		if img != "" {
			_ = m.rt.RemoveImage(ctx, img)
		}
	}
	return nil
}

// rebuildCompose rebuilds a Compose workspace: the workspace service's
// image and container, in the project as it runs.
func (m *Manager) rebuildCompose(ctx context.Context, name string, c *runtime.Container, old *Workspace, opts RebuildOptions, p Progress) (*Workspace, ConfigKind, error) {
	r, err := m.planStep(ctx, name, old.LocalFolder, old.ConfigPath, p)
	kind := old.ConfigKind
	if r != nil {
		kind = r.kind
	}
	if err != nil {
		return nil, kind, inStep("config", err)
	}
	if r.compose == nil {
		return nil, kind, inStep("config", fmt.Errorf("%s is no longer a Compose config: delete the workspace and create it again", filepath.ToSlash(old.ConfigPath)))
	}
	r.cacheFrom = m.CacheFrom(old.Source.URL)
	ws, err := m.composeSetup(ctx, name, old.Source, old.LocalFolder, opts.Consent, r, c.Labels[LabelComposeProject], p)
	if (err == nil || errors.Is(err, ErrHookFailed)) && c.Labels[LabelBuiltImage] != "" && c.ImageID != "" {
		if nc, ierr := m.rt.Inspect(ctx, ContainerName(name)); ierr == nil && nc.ImageID != c.ImageID {
			// The new build took the tag; the old image would only dangle.
			_ = m.rt.RemoveImage(context.WithoutCancel(ctx), c.ImageID)
		}
	}
	return ws, kind, err
}
