package workspace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/docker"
	"github.com/pitlane/pitlane/internal/source"
)

// keepAlive is the container command when the config does not ask for the
// image's own: it idles and exits at once on `docker stop`.
var keepAlive = []string{"/bin/sh", "-c", "echo Container started; trap 'exit 0' TERM INT; while sleep 86400 & wait $!; do :; done"}

// stepError records which step of a create failed, for the event.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

func inStep(step string, err error) error {
	if err == nil {
		return nil
	}
	return &stepError{step: step, err: err}
}

// Create makes a new workspace from a source: fetches it, reads its
// configuration, builds or finds the image, creates and starts the
// container and runs the setup hooks.
//
// If anything before the hooks fails, or ctx is cancelled, everything made
// so far is removed and the same Create can be run again. If a hook fails,
// the workspace is kept, in StateError, for inspection, and the error
// matches ErrHookFailed.
func (m *Manager) Create(ctx context.Context, opts CreateOptions) (*Workspace, error) {
	start := time.Now()
	name := opts.Name
	if name == "" {
		name = source.BaseName(opts.Source)
	}
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if opts.Source == "" {
		return nil, fmt.Errorf("%w: no source given: name a git URL or a folder", ErrSourceInvalid)
	}
	unlock, err := m.lock(name, opCreate)
	if err != nil {
		return nil, err
	}
	defer unlock()

	ws, kind, err := m.create(ctx, name, opts)
	ev := Event{Kind: EventCreated, Name: name, Workspace: ws, Duration: time.Since(start), ConfigKind: kind}
	var se *stepError
	if errors.As(err, &se) {
		ev.FailedStep = se.step
	}
	if err != nil && !errors.Is(err, ErrHookFailed) {
		ev.Kind, ev.Workspace = EventCreateFailed, nil
	}
	m.emit(ev)
	return ws, err
}

func (m *Manager) create(ctx context.Context, name string, opts CreateOptions) (_ *Workspace, kind ConfigKind, err error) {
	if _, err := m.find(ctx, name); err == nil {
		return nil, "", fmt.Errorf("%w: a workspace named %s exists already: pick another name with --name, or remove it with `pitlane delete %s`", ErrNameTaken, name, name)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, "", err
	} else if c, ierr := m.d.Inspect(ctx, ContainerName(name)); ierr == nil {
		return nil, "", fmt.Errorf("%w: a container named %s exists already (not one of this Pitlane's workspaces); pick another name with --name", ErrNameTaken, c.Name)
	}

	// No container exists and we hold the lock: anything in the data
	// folder is left over from a create that died, and goes. A clone of
	// a workspace that was complete (its container removed by hand) may
	// hold the user's work: that is never removed silently.
	dir := m.wsDir(name)
	if _, err := os.Stat(filepath.Join(dir, "src")); err == nil && m.readMarker(name).Phase != phaseCreating {
		return nil, "", fmt.Errorf("%w: %s has no container but still has its clone in %s, perhaps with unsaved work; save what you need, then remove it with `pitlane delete %s`, or pick another name with --name", ErrNameTaken, name, filepath.Join(dir, "src"), name)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	logf, err := os.OpenFile(m.LogPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	p := newLogProgress(logf, opts.Progress)
	defer p.Close()

	var containerID string
	defer func() {
		if err == nil || errors.Is(err, ErrHookFailed) {
			return
		}
		// Roll back on a fresh context: the caller's may be cancelled.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if containerID != "" {
			_ = m.d.Remove(cctx, containerID)
		}
		p.Close()
		os.RemoveAll(dir)
	}()
	if err := m.updateMarker(name, func(mk *marker) { mk.Phase = phaseCreating }); err != nil {
		return nil, "", err
	}

	// Source.
	src := Source{URL: opts.Source, Ref: opts.Branch}
	var local string
	if source.IsGitURL(opts.Source) {
		p.Step("Cloning " + opts.Source)
		local = filepath.Join(dir, "src", source.BaseName(opts.Source))
		if err := source.Clone(ctx, opts.Source, opts.Branch, local, p.Output); err != nil {
			return nil, "", inStep("source", fmt.Errorf("%w: %w", ErrSourceInvalid, err))
		}
	} else {
		local, err = source.LocalFolder(opts.Source)
		if err != nil {
			return nil, "", inStep("source", fmt.Errorf("%w: %w", ErrSourceInvalid, err))
		}
		if opts.Branch != "" {
			return nil, "", inStep("source", fmt.Errorf("%w: --branch applies to git URLs; %s is a local folder used as it is", ErrSourceInvalid, opts.Source))
		}
		src = Source{URL: local, Local: true}
	}

	return m.setup(ctx, name, src, local, opts.ConfigPath, p, &containerID)
}

// plan is a resolved configuration, ready to become a container.
type plan struct {
	kind       ConfigKind
	configPath string // relative to the source root
	configHash string
	cfg        *devcontainer.Config
	build      *devcontainer.BuildSpec
	image      string
}

// readConfig finds and reads the source's container configuration. A
// source with none gets a config generated from what it contains, kept in
// genDir.
func (m *Manager) readConfig(local, configPath, genDir string, p Progress) (*plan, error) {
	pl := &plan{}
	if configPath == "" {
		found, err := devcontainer.Find(local)
		if err != nil {
			return nil, err
		}
		if len(found) > 0 {
			configPath = found[0]
			if len(found) > 1 {
				p.Output(fmt.Sprintf("several devcontainer configs found (%s); using %s (choose another with --config)", strings.Join(found, ", "), configPath))
			}
		}
	}
	if configPath == "" {
		if fi, err := os.Stat(filepath.Join(local, "Dockerfile")); err == nil && fi.Mode().IsRegular() {
			p.Output("no devcontainer.json found: building the Dockerfile at the repository root")
			pl.kind = KindDockerfile
			pl.cfg = &devcontainer.Config{}
			pl.build = &devcontainer.BuildSpec{Context: local, Dockerfile: "Dockerfile"}
			return pl, nil
		}
		return m.detectedPlan(local, genDir, p)
	}
	abs := configPath
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(local, configPath)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("the config %s does not exist", configPath)
		}
		return nil, err
	}
	cfg, err := devcontainer.Parse(abs, data)
	if err != nil {
		return nil, err
	}
	if rel, err := filepath.Rel(local, abs); err == nil && !strings.HasPrefix(rel, "..") {
		configPath = rel
	}
	sum := sha256.Sum256(data)
	pl.kind, pl.configPath, pl.configHash, pl.cfg = KindDevcontainer, configPath, hex.EncodeToString(sum[:8]), cfg
	pl.build, err = cfg.BuildSpec(filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", abs, err)
	}
	pl.image = cfg.Image
	return pl, nil
}

// resolved is a configuration with the host's variables substituted and
// its run arguments checked: everything known before any image exists.
type resolved struct {
	*plan
	cfg       *devcontainer.Config
	folder    string
	configDir string
	runArgs   *devcontainer.RunArgs
	buildOpts *devcontainer.BuildOptions
	features  []*devcontainer.Feature
	mount     docker.Mount
}

// resolve substitutes the host-side variables and checks everything that
// can be checked before building.
// Features named by registry reference are fetched (or taken from the
// cache) here; log receives what the fetcher reports.
func (m *Manager) resolve(ctx context.Context, name, local string, pl *plan, log func(string)) (*resolved, error) {
	r := &resolved{plan: pl, configDir: local}
	if pl.configPath != "" {
		r.configDir = filepath.Dir(filepath.Join(local, pl.configPath))
	}
	pre := devcontainer.Vars{LocalWorkspaceFolder: local, DevcontainerID: m.devcontainerID(name)}
	folder := pre.Substitute(pl.cfg.WorkspaceFolder)
	if folder == "" {
		folder = devcontainer.DefaultWorkspaceFolder(local)
	}
	vars := devcontainer.Vars{LocalWorkspaceFolder: local, ContainerWorkspaceFolder: folder, DevcontainerID: m.devcontainerID(name)}
	cfg, err := vars.SubstituteConfig(pl.cfg)
	if err != nil {
		return nil, err
	}
	r.cfg, r.folder = cfg, folder
	if pl.build != nil && cfg.Build != nil && cfg.Build.Args != nil {
		pl.build.Args = cfg.Build.Args
	}
	if r.runArgs, err = devcontainer.ParseRunArgs(cfg.RunArgs); err != nil {
		return nil, err
	}
	if cfg.Build != nil {
		if r.buildOpts, err = devcontainer.ParseBuildOptions(cfg.Build.Options); err != nil {
			return nil, err
		}
	}
	r.mount = docker.Mount{Type: "bind", Source: local, Target: folder}
	if cfg.WorkspaceMount != "" {
		if r.mount, err = parseMount(cfg.WorkspaceMount); err != nil {
			return nil, fmt.Errorf("workspaceMount: %w", err)
		}
	}
	for _, mt := range cfg.Mounts {
		if _, err := toDockerMount(mt); err != nil {
			return nil, fmt.Errorf("mounts: %w", err)
		}
	}
	switch cfg.WaitFor {
	case "", devcontainer.PhaseOnCreate, devcontainer.PhaseUpdateContent, devcontainer.PhasePostCreate, devcontainer.PhasePostStart, devcontainer.PhasePostAttach:
	default:
		return nil, fmt.Errorf("waitFor %q is not a lifecycle command name (onCreateCommand, updateContentCommand, postCreateCommand, postStartCommand, postAttachCommand)", cfg.WaitFor)
	}
	if len(cfg.Features) > 0 {
		fetcher := m.featureFetcher(log)
		fs, err := devcontainer.LoadFeatures(ctx, cfg, r.configDir, fetcher.Fetch)
		if err != nil {
			return nil, err
		}
		if r.features, err = devcontainer.OrderFeatures(fs, cfg.OverrideFeatureInstallOrder); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// featureFetcher fetches features from registries into the cache under
// the data folder (features/), shared by all workspaces.
func (m *Manager) featureFetcher(log func(string)) *devcontainer.FeatureFetcher {
	return &devcontainer.FeatureFetcher{Dir: filepath.Join(m.opts.DataDir, "features"), Log: log}
}

// toDockerMount converts an entry of "mounts".
func toDockerMount(mt devcontainer.Mount) (docker.Mount, error) {
	if mt.Spec != "" {
		return parseMount(mt.Spec)
	}
	if mt.Target == "" {
		return docker.Mount{}, fmt.Errorf("a mount object needs a target")
	}
	t := mt.Type
	if t == "" {
		t = "volume"
	}
	if t != "bind" && t != "volume" {
		return docker.Mount{}, fmt.Errorf("mount type %q is not supported (use bind or volume)", t)
	}
	return docker.Mount{Type: t, Source: mt.Source, Target: mt.Target}, nil
}

// setup turns a fetched source into a running, set-up container.
func (m *Manager) setup(ctx context.Context, name string, src Source, local, configPath string, p *logProgress, containerID *string) (*Workspace, ConfigKind, error) {
	p.Step("Reading configuration")
	pl, err := m.readConfig(local, configPath, m.DetectedDir(name), p)
	if err != nil {
		return nil, "", inStep("config", err)
	}
	kind := pl.kind
	if pl.configPath != "" {
		p.Output("using " + pl.configPath)
	}
	r, err := m.resolve(ctx, name, local, pl, p.Output)
	if err != nil {
		return nil, kind, inStep("config", configErr(pl, err))
	}
	cfg, folder := r.cfg, r.folder
	if err := runInitialize(ctx, cfg, local, p); err != nil {
		return nil, kind, inStep("initialize", err)
	}

	// Image.
	image := cfg.Image
	builtImage := ""
	if pl.build != nil {
		builtImage = "pitlane-" + name + ":latest"
		image = builtImage
		p.Step("Building image")
		bs := docker.BuildSpec{
			Context: pl.build.Context, Dockerfile: pl.build.Dockerfile, Args: pl.build.Args, Target: pl.build.Target,
			Tag: builtImage, Labels: map[string]string{LabelWorkspace: name, LabelInstance: m.opts.Instance},
		}
		if o := r.buildOpts; o != nil {
			for k, v := range o.Args {
				if bs.Args == nil {
					bs.Args = map[string]string{}
				}
				bs.Args[k] = v
			}
			for k, v := range o.Labels {
				bs.Labels[k] = v
			}
			if o.Target != "" {
				bs.Target = o.Target
			}
			bs.NoCache, bs.Pull, bs.NetworkMode, bs.ExtraHosts, bs.ShmSize = o.NoCache, o.Pull, o.Network, o.AddHost, o.ShmSize
		}
		if err := m.d.Build(ctx, bs, p.Output); err != nil {
			return nil, kind, inStep("build", m.engineErr(err))
		}
	} else {
		ok, err := m.d.ImageExists(ctx, image)
		if err != nil {
			return nil, kind, inStep("build", m.engineErr(err))
		}
		if !ok {
			p.Step("Pulling " + image)
			if err := m.d.Pull(ctx, image, p.Output); err != nil {
				if image == m.opts.DefaultImage && ctx.Err() == nil {
					err = fmt.Errorf("%w\nthe default image %s is built locally, not pulled: run `make base-image` in Pitlane's source tree, or give the source a devcontainer.json that names an image", err, image)
				}
				return nil, kind, inStep("build", m.engineErr(err))
			}
		}
	}
	img, err := m.d.InspectImage(ctx, image)
	if err != nil {
		return nil, kind, inStep("build", m.engineErr(err))
	}
	metadata, err := devcontainer.ParseMetadata(img.Labels[devcontainer.MetadataLabel])
	if err != nil {
		p.Output("ignoring the image's metadata: " + err.Error())
		metadata = nil
	}
	tag := "pitlane-" + name + ":latest"
	if len(r.features) > 0 {
		pre := devcontainer.Merge(cfg, metadata)
		if err := m.buildFeatures(ctx, name, image, img, pre, r.features, tag, p); err != nil {
			return nil, kind, inStep("build", err)
		}
		image, builtImage = tag, tag
		if img, err = m.d.InspectImage(ctx, image); err != nil {
			return nil, kind, inStep("build", m.engineErr(err))
		}
		if metadata, err = devcontainer.ParseMetadata(img.Labels[devcontainer.MetadataLabel]); err != nil {
			return nil, kind, inStep("build", err)
		}
	}
	merged := devcontainer.Merge(cfg, metadata)
	remoteUser := firstNonEmpty(merged.RemoteUser, merged.ContainerUser, img.User, "root")
	if uid, gid, ok := m.wantUIDUpdate(merged, remoteUser); ok {
		if err := m.buildUIDUpdate(ctx, name, image, img.User, remoteUser, uid, gid, tag, p); err != nil {
			return nil, kind, inStep("build", err)
		}
		image, builtImage = tag, tag
	}
	for _, w := range m.hostWarnings(ctx, merged.HostRequirements) {
		p.Output("warning: " + w)
	}

	ws := &Workspace{
		Name: name, State: StateCreating, Source: src, Image: image, ConfigKind: kind, ConfigPath: pl.configPath,
		LocalFolder: local, Folder: folder, RemoteUser: remoteUser, SSHHost: name + "." + SSHDomain,
		CreatedAt: time.Now().UTC().Truncate(time.Second), Ports: merged.AllPorts(),
	}
	if pl.image != "" && builtImage == "" {
		ws.Image = pl.image
	}
	env := map[string]string{}
	for k, v := range merged.ContainerEnv {
		env[k] = v
	}
	for _, kv := range r.runArgs.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			if v, ok = os.LookupEnv(k); !ok {
				continue
			}
		}
		env[k] = v
	}
	spec := docker.ContainerSpec{
		Name:        ContainerName(name),
		Image:       image,
		Env:         envList(env),
		User:        merged.ContainerUser,
		Labels:      encodeLabels(record{ws: ws, instance: m.opts.Instance, builtImage: builtImage, configHash: pl.configHash, config: merged}),
		Mounts:      []docker.Mount{r.mount},
		Privileged:  (merged.Privileged != nil && *merged.Privileged) || r.runArgs.Privileged,
		Init:        (merged.Init != nil && *merged.Init) || r.runArgs.Init,
		CapAdd:      unionStrings(merged.CapAdd, r.runArgs.CapAdd),
		SecurityOpt: unionStrings(merged.SecurityOpt, r.runArgs.SecurityOpt),
		NetworkMode: r.runArgs.Network,
		ExtraHosts:  r.runArgs.AddHost,
		Devices:     r.runArgs.Devices,
		ShmSize:     r.runArgs.ShmSize,
	}
	for _, l := range r.runArgs.Labels {
		k, v, _ := strings.Cut(l, "=")
		if !strings.HasPrefix(k, "dev.pitlane.") {
			spec.Labels[k] = v
		}
	}
	for _, mt := range merged.Mounts {
		dm, err := toDockerMount(mt)
		if err != nil {
			return nil, kind, inStep("config", fmt.Errorf("mounts: %w", err))
		}
		if dm.Type == "bind" && dm.Source != "" {
			if err := os.MkdirAll(dm.Source, 0o755); err != nil {
				return nil, kind, inStep("config", fmt.Errorf("mounts: creating %s: %w", dm.Source, err))
			}
		}
		spec.Mounts = append(spec.Mounts, dm)
	}
	if merged.OverrideCommand == nil || *merged.OverrideCommand {
		spec.Entrypoint = keepAlive[:1]
		spec.Cmd = keepAlive[1:]
		if len(merged.Entrypoints) > 0 {
			spec.Cmd = []string{"-c", strings.Join(merged.Entrypoints, "\n") + "\n" + keepAlive[2]}
		}
	} else if len(merged.Entrypoints) > 0 {
		p.Output("warning: overrideCommand is false, so the features' entrypoints do not run")
	}

	p.Step("Creating container")
	id, err := m.d.Create(ctx, spec)
	if err != nil {
		if errors.Is(err, docker.ErrConflict) {
			return nil, kind, inStep("container", fmt.Errorf("%w: another process created a container named %s meanwhile", ErrNameTaken, spec.Name))
		}
		return nil, kind, inStep("container", m.engineErr(err))
	}
	*containerID = id
	ws.ContainerID = id
	if err := m.d.Start(ctx, id); err != nil {
		return nil, kind, inStep("container", m.engineErr(err))
	}

	fail := func(err error) (*Workspace, ConfigKind, error) {
		if ctx.Err() != nil {
			return nil, kind, ctx.Err()
		}
		ws.State, ws.LastError = StateError, err.Error()
		_ = m.updateMarker(name, func(mk *marker) { mk.Phase, mk.Error = phaseError, err.Error() })
		return ws, kind, inStep("hooks", err)
	}
	c, err := m.d.Inspect(ctx, id)
	if err != nil {
		return nil, kind, inStep("container", m.engineErr(err))
	}
	merged = containerResolve(merged, c.Env)
	// The profile patch needs root: it shares the probe's exec when the
	// remote user is root, and costs an exec of its own otherwise.
	prelude := ""
	if isRoot(ws.RemoteUser) {
		prelude = profilePatch
	} else {
		m.patchProfile(ctx, id)
	}
	henv, err := m.remoteEnvAfter(ctx, ws, c.Env, merged, prelude)
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrHookFailed, err))
	}
	waitFor := firstNonEmpty(merged.WaitFor, devcontainer.PhaseUpdateContent)
	for _, phase := range []string{devcontainer.PhaseOnCreate, devcontainer.PhaseUpdateContent, devcontainer.PhasePostCreate, devcontainer.PhasePostStart, devcontainer.PhasePostAttach} {
		if err := m.runPhase(ctx, ws, merged, phase, henv, p); err != nil {
			return fail(err)
		}
		if phase == waitFor && len(merged.Hooks(phase)) > 0 && phase != devcontainer.PhasePostAttach {
			p.Output("the workspace is usable now (waitFor " + waitFor + "); the remaining setup commands follow")
		}
	}
	if err := m.updateMarker(name, func(mk *marker) { mk.Phase, mk.Error = phaseReady, "" }); err != nil {
		return nil, kind, err
	}
	p.Step("")
	ws.State = StateRunning
	return ws, kind, nil
}

// patchProfile makes /etc/profile keep a PATH the container already has
// instead of resetting it, so login shells see containerEnv and remoteEnv
// PATH changes (as other dev container tools do). A missing file or a
// failure changes nothing.
func (m *Manager) patchProfile(ctx context.Context, id string) {
	_, _ = m.d.Exec(ctx, id, docker.ExecSpec{User: "root", Cmd: []string{"/bin/sh", "-c", profilePatch}})
}

const profilePatch = `[ -f /etc/profile ] && sed -i -E 's/((^|\s)PATH=)([^\$]*)$/\1${PATH:-\3}/g' /etc/profile || true`

// isRoot reports whether a user name or id is the superuser.
func isRoot(user string) bool {
	return user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:")
}

func configErr(pl *plan, err error) error {
	var se *devcontainer.SyntaxError
	if pl.configPath == "" || errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("%s: %w", pl.configPath, err)
}

func unionStrings(a, b []string) []string {
	out := append([]string{}, a...)
	for _, s := range b {
		found := false
		for _, x := range out {
			if x == s {
				found = true
			}
		}
		if !found {
			out = append(out, s)
		}
	}
	return out
}

// parseMount reads the devcontainer string mount syntax
// (type=bind,source=...,target=...).
func parseMount(s string) (docker.Mount, error) {
	m := docker.Mount{Type: "bind"}
	for _, part := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "type":
			m.Type = v
		case "source", "src":
			m.Source = v
		case "target", "destination", "dst":
			m.Target = v
		case "readonly", "ro":
			m.ReadOnly = v == "" || v == "true" || v == "1"
		case "consistency", "":
		default:
			return m, fmt.Errorf("unknown mount option %q in %q", k, s)
		}
	}
	if m.Target == "" {
		return m, fmt.Errorf("%q has no target", s)
	}
	if m.Type != "bind" && m.Type != "volume" {
		return m, fmt.Errorf("mount type %q is not supported (use bind or volume)", m.Type)
	}
	return m, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
