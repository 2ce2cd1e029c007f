package workspace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pitlane/pitlane/internal/runtime"
)

// Progress receives what a long operation is doing. Implementations must be
// safe for use from several goroutines.
type Progress interface {
	// Step starts a new step ("Building image"); the previous step, if
	// any, is finished.
	Step(title string)
	// Output is one line of build or hook output, without the newline.
	Output(line string)
}

// EventKind names what happened to a workspace.
type EventKind string

// Event kinds.
const (
	EventCreated      EventKind = "created"      // Create finished (hooks may have failed: see State)
	EventCreateFailed EventKind = "createFailed" // Create failed and was rolled back
	EventStarted      EventKind = "started"
	EventStopped      EventKind = "stopped"
	EventDeleted      EventKind = "deleted"
	EventChanged      EventKind = "changed" // any other state change (seen by Watch)
)

// Event reports a change to a workspace, made by this process or, for
// Watch, by any process using the same Docker engine.
type Event struct {
	Kind EventKind
	Name string
	// Workspace is the workspace after the change; nil after a delete or a
	// failed create.
	Workspace *Workspace
	// Duration is how long the operation took (Create, Start).
	Duration time.Duration
	// ConfigKind is set for Created and CreateFailed when known.
	ConfigKind ConfigKind
	// FailedStep names the step that failed (for CreateFailed, or Created
	// with a failed hook): "source", "config", "build", "container", "hooks".
	FailedStep string
}

// Options configure a Manager. Zero values pick sensible defaults.
type Options struct {
	// DataDir holds per-workspace data (clones, logs, markers). Default:
	// $XDG_DATA_HOME/pitlane, or ~/.local/share/pitlane.
	DataDir string
	// DefaultImage is used when a source has no container configuration.
	// Default: DefaultImage.
	DefaultImage string
	// Instance separates sets of workspaces on one engine (tests use it);
	// List and Watch only see their own instance. Default: $PITLANE_INSTANCE,
	// or "default".
	Instance string
	// Observer, if set, is called synchronously for every operation this
	// Manager completes (not for changes made by other processes).
	Observer func(Event)
	// HostIDs returns the uid and gid that updateRemoteUserUID gives the
	// remote user. Default: the uid and gid of this process.
	HostIDs func() (uid, gid int)
	// Forwarder, if set, forwards the host's git credentials to setup
	// hooks, dotfiles and Exec calls that ask for it.
	Forwarder Forwarder
	// ConfigDir holds the user's settings, here what they trusted.
	// Default: $XDG_CONFIG_HOME/pitlane, or ~/.config/pitlane.
	ConfigDir string
}

// DefaultImage is the image used for sources without any configuration.
const DefaultImage = "pitlane/base:bookworm"

// CreateOptions are the inputs of Manager.Create.
type CreateOptions struct {
	// Source is a git URL (https, ssh, scp-like, file://) or a local folder.
	Source string
	// Name of the workspace; default: derived from the source's base name.
	Name string
	// Branch to check out for git sources.
	Branch string
	// ConfigPath selects a devcontainer.json, relative to the source root
	// (or absolute for local sources).
	ConfigPath string
	// Progress, if set, receives steps and output lines.
	Progress Progress
	// Env (KEY=VALUE) is the user's environment for the workspace: hooks,
	// exec and SSH sessions see it; labels and logs never hold it.
	Env []string
	// Dotfiles, if set, are installed in the workspace user's home after
	// postCreateCommand.
	Dotfiles *Dotfiles
	// Consent is asked when the configuration wants access to the host
	// (see TrustRequest); nil refuses such a configuration with a
	// *TrustError.
	Consent Consent
	// CacheFrom is a registry repository (REGISTRY/REPO) to pull a
	// prebuilt image from when the cache here lacks it; it is saved for
	// the source, so later creates and rebuilds of it use it too. "none"
	// forgets the saved one; "" uses it.
	CacheFrom string
}

// StartOptions are the inputs of Manager.Start.
type StartOptions struct {
	// Progress, if set, receives steps and output lines.
	Progress Progress
	// Consent: as in CreateOptions; asked before initializeCommand runs.
	Consent Consent
	// NoHostCommands skips initializeCommand: a start made by an SSH
	// connection never runs anything on this machine.
	NoHostCommands bool
}

// RebuildOptions are the inputs of Manager.Rebuild.
type RebuildOptions struct {
	Progress Progress
	// Consent: as in CreateOptions.
	Consent Consent
}

// DeleteOptions are the inputs of Manager.Delete.
type DeleteOptions struct {
	// DiscardChanges deletes a clone that holds work found nowhere else
	// (uncommitted changes, stashes, commits on no remote); without it
	// such a delete fails with an *UnsavedWorkError.
	DiscardChanges bool
	// Volumes removes a Compose workspace's named volumes too; without
	// it they are kept, and Output is told which.
	Volumes bool
	// Output, if set, receives what Delete has to say.
	Output func(line string)
}

// ExecOptions describe a process to run in a workspace.
type ExecOptions struct {
	Cmd []string
	// User defaults to the workspace's remote user.
	User string
	// Dir defaults to the workspace folder.
	Dir string
	// Env entries (KEY=VALUE) are added to the remote environment.
	Env    []string
	Tty    bool
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Resize, for TTY sessions, receives a function that resizes the
	// terminal once the process runs.
	Resize func(resize func(width, height uint) error)
	// Forward lends the process the host's git credentials (through the
	// Manager's Forwarder) while it runs.
	Forward bool
	// Bare runs Pitlane's own helper processes: without the remote
	// environment and without counting as a use of the workspace.
	Bare bool
}

// Runtime is what the engine needs from a place where workspaces run: a
// Docker engine (*docker.Client) or a Kubernetes cluster. Unit tests give a
// fake.
type Runtime interface {
	List(ctx context.Context, labels ...string) ([]runtime.Container, error)
	Inspect(ctx context.Context, nameOrID string) (*runtime.Container, error)
	Create(ctx context.Context, spec runtime.ContainerSpec) (string, error)
	Start(ctx context.Context, id string) error
	Stop(ctx context.Context, id string, timeout time.Duration) error
	Remove(ctx context.Context, id string) error
	Rename(ctx context.Context, id, name string) error
	Exec(ctx context.Context, id string, spec runtime.ExecSpec) (int, error)
	CopyFile(ctx context.Context, id, dst string, data []byte, mode os.FileMode, uid, gid int) error
	ImageExists(ctx context.Context, ref string) (bool, error)
	InspectImage(ctx context.Context, ref string) (*runtime.ImageConfig, error)
	RemoveImage(ctx context.Context, ref string) error
	Build(ctx context.Context, spec runtime.BuildSpec, out func(string)) error
	Pull(ctx context.Context, ref string, out func(string)) error
	Events(ctx context.Context, labels ...string) (<-chan runtime.Event, <-chan error)
	Host() string
}

// Manager creates and manages workspaces. It is safe for concurrent use;
// several processes may use the same engine and data dir at once.
type Manager struct {
	rt   Runtime
	opts Options
}

// NewManager returns a Manager working through rt.
func NewManager(rt Runtime, opts Options) *Manager {
	if opts.DataDir == "" {
		opts.DataDir = DefaultDataDir()
	}
	if opts.DefaultImage == "" {
		opts.DefaultImage = DefaultImage
	}
	if opts.ConfigDir == "" {
		opts.ConfigDir = DefaultConfigDir()
	}
	if opts.Instance == "" {
		opts.Instance = os.Getenv("PITLANE_INSTANCE")
	}
	if opts.Instance == "" {
		opts.Instance = "default"
	}
	return &Manager{rt: rt, opts: opts}
}

// DefaultDataDir is $XDG_DATA_HOME/pitlane, or ~/.local/share/pitlane.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "pitlane")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "pitlane")
	}
	return filepath.Join(home, ".local", "share", "pitlane")
}

// DefaultConfigDir is $XDG_CONFIG_HOME/pitlane, or ~/.config/pitlane.
func DefaultConfigDir() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "pitlane")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "pitlane-config")
	}
	return filepath.Join(home, ".config", "pitlane")
}

// DataDir is where the Manager keeps per-workspace data.
func (m *Manager) DataDir() string { return m.opts.DataDir }

// Instance is the Manager's instance label value.
func (m *Manager) Instance() string { return m.opts.Instance }

func (m *Manager) emit(ev Event) {
	if m.opts.Observer != nil {
		m.opts.Observer(ev)
	}
}

// ContainerName is the Docker container name of workspace name.
func ContainerName(name string) string { return "pitlane-" + name }

func (m *Manager) wsDir(name string) string { return filepath.Join(m.opts.DataDir, "workspaces", name) }

// LogPath is the file where a workspace's create, build and hook output is
// kept.
func (m *Manager) LogPath(name string) string { return filepath.Join(m.wsDir(name), "pitlane.log") }

// devcontainerID is stable for a workspace name within an instance.
func (m *Manager) devcontainerID(name string) string {
	sum := sha256.Sum256([]byte(m.opts.Instance + "\x00" + name))
	return hex.EncodeToString(sum[:])[:16]
}

// find returns the container of a workspace of this instance.
func (m *Manager) find(ctx context.Context, name string) (*runtime.Container, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	c, err := m.rt.Inspect(ctx, ContainerName(name))
	if errors.Is(err, runtime.ErrNotFound) {
		c, err = m.recoverAside(ctx, name)
	}
	if errors.Is(err, runtime.ErrNotFound) {
		return nil, notFound(name)
	}
	if err != nil {
		return nil, m.engineErr(err)
	}
	if c.Labels[LabelWorkspace] != name || c.Labels[LabelInstance] != m.opts.Instance {
		return nil, notFound(name)
	}
	return c, nil
}

// recoverAside finds a container that a rebuild set aside and never put
// back (the rebuilding process died) and gives it its name again. While a
// rebuild is under way it is left alone.
func (m *Manager) recoverAside(ctx context.Context, name string) (*runtime.Container, error) {
	c, err := m.rt.Inspect(ctx, ContainerName(name)+"-previous")
	if err != nil {
		return nil, err
	}
	if c.Labels[LabelWorkspace] != name || c.Labels[LabelInstance] != m.opts.Instance || m.lockedFor(name, opRebuild) {
		return nil, fmt.Errorf("%w: %s is set aside by a rebuild", runtime.ErrNotFound, c.Name)
	}
	if err := m.rt.Rename(ctx, c.ID, ContainerName(name)); err != nil {
		return nil, err
	}
	_ = m.updateMarker(name, func(mk *marker) {
		if mk.Phase == phaseRebuilding {
			mk.Phase, mk.Error = mk.Before, mk.BeforeError
			mk.Before, mk.BeforeError = "", ""
		}
	})
	return m.rt.Inspect(ctx, ContainerName(name))
}

func notFound(name string) error { return notFoundError(name) }

// notFoundError names the missing workspace and says where to look; it
// matches ErrNotFound.
type notFoundError string

func (e notFoundError) Error() string {
	return "workspace " + string(e) + " does not exist; `pitlane list` shows what does"
}

func (e notFoundError) Is(target error) bool { return target == ErrNotFound }

func (m *Manager) engineErr(err error) error {
	if errors.Is(err, runtime.ErrUnreachable) {
		return fmt.Errorf("%w at %s: is it running? %v", ErrEngineDown, m.rt.Host(), err)
	}
	return err
}

// Get returns one workspace.
func (m *Manager) Get(ctx context.Context, name string) (*Workspace, error) {
	c, err := m.find(ctx, name)
	if err != nil {
		return nil, err
	}
	ws := m.fromContainer(c)
	ws.Compose = m.composeInfo(ctx, c)
	return ws, nil
}

// List returns every workspace of this instance, sorted by name.
func (m *Manager) List(ctx context.Context) ([]*Workspace, error) {
	cs, err := m.rt.List(ctx, LabelWorkspace, LabelInstance+"="+m.opts.Instance)
	if err != nil {
		return nil, m.engineErr(err)
	}
	out := make([]*Workspace, 0, len(cs))
	named := map[string]bool{}
	for _, c := range cs {
		named[c.Name] = true
	}
	for i := range cs {
		// Only the container named for its workspace is the workspace:
		// not one a rebuild set aside, nor another container that
		// inherited Pitlane's labels from its image. A set-aside one
		// whose rebuild died gets its name back, as in Get.
		name := cs[i].Labels[LabelWorkspace]
		c := &cs[i]
		if c.Name != ContainerName(name) {
			if c.Name != ContainerName(name)+"-previous" || named[ContainerName(name)] || ValidateName(name) != nil {
				continue
			}
			rc, err := m.recoverAside(ctx, name)
			if err != nil {
				continue
			}
			c = rc
		}
		ws := m.fromContainer(c)
		ws.Compose = m.composeInfo(ctx, c)
		out = append(out, ws)
	}
	sortByName(out)
	return out, nil
}

// fromContainer rebuilds a Workspace from its container's labels and
// Pitlane's local markers.
func (m *Manager) fromContainer(c *runtime.Container) *Workspace {
	ws := decodeLabels(c.Labels)
	ws.ContainerID = c.ID
	if project := c.Labels[LabelComposeProject]; project != "" {
		ws.Compose = &ComposeInfo{Project: project, Service: c.Labels[LabelComposeService]}
	}
	if ws.Image == "" {
		ws.Image = c.Image
	}
	if ws.CreatedAt.IsZero() {
		ws.CreatedAt = c.Created
	}
	ws.State = StateStopped
	if c.Running {
		ws.State = StateRunning
	}
	mk := m.readMarker(ws.Name)
	ws.LastUsedAt = mk.LastUsed
	switch {
	case mk.working() && m.locked(ws.Name):
		ws.State = StateCreating
		if mk.Phase == phaseDeleting {
			ws.State = StateDeleting
		}
	case mk.Phase == phaseDeleting:
		ws.State = StateInterrupted
		ws.LastError = "a delete was interrupted before it finished; `pitlane delete " + ws.Name + "` finishes it"
	case mk.working():
		ws.State = StateInterrupted
		ws.LastError = "setup was interrupted before it finished; `pitlane start " + ws.Name + "` finishes it"
	case mk.Phase == phaseError:
		ws.State = StateError
		ws.LastError = mk.Error
	}
	if !mk.working() && m.lockedFor(ws.Name, opDelete) {
		ws.State = StateDeleting
	}
	return ws
}

// Touch records that a workspace was just used.
func (m *Manager) Touch(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	return m.updateMarker(name, func(mk *marker) { mk.LastUsed = time.Now().UTC() })
}

// Exec runs a process in a running workspace as its remote user, in its
// folder, with its remote environment, and returns the exit code.
func (m *Manager) Exec(ctx context.Context, name string, opts ExecOptions) (int, error) {
	c, err := m.find(ctx, name)
	if err != nil {
		return -1, err
	}
	if !c.Running {
		return -1, fmt.Errorf("workspace %s is stopped: start it with `pitlane start %s`", name, name)
	}
	ws := m.fromContainer(c)
	var env []string
	if !opts.Bare {
		cfg, hostEnv := m.config(c)
		if env, err = m.remoteEnv(ctx, ws, c.Env, containerResolve(cfg, c.Env), hostEnv); err != nil {
			return -1, err
		}
	}
	spec := runtime.ExecSpec{
		Cmd: opts.Cmd, User: opts.User, WorkingDir: opts.Dir, Tty: opts.Tty,
		Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr, Resize: opts.Resize,
		Env: append(env, opts.Env...),
	}
	if spec.User == "" {
		spec.User = ws.RemoteUser
	}
	if spec.WorkingDir == "" {
		spec.WorkingDir = ws.Folder
	}
	if opts.Forward && m.opts.Forwarder != nil {
		fw := m.forwardAfter(ctx, ws, spec.User, execForwardDelay)
		defer fw.Stop()
		spec.Env = append(spec.Env, fw.Env...)
	}
	if !opts.Bare {
		_ = m.Touch(name)
	}
	code, err := m.rt.Exec(ctx, c.ID, spec)
	if err != nil {
		return code, m.engineErr(err)
	}
	return code, nil
}

// CopyFile writes data into a running workspace's container at path,
// owned by the remote user.
func (m *Manager) CopyFile(ctx context.Context, name, path string, data []byte, mode os.FileMode) error {
	c, err := m.find(ctx, name)
	if err != nil {
		return err
	}
	ws := m.fromContainer(c)
	uid, gid := 0, 0
	if !isRoot(ws.RemoteUser) {
		uid, gid, err = m.ids(ctx, c.ID, ws.RemoteUser)
		if err != nil {
			return err
		}
	}
	return m.rt.CopyFile(ctx, c.ID, path, data, mode, uid, gid)
}

// ids returns the numeric uid and gid of user in a container.
func (m *Manager) ids(ctx context.Context, id, user string) (int, int, error) {
	var out strings.Builder
	code, err := m.rt.Exec(ctx, id, runtime.ExecSpec{Cmd: []string{"sh", "-c", "id -u; id -g"}, User: user, Stdout: &out})
	if err != nil {
		return 0, 0, err
	}
	var uid, gid int
	if _, serr := fmt.Sscan(out.String(), &uid, &gid); code != 0 || serr != nil {
		return 0, 0, fmt.Errorf("cannot find the ids of user %s in the container: %q", user, out.String())
	}
	return uid, gid, nil
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sortStrings(out)
	return out
}
