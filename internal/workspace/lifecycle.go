package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/runtime"
	"github.com/pitlane/pitlane/internal/source"
)

// stopTimeout is how long a container gets to exit before it is killed.
const stopTimeout = 10 * time.Second

// Start starts a stopped workspace and runs its postStartCommand. A
// workspace whose setup was interrupted (or whose setup hook failed) gets
// the rest of its setup first, running or not. Starting a running, set-up
// workspace does nothing. Two starts of one workspace take turns: the
// second waits for the first and then finds it running.
func (m *Manager) Start(ctx context.Context, name string, opts StartOptions) (*Workspace, error) {
	c, err := m.find(ctx, name)
	if err != nil {
		return nil, err
	}
	// A running container whose setup is under way in another process
	// is usable as it is (waitFor lets editors in early).
	if c.Running && (!m.unfinished(c) || m.locked(name)) {
		return m.fromContainer(c), nil
	}
	unlock, err := m.lockWait(ctx, name, opStart, opStart)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Another start may have done the work while this one waited.
	if c, err = m.find(ctx, name); err != nil {
		return nil, err
	}
	if c.Running && !m.unfinished(c) {
		return m.fromContainer(c), nil
	}
	return m.resume(ctx, c, opts)
}

// unfinished reports whether a workspace's setup has work left: it was
// interrupted, or a setup hook failed, before its create-time phases all
// finished.
func (m *Manager) unfinished(c *runtime.Container) bool {
	mk := m.readMarker(c.Labels[LabelWorkspace])
	if mk.Phase != phaseCreating && mk.Phase != phaseRebuilding && mk.Phase != phaseError {
		return false
	}
	if mk.Phase == phaseError && mk.Container == "" {
		return false // a postStartCommand failed on an earlier start
	}
	for _, ph := range createPhases {
		if !mk.done(c.ID, ph) {
			return true
		}
	}
	return mk.Phase != phaseError
}

// resume starts container c (which the caller holds the lock for) and
// runs what its setup still needs: initializeCommand (unless
// NoHostCommands), the unfinished create-time phases and postStartCommand
// (and postAttachCommand when it finishes a setup).
func (m *Manager) resume(ctx context.Context, c *runtime.Container, opts StartOptions) (*Workspace, error) {
	begin := time.Now()
	name := c.Labels[LabelWorkspace]
	if err := m.mkdirPrivate(m.wsDir(name)); err != nil {
		return nil, err
	}
	logf, err := m.openLog(name)
	if err != nil {
		return nil, err
	}
	p := newLogProgress(logf, opts.Progress)
	defer p.Close()
	ws := m.fromContainer(c)
	finishing := m.unfinished(c)
	cfg, hostEnv := m.config(c)
	if !cfg.InitializeCommand.Empty() && ws.LocalFolder != "" {
		if opts.NoHostCommands {
			p.Output("not running initializeCommand: a start made by an SSH connection runs nothing on this machine (`pitlane start " + name + "` does)")
		} else {
			items := []TrustItem{{Kind: TrustInitialize, Detail: commandText(decodeConfig(c.Labels).InitializeCommand), From: "devcontainer.json"}}
			if err := m.checkTrust(ctx, opts.Consent, name, ws.Source, ws.ConfigPath, c.Labels[LabelConfigHash], items); err != nil {
				return nil, err
			}
			if err := runInitialize(ctx, cfg, ws.LocalFolder, p); err != nil {
				return nil, err
			}
		}
	}
	if !c.Running {
		p.Step("Starting " + name)
		if c.Labels[LabelComposeProject] != "" {
			if err := m.composeStart(ctx, c, p); err != nil {
				return nil, err
			}
		} else if err := m.rt.Start(ctx, c.ID); err != nil {
			return nil, m.engineErr(err)
		}
	}
	if finishing {
		p.Step("Finishing the setup of " + name)
		_ = m.updateMarker(name, func(mk *marker) { mk.Phase, mk.Error = phaseCreating, "" })
	}
	if c, err = m.rt.Inspect(ctx, c.ID); err != nil {
		return nil, m.engineErr(err)
	}
	ws.ContainerID, ws.State = c.ID, StateRunning
	err = m.hooksStep(ctx, ws, c, cfg, hostEnv, finishing, p)
	if finishing && ctx.Err() == nil {
		m.recordSetupChanges(ctx, ws)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		_ = m.updateMarker(name, func(mk *marker) { mk.Phase, mk.Error = phaseError, err.Error() })
		ws.State, ws.LastError = StateError, err.Error()
		m.emit(Event{Kind: EventStarted, Name: name, Workspace: ws, Duration: time.Since(begin), FailedStep: "hooks"})
		return ws, err
	}
	_ = m.updateMarker(name, func(mk *marker) { mk.Phase, mk.Error = phaseReady, "" })
	if finishing {
		m.dropSetAside(ctx, name)
	}
	p.Step("")
	ws, err = m.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	m.emit(Event{Kind: EventStarted, Name: name, Workspace: ws, Duration: time.Since(begin)})
	return ws, nil
}

// dropSetAside removes the container a rebuild set aside, once the new
// one is set up (the rebuilding process died before it could).
func (m *Manager) dropSetAside(ctx context.Context, name string) {
	old, err := m.rt.Inspect(ctx, ContainerName(name)+"-previous")
	if err != nil || old.Labels[LabelWorkspace] != name || old.Labels[LabelInstance] != m.opts.Instance {
		return
	}
	_ = m.rt.Remove(context.WithoutCancel(ctx), old.ID)
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
	if c.Labels[LabelComposeProject] != "" {
		if err := m.composeStop(ctx, c); err != nil {
			return nil, err
		}
	} else if err := m.rt.Stop(ctx, c.ID, stopTimeout); err != nil {
		return nil, m.engineErr(err)
	}
	ws, err := m.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	m.emit(Event{Kind: EventStopped, Name: name, Workspace: ws})
	return ws, nil
}

// UnsavedWorkError is returned by Delete when a workspace's clone holds
// work found nowhere else. It matches ErrUnsavedWork.
type UnsavedWorkError struct {
	Name string
	// Clone is the clone's folder on this machine.
	Clone string
	Work  *source.Work
	// Unknown is set when git could not tell what the clone holds.
	Unknown error
}

func (e *UnsavedWorkError) Error() string {
	if e.Unknown != nil {
		return fmt.Sprintf("cannot tell whether the clone of workspace %s in %s holds unsaved work (%v); look at it, then delete with --discard-changes", e.Name, e.Clone, e.Unknown)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "workspace %s has %s in its clone %s, which deleting it would lose:", e.Name, e.Work.Summary(), e.Clone)
	for _, l := range first(e.Work.Changes, 10) {
		b.WriteString("\n  " + l)
	}
	if e.Work.Stashes > 0 {
		fmt.Fprintf(&b, "\n  %d stash entries", e.Work.Stashes)
	}
	for _, l := range first(e.Work.Unpushed, 10) {
		b.WriteString("\n  " + l)
	}
	fmt.Fprintf(&b, "\npush or copy what you need (pitlane exec %s -- git status), or delete with --discard-changes to lose it", e.Name)
	return b.String()
}

func (e *UnsavedWorkError) Is(target error) bool { return target == ErrUnsavedWork }

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... and %d more", len(s)-n))
	}
	return s
}

// UnsavedWork returns what deleting a workspace would lose: the work in
// its clone found nowhere else, or nil for a workspace without a clone (a
// local folder is never deleted). It also works for a workspace whose
// container is gone.
func (m *Manager) UnsavedWork(ctx context.Context, name string) (*UnsavedWorkError, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	clone := ""
	c, err := m.find(ctx, name)
	switch {
	case err == nil:
		if ws := m.fromContainer(c); !ws.Source.Local {
			clone = ws.LocalFolder
		}
	case errors.Is(err, ErrNotFound):
		clone = m.cloneDir(name)
		if clone == "" {
			if _, serr := os.Stat(m.wsDir(name)); serr != nil {
				return nil, err
			}
		}
	default:
		return nil, err
	}
	if clone == "" {
		return nil, nil
	}
	if _, err := os.Stat(clone); err != nil {
		return nil, nil
	}
	work, err := source.UnsavedWork(ctx, clone)
	if err != nil {
		return &UnsavedWorkError{Name: name, Clone: clone, Unknown: err}, nil
	}
	work.Without(clone, m.setupChanges(name))
	if work.Empty() {
		return nil, nil
	}
	return &UnsavedWorkError{Name: name, Clone: clone, Work: work}, nil
}

// Delete removes a workspace: its container, the image Pitlane built for
// it, and its data (clone, logs, markers). A local source folder is never
// touched. A clone holding work found nowhere else is kept, and the delete
// fails with an *UnsavedWorkError, unless opts.DiscardChanges is set; a
// missing container does not change that. An interrupted delete is
// finished by deleting again.
func (m *Manager) Delete(ctx context.Context, name string, opts DeleteOptions) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	unlock, err := m.lock(name, opDelete)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := m.find(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if errors.Is(err, ErrNotFound) {
		if _, serr := os.Stat(m.wsDir(name)); serr != nil {
			return err
		}
	}
	if !opts.DiscardChanges && m.readMarker(name).Phase != phaseDeleting {
		uw, err := m.UnsavedWork(ctx, name)
		if err != nil {
			return err
		}
		if uw != nil {
			return uw
		}
	}
	// From here on the delete is decided: if it dies, deleting (or
	// creating) again finishes it without asking again.
	if err := m.updateMarker(name, func(mk *marker) { mk.Phase = phaseDeleting }); err != nil {
		return err
	}
	if c != nil && c.Labels[LabelComposeProject] != "" {
		if err := m.composeDelete(ctx, c, opts); err != nil {
			return err
		}
	} else if c != nil {
		if err := m.rt.Remove(ctx, c.ID); err != nil {
			return m.engineErr(err)
		}
		if img := c.Labels[LabelBuiltImage]; img != "" {
			_ = m.rt.RemoveImage(ctx, img)
		}
	} else {
		m.removeLeftovers(ctx, name)
	}
	m.dropSetAside(ctx, name)
	if err := os.RemoveAll(m.wsDir(name)); err != nil {
		return fmt.Errorf("removing %s: %w", m.wsDir(name), err)
	}
	m.emit(Event{Kind: EventDeleted, Name: name})
	return nil
}

// Rebuild replaces a workspace's container with a new one built from the
// current configuration, keeping the source (and a clone's local changes),
// and runs all setup hooks again.
func (m *Manager) Rebuild(ctx context.Context, name string, opts RebuildOptions) (*Workspace, error) {
	start := time.Now()
	c, err := m.find(ctx, name)
	if err != nil {
		return nil, err
	}
	unlock, err := m.lock(name, opRebuild)
	if err != nil {
		return nil, err
	}
	defer unlock()
	old := m.fromContainer(c)
	if err := m.mkdirPrivate(m.wsDir(name)); err != nil {
		return nil, err
	}
	logf, err := m.openLog(name)
	if err != nil {
		return nil, err
	}
	p := newLogProgress(logf, opts.Progress)
	defer p.Close()
	if c.Labels[LabelComposeProject] != "" {
		ws, kind, err := m.rebuildCompose(ctx, name, c, old, opts, p)
		if err != nil && !errors.Is(err, ErrHookFailed) {
			m.emit(Event{Kind: EventCreateFailed, Name: name, ConfigKind: kind, Duration: time.Since(start)})
			return nil, fmt.Errorf("rebuilding %s failed: %w", name, err)
		}
		m.emit(Event{Kind: EventCreated, Name: name, Workspace: ws, ConfigKind: kind, Duration: time.Since(start)})
		return ws, err
	}

	// The old container steps aside (stopped, renamed) rather than going
	// at once: if the new one cannot be made, it comes back as it was.
	prev := m.readMarker(name)
	if err := m.updateMarker(name, func(mk *marker) {
		mk.Before, mk.BeforeError = prev.Phase, prev.Error
		mk.Phase = phaseRebuilding
	}); err != nil {
		return nil, err
	}
	restore := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = m.rt.Rename(rctx, c.ID, ContainerName(name))
		if c.Running {
			_ = m.rt.Start(rctx, c.ID)
		}
		_ = m.updateMarker(name, func(mk *marker) {
			mk.Phase, mk.Error, mk.Container, mk.Done = prev.Phase, prev.Error, prev.Container, prev.Done
			mk.Before, mk.BeforeError = "", ""
		})
	}
	p.Step("Setting the old container aside")
	if c.Running {
		if err := m.rt.Stop(ctx, c.ID, stopTimeout); err != nil {
			restore()
			return nil, m.engineErr(err)
		}
	}
	if err := m.rt.Rename(ctx, c.ID, ContainerName(name)+"-previous"); err != nil {
		restore()
		return nil, m.engineErr(err)
	}
	ws, kind, err := m.setup(ctx, name, old.Source, old.LocalFolder, old.ConfigPath, opts.Consent, p)
	if err != nil && !errors.Is(err, ErrHookFailed) {
		restore()
		m.emit(Event{Kind: EventCreateFailed, Name: name, ConfigKind: kind, Duration: time.Since(start)})
		return nil, fmt.Errorf("rebuilding %s failed, so the workspace is as it was: %w", name, err)
	}
	_ = m.updateMarker(name, func(mk *marker) { mk.Before, mk.BeforeError = "", "" })
	if rerr := m.rt.Remove(context.WithoutCancel(ctx), c.ID); rerr != nil {
		p.Output(fmt.Sprintf("warning: the old container %s could not be removed: %v", ContainerName(name)+"-previous", rerr))
	} else if c.Labels[LabelBuiltImage] != "" && c.ImageID != "" {
		// The new build took the tag; the old image would only dangle.
		_ = m.rt.RemoveImage(context.WithoutCancel(ctx), c.ImageID)
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
	c, err := m.rt.Inspect(ctx, id)
	if err != nil {
		return m.engineErr(err)
	}
	cfg, hostEnv := m.config(c)
	cfg = containerResolve(cfg, c.Env)
	if len(cfg.Hooks(phase)) == 0 {
		return nil
	}
	env, err := m.remoteEnv(ctx, ws, c.Env, cfg, hostEnv)
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
	cfg, hostEnv := m.config(c)
	return m.remoteEnv(ctx, m.fromContainer(c), c.Env, containerResolve(cfg, c.Env), hostEnv)
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
	cfg, _ := m.config(c)
	if c.Running {
		cfg = containerResolve(cfg, c.Env)
	}
	return cfg, nil
}
