package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/source"
)

// stopTimeout is how long a container gets to exit before it is killed.
const stopTimeout = 10 * time.Second

// Start starts a stopped workspace and runs its postStartCommand. Starting
// a running workspace does nothing.
func (m *Manager) Start(ctx context.Context, name string, prog Progress) (*Workspace, error) {
	begin := time.Now()
	c, err := m.find(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.Running {
		return m.fromContainer(c), nil
	}
	unlock, err := m.lock(name, "start")
	if err != nil {
		return nil, err
	}
	defer unlock()
	logf, err := os.OpenFile(m.LogPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		if err := os.MkdirAll(m.wsDir(name), 0o755); err != nil {
			return nil, err
		}
		logf, err = os.OpenFile(m.LogPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
	}
	p := newLogProgress(logf, prog)
	defer p.Close()
	cfg := decodeConfig(c.Labels)
	if ws := m.fromContainer(c); ws.LocalFolder != "" {
		if err := runInitialize(ctx, cfg, ws.LocalFolder, p); err != nil {
			return nil, err
		}
	}
	p.Step("Starting " + name)
	if err := m.d.Start(ctx, c.ID); err != nil {
		return nil, m.engineErr(err)
	}
	ws := m.fromContainer(c)
	ws.State = StateRunning
	err = m.runContainerPhase(ctx, ws, c.ID, devcontainer.PhasePostStart, p)
	if err != nil {
		_ = m.updateMarker(name, func(mk *marker) { mk.Phase, mk.Error = phaseError, err.Error() })
		ws.State, ws.LastError = StateError, err.Error()
		m.emit(Event{Kind: EventStarted, Name: name, Workspace: ws, Duration: time.Since(begin), FailedStep: "hooks"})
		return ws, err
	}
	_ = m.updateMarker(name, func(mk *marker) {
		if mk.Phase == phaseError {
			mk.Phase, mk.Error = phaseReady, ""
		}
	})
	p.Step("")
	ws, err = m.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	m.emit(Event{Kind: EventStarted, Name: name, Workspace: ws, Duration: time.Since(begin)})
	return ws, nil
}

// Stop stops a workspace's container. Stopping a stopped workspace does
// nothing.
func (m *Manager) Stop(ctx context.Context, name string) (*Workspace, error) {
	c, err := m.find(ctx, name)
	if err != nil {
		return nil, err
	}
	if !c.Running {
		return m.fromContainer(c), nil
	}
	if err := m.d.Stop(ctx, c.ID, stopTimeout); err != nil {
		return nil, m.engineErr(err)
	}
	ws, err := m.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	m.emit(Event{Kind: EventStopped, Name: name, Workspace: ws})
	return ws, nil
}

// Delete removes a workspace: its container, the image Pitlane built for
// it, and its data (clone, logs, markers). A local source folder is never
// touched.
func (m *Manager) Delete(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	unlock, err := m.lock(name, opDelete)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := m.find(ctx, name)
	if errors.Is(err, ErrNotFound) {
		// Data without a container (a create that died): clean it up.
		if _, serr := os.Stat(m.wsDir(name)); serr == nil {
			return os.RemoveAll(m.wsDir(name))
		}
		return err
	}
	if err != nil {
		return err
	}
	if err := m.d.Remove(ctx, c.ID); err != nil {
		return m.engineErr(err)
	}
	if img := c.Labels[LabelBuiltImage]; img != "" {
		_ = m.d.RemoveImage(ctx, img)
	}
	if err := os.RemoveAll(m.wsDir(name)); err != nil {
		return fmt.Errorf("removing %s: %w", m.wsDir(name), err)
	}
	m.emit(Event{Kind: EventDeleted, Name: name})
	return nil
}

// Rebuild replaces a workspace's container with a new one built from the
// current configuration, keeping the source (and a clone's local changes),
// and runs all setup hooks again.
func (m *Manager) Rebuild(ctx context.Context, name string, prog Progress) (*Workspace, error) {
	start := time.Now()
	c, err := m.find(ctx, name)
	if err != nil {
		return nil, err
	}
	unlock, err := m.lock(name, opCreate)
	if err != nil {
		return nil, err
	}
	defer unlock()
	old := m.fromContainer(c)
	if err := os.MkdirAll(m.wsDir(name), 0o755); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(m.LogPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p := newLogProgress(logf, prog)
	defer p.Close()

	// The old container steps aside (stopped, renamed) rather than going
	// at once: if the new one cannot be made, it comes back as it was.
	prev := m.readMarker(name)
	p.Step("Setting the old container aside")
	if c.Running {
		if err := m.d.Stop(ctx, c.ID, stopTimeout); err != nil {
			return nil, m.engineErr(err)
		}
	}
	if err := m.d.Rename(ctx, c.ID, ContainerName(name)+"-previous"); err != nil {
		return nil, m.engineErr(err)
	}
	restore := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = m.d.Rename(rctx, c.ID, ContainerName(name))
		if c.Running {
			_ = m.d.Start(rctx, c.ID)
		}
		_ = m.updateMarker(name, func(mk *marker) { mk.Phase, mk.Error = prev.Phase, prev.Error })
	}
	if err := m.updateMarker(name, func(mk *marker) { mk.Phase = phaseCreating }); err != nil {
		restore()
		return nil, err
	}
	var id string
	ws, kind, err := m.setup(ctx, name, old.Source, old.LocalFolder, old.ConfigPath, p, &id)
	if err != nil && !errors.Is(err, ErrHookFailed) {
		if id != "" {
			_ = m.d.Remove(context.WithoutCancel(ctx), id)
		}
		restore()
		m.emit(Event{Kind: EventCreateFailed, Name: name, ConfigKind: kind, Duration: time.Since(start)})
		return nil, fmt.Errorf("rebuilding %s failed, so the workspace is as it was: %w", name, err)
	}
	if rerr := m.d.Remove(context.WithoutCancel(ctx), c.ID); rerr != nil {
		p.Output(fmt.Sprintf("warning: the old container %s could not be removed: %v", c.ID[:12], rerr))
	} else if c.Labels[LabelBuiltImage] != "" && c.ImageID != "" {
		// The new build took the tag; the old image would only dangle.
		_ = m.d.RemoveImage(context.WithoutCancel(ctx), c.ImageID)
	}
	m.emit(Event{Kind: EventCreated, Name: name, Workspace: ws, ConfigKind: kind, Duration: time.Since(start)})
	return ws, err
}

// Configs lists the devcontainer.json files of a local source folder, as
// paths relative to it, in the order Create would consider them. Git URLs
// are not cloned for this: they return an empty list.
func (m *Manager) Configs(ctx context.Context, src string) ([]string, error) {
	if source.IsGitURL(src) {
		return nil, nil
	}
	dir, err := source.LocalFolder(src)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSourceInvalid, err)
	}
	return devcontainer.Find(dir)
}

// runContainerPhase runs one lifecycle phase of a running workspace with
// its stored config, resolving ${containerEnv:...} against the container.
func (m *Manager) runContainerPhase(ctx context.Context, ws *Workspace, id, phase string, p Progress) error {
	c, err := m.d.Inspect(ctx, id)
	if err != nil {
		return m.engineErr(err)
	}
	cfg := containerResolve(decodeConfig(c.Labels), c.Env)
	if len(cfg.Hooks(phase)) == 0 {
		return nil
	}
	env, err := m.remoteEnv(ctx, ws, c.Env, cfg)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHookFailed, err)
	}
	fw := m.forward(ctx, ws, ws.RemoteUser)
	defer fw.Stop()
	return m.runPhase(ctx, ws, cfg, phase, append(env, fw.Env...), p)
}

// Attach runs the workspace's postAttachCommand, as an editor or terminal
// does each time it connects. The workspace must be running. A failure
// matches ErrHookFailed; the workspace keeps running.
func (m *Manager) Attach(ctx context.Context, name string, prog Progress) (*Workspace, error) {
	c, err := m.find(ctx, name)
	if err != nil {
		return nil, err
	}
	if !c.Running {
		return nil, fmt.Errorf("workspace %s is stopped: start it with `pitlane start %s`", name, name)
	}
	ws := m.fromContainer(c)
	p := Progress(nopProgress{})
	if prog != nil {
		p = prog
	}
	if err := m.runContainerPhase(ctx, ws, c.ID, devcontainer.PhasePostAttach, p); err != nil {
		return ws, err
	}
	_ = m.Touch(name)
	return ws, nil
}

// RemoteEnv returns the environment (KEY=VALUE, sorted) that hooks and
// exec get in a running workspace: the remote user's shell environment as
// userEnvProbe finds it, overlaid with remoteEnv. SSH sessions use it too.
func (m *Manager) RemoteEnv(ctx context.Context, name string) ([]string, error) {
	c, err := m.find(ctx, name)
	if err != nil {
		return nil, err
	}
	if !c.Running {
		return nil, fmt.Errorf("workspace %s is stopped: start it with `pitlane start %s`", name, name)
	}
	cfg := containerResolve(decodeConfig(c.Labels), c.Env)
	return m.remoteEnv(ctx, m.fromContainer(c), c.Env, cfg)
}

// DevcontainerConfig returns the resolved, merged configuration a
// workspace was created with: forwardPorts, portsAttributes, appPort,
// customizations, hostRequirements and the rest, for the SSH and IDE
// layers. ${containerEnv:...} is resolved while the container runs.
func (m *Manager) DevcontainerConfig(ctx context.Context, name string) (*devcontainer.Config, error) {
	c, err := m.find(ctx, name)
	if err != nil {
		return nil, err
	}
	cfg := decodeConfig(c.Labels)
	if c.Running {
		cfg = containerResolve(cfg, c.Env)
	}
	return cfg, nil
}
