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
	"github.com/pitlane/pitlane/internal/runtime"
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
	if opts.CacheFrom != "" && opts.CacheFrom != "none" {
		if err := ValidateRepository(opts.CacheFrom); err != nil {
			return nil, err
		}
	}
	if err := CheckEnv(opts.Env); err != nil {
		return nil, err
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
	if c, err := m.find(ctx, name); err == nil {
		// This process holds the lock: a working phase in the marker is
		// one whose process died.
		ws, mk := m.fromContainer(c), m.readMarker(name)
		if (mk.working() && mk.Phase != phaseDeleting || mk.Phase == phaseError) && m.sameSource(ws, opts) {
			// Like `devcontainer up`: the same create again finishes
			// what an interrupted (or failed) setup left undone.
			ws, err := m.resume(ctx, c, StartOptions{Progress: opts.Progress, Consent: opts.Consent})
			return ws, decodeLabels(c.Labels).ConfigKind, err
		}
		return nil, "", fmt.Errorf("%w: a workspace named %s exists already: pick another name with --name, or remove it with `pitlane delete %s`", ErrNameTaken, name, name)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, "", err
	} else if c, ierr := m.rt.Inspect(ctx, ContainerName(name)); ierr == nil {
		return nil, "", fmt.Errorf("%w: a container named %s exists already (not one of this Pitlane's workspaces); pick another name with --name", ErrNameTaken, c.Name)
	}

	// No container exists and we hold the lock: what the data folder
	// holds is left over from a create or delete that died, and goes. A
	// clone that may hold the user's work is never removed silently.
	dir := m.wsDir(name)
	if clone := m.cloneDir(name); clone != "" {
		switch mk := m.readMarker(name); mk.Phase {
		case phaseDeleting:
			// A delete the user asked for (and that checked the clone)
			// died half-way: finishing it loses nothing new.
		case phaseCreating:
			// A create that died before its container existed: its
			// clone is fresh, unless someone worked in it since.
			if work, werr := source.UnsavedWork(ctx, clone); werr != nil || !work.Empty() {
				return nil, "", m.orphanedClone(name, clone)
			}
		default:
			return nil, "", m.orphanedClone(name, clone)
		}
	}
	m.removeLeftovers(ctx, name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, "", err
	}
	if err := m.mkdirPrivate(dir); err != nil {
		return nil, "", err
	}
	logf, err := m.openLog(name)
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	p := newLogProgress(logf, opts.Progress)
	defer p.Close()

	defer func() {
		if err == nil || errors.Is(err, ErrHookFailed) {
			return
		}
		// Roll back: setup has removed any container it made.
		p.Close()
		os.RemoveAll(dir)
	}()
	if err := m.updateMarker(name, func(mk *marker) { mk.Phase = phaseCreating }); err != nil {
		return nil, "", err
	}

	// Source. The URL is kept and shown without credentials; only git's
	// own command line sees them.
	src := Source{URL: source.Redact(opts.Source), Ref: opts.Branch}
	var local string
	if source.IsGitURL(opts.Source) {
		p.Step("Cloning " + src.URL)
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

	if opts.CacheFrom != "" {
		repo := opts.CacheFrom
		if repo == "none" {
			repo = ""
		}
		if err := m.SetCacheFrom(src.URL, repo); err != nil {
			return nil, "", inStep("source", err)
		}
	}
	if err := m.recordPersonal(ctx, name, src, local, opts); err != nil {
		return nil, "", inStep("source", err)
	}
	return m.setup(ctx, name, src, local, opts.ConfigPath, opts.Consent, p)
}

// orphanedClone is the error for a clone left without its container.
func (m *Manager) orphanedClone(name, clone string) error {
	return fmt.Errorf("%w: %s has no container but still has its clone in %s, perhaps with unsaved work; save what you need, then remove it with `pitlane delete %s`, or pick another name with --name", ErrNameTaken, name, clone, name)
}

// cloneDir is the clone of a git source in a workspace's data folder, or
// "" when there is none (a half-made clone does not count).
func (m *Manager) cloneDir(name string) string {
	entries, err := os.ReadDir(filepath.Join(m.wsDir(name), "src"))
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			return filepath.Join(m.wsDir(name), "src", e.Name())
		}
	}
	return ""
}

// sameSource reports whether opts asks for the workspace's own source
// (and, if it names one, its configuration).
func (m *Manager) sameSource(ws *Workspace, opts CreateOptions) bool {
	if opts.ConfigPath != "" && opts.ConfigPath != ws.ConfigPath {
		return false
	}
	if source.IsGitURL(opts.Source) {
		return !ws.Source.Local && source.Redact(opts.Source) == ws.Source.URL && opts.Branch == ws.Source.Ref
	}
	local, err := source.LocalFolder(opts.Source)
	return err == nil && ws.Source.Local && local == ws.Source.URL && opts.Branch == ""
}

// removeLeftovers removes the image Pitlane built for a workspace that has
// no container (its create or delete died), if this instance built it and
// nothing uses it.
func (m *Manager) removeLeftovers(ctx context.Context, name string) {
	img, err := m.rt.InspectImage(ctx, ownTag(name))
	if err != nil || img.Labels[LabelWorkspace] != name || img.Labels[LabelInstance] != m.opts.Instance {
		return
	}
	_ = m.rt.RemoveImage(ctx, ownTag(name))
}

// plan is a resolved configuration, ready to become a container.
type plan struct {
	kind       ConfigKind
	configPath string // relative to the source root
	configHash string
	cfg        *devcontainer.Config
	build      *devcontainer.BuildSpec
	image      string
	// compose is set for a Compose config.
	compose *devcontainer.ComposeSpec
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
	if cfg.IsCompose() {
		pl.compose, err = cfg.ComposeSpec(filepath.Dir(abs))
	} else {
		pl.build, err = cfg.BuildSpec(filepath.Dir(abs))
	}
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
	cfg *devcontainer.Config
	// record is cfg with ${localEnv:...} left as written: the form that is
	// stored in labels, which every user of the engine can read.
	record    *devcontainer.Config
	folder    string
	configDir string
	runArgs   *devcontainer.RunArgs
	buildOpts *devcontainer.BuildOptions
	features  []*devcontainer.Feature
	mount     runtime.Mount
	// key is the content key of the image (set by the image step when
	// the image is cached); cacheFrom the repository prebuilt images are
	// pulled from.
	key, cacheFrom string
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
		if pl.compose != nil {
			// Nothing is mounted for a Compose config: its files do that.
			folder = "/"
		}
	}
	vars := devcontainer.Vars{LocalWorkspaceFolder: local, ContainerWorkspaceFolder: folder, DevcontainerID: m.devcontainerID(name)}
	cfg, err := vars.SubstituteConfig(pl.cfg)
	if err != nil {
		return nil, err
	}
	vars.KeepLocalEnv = true
	if r.record, err = vars.SubstituteConfig(pl.cfg); err != nil {
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
	r.mount = runtime.Mount{Type: "bind", Source: local, Target: folder}
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
func toDockerMount(mt devcontainer.Mount) (runtime.Mount, error) {
	if mt.Spec != "" {
		return parseMount(mt.Spec)
	}
	if mt.Target == "" {
		return runtime.Mount{}, fmt.Errorf("a mount object needs a target")
	}
	t := mt.Type
	if t == "" {
		t = "volume"
	}
	if t != "bind" && t != "volume" {
		return runtime.Mount{}, fmt.Errorf("mount type %q is not supported (use bind or volume)", t)
	}
	return runtime.Mount{Type: t, Source: mt.Source, Target: mt.Target}, nil
}

// patchProfile makes /etc/profile keep a PATH the container already has
// instead of resetting it, so login shells see containerEnv and remoteEnv
// PATH changes (as other dev container tools do). A missing file or a
// failure changes nothing.
func (m *Manager) patchProfile(ctx context.Context, id string) {
	_, _ = m.rt.Exec(ctx, id, runtime.ExecSpec{User: "root", Cmd: []string{"/bin/sh", "-c", profilePatch}})
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
func parseMount(s string) (runtime.Mount, error) {
	m := runtime.Mount{Type: "bind"}
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
