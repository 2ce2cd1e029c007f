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
	// folder is left over from a create that died, and goes.
	dir := m.wsDir(name)
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

// readConfig finds and reads the source's container configuration.
func (m *Manager) readConfig(local, configPath string, p Progress) (*plan, error) {
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
		p.Output("no devcontainer.json or Dockerfile found: using the default image " + m.opts.DefaultImage)
		pl.kind = KindDefault
		pl.cfg = &devcontainer.Config{Image: m.opts.DefaultImage}
		pl.image = m.opts.DefaultImage
		return pl, nil
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

// setup turns a fetched source into a running, set-up container.
func (m *Manager) setup(ctx context.Context, name string, src Source, local, configPath string, p *logProgress, containerID *string) (*Workspace, ConfigKind, error) {
	p.Step("Reading configuration")
	pl, err := m.readConfig(local, configPath, p)
	if err != nil {
		return nil, "", inStep("config", err)
	}
	kind := pl.kind
	if pl.configPath != "" {
		p.Output("using " + pl.configPath)
	}

	folder := pl.cfg.WorkspaceFolder
	if folder == "" {
		folder = devcontainer.DefaultWorkspaceFolder(local)
	}
	vars := devcontainer.Vars{LocalWorkspaceFolder: local, ContainerWorkspaceFolder: folder, DevcontainerID: m.devcontainerID(name)}
	cfg, err := vars.SubstituteConfig(pl.cfg)
	if err != nil {
		return nil, kind, inStep("config", err)
	}
	folder = vars.Substitute(folder)

	// Image.
	image := cfg.Image
	builtImage := ""
	if pl.build != nil {
		builtImage = "pitlane-" + name + ":latest"
		image = builtImage
		p.Step("Building image")
		err := m.d.Build(ctx, docker.BuildSpec{
			Context: pl.build.Context, Dockerfile: pl.build.Dockerfile, Args: pl.build.Args, Target: pl.build.Target,
			Tag: builtImage, Labels: map[string]string{LabelWorkspace: name, LabelInstance: m.opts.Instance},
		}, p.Output)
		if err != nil {
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
				return nil, kind, inStep("build", m.engineErr(err))
			}
		}
	}
	img, err := m.d.InspectImage(ctx, image)
	if err != nil {
		return nil, kind, inStep("build", m.engineErr(err))
	}

	remoteUser := firstNonEmpty(cfg.RemoteUser, cfg.ContainerUser, img.User, "root")
	ws := &Workspace{
		Name: name, State: StateCreating, Source: src, Image: image, ConfigKind: kind, ConfigPath: pl.configPath,
		LocalFolder: local, Folder: folder, RemoteUser: remoteUser, SSHHost: name + "." + SSHDomain,
		CreatedAt: time.Now().UTC().Truncate(time.Second), Ports: cfg.Ports(),
	}
	if pl.image != "" && builtImage == "" {
		ws.Image = pl.image
	}
	spec := docker.ContainerSpec{
		Name:   ContainerName(name),
		Image:  image,
		Env:    envList(cfg.ContainerEnv),
		User:   cfg.ContainerUser,
		Labels: encodeLabels(record{ws: ws, instance: m.opts.Instance, builtImage: builtImage, configHash: pl.configHash, config: cfg}),
		Mounts: []docker.Mount{{Type: "bind", Source: local, Target: folder}},
	}
	if cfg.WorkspaceMount != "" {
		mnt, err := parseMount(cfg.WorkspaceMount)
		if err != nil {
			return nil, kind, inStep("config", fmt.Errorf("workspaceMount: %w", err))
		}
		spec.Mounts = []docker.Mount{mnt}
	}
	if cfg.OverrideCommand == nil || *cfg.OverrideCommand {
		spec.Entrypoint = keepAlive[:1]
		spec.Cmd = keepAlive[1:]
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

	hooks := []struct {
		name string
		cmd  *devcontainer.Command
	}{
		{"onCreateCommand", cfg.OnCreateCommand},
		{"postCreateCommand", cfg.PostCreateCommand},
		{"postStartCommand", cfg.PostStartCommand},
	}
	for _, h := range hooks {
		if err := m.runHook(ctx, ws, cfg, h.name, h.cmd, p); err != nil {
			if ctx.Err() != nil {
				return nil, kind, ctx.Err()
			}
			ws.State, ws.LastError = StateError, err.Error()
			_ = m.updateMarker(name, func(mk *marker) { mk.Phase, mk.Error = phaseError, err.Error() })
			return ws, kind, inStep("hooks", err)
		}
	}
	if err := m.updateMarker(name, func(mk *marker) { mk.Phase, mk.Error = phaseReady, ""; mk.LastUsed = time.Now().UTC() }); err != nil {
		return nil, kind, err
	}
	p.Step("")
	ws.State = StateRunning
	ws.LastUsedAt = time.Now().UTC()
	return ws, kind, nil
}

// runHook runs one lifecycle command as the remote user in the workspace
// folder, streaming its output.
func (m *Manager) runHook(ctx context.Context, ws *Workspace, cfg *devcontainer.Config, name string, cmd *devcontainer.Command, p Progress) error {
	if cmd.Empty() {
		return nil
	}
	p.Step("Running " + name)
	lw := newLineWriter(p.Output)
	code, err := m.d.Exec(ctx, ws.ContainerID, docker.ExecSpec{
		Cmd: cmd.Argv(), User: ws.RemoteUser, WorkingDir: ws.Folder, Env: envList(cfg.RemoteEnv),
		Stdout: lw, Stderr: lw,
	})
	lw.Flush()
	if err != nil {
		return fmt.Errorf("%w: %s could not run: %v", ErrHookFailed, name, err)
	}
	if code != 0 {
		return fmt.Errorf("%w: %s exited with status %d (its output is in `pitlane logs %s`)", ErrHookFailed, name, code, ws.Name)
	}
	return nil
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
