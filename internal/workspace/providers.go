package workspace

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/runtime"
	"github.com/pitlane/pitlane/internal/source"
)

// LabelProvider records on a workspace the provider it was created on, so
// two providers that reach the same engine do not both claim it.
const LabelProvider = "dev.pitlane.provider"

// DefaultProvider is the name of the built-in provider: the Docker engine
// DOCKER_HOST names, or the local one.
const DefaultProvider = "docker"

// ErrRemoteSource: a local folder cannot be the source of a workspace
// whose runtime is on another machine. It matches ErrSourceInvalid.
var ErrRemoteSource error = remoteSourceError{}

type remoteSourceError struct{}

func (remoteSourceError) Error() string {
	return "a folder of this machine cannot be used where this provider runs workspaces"
}
func (remoteSourceError) Is(target error) bool { return target == ErrSourceInvalid }

// sourceCloner is implemented by runtimes that clone spec.Source into the
// workspace folder themselves (the Kubernetes runtime, with an init
// container). On other remote runtimes the engine clones through an exec.
type sourceCloner interface {
	ClonesSource() bool
}

// remoteSource is the source step for a runtime whose containers do not
// see this machine's files: local folders are refused; a git source is
// cloned here only to read its configuration (into config/, which no
// container mounts), and cloned again where the workspace runs.
func (m *Manager) remoteSource(ctx context.Context, dir string, opts CreateOptions, p Progress) (Source, string, error) {
	if !source.IsGitURL(opts.Source) {
		return Source{}, "", fmt.Errorf("%w: %s is a folder on this machine, and provider %s runs workspaces on %s, which cannot see it: push it to a git repository and create from its URL, or create it on the local engine with --provider %s", ErrRemoteSource, opts.Source, m.opts.Provider, m.rt.Host(), DefaultProvider)
	}
	src := Source{URL: source.Redact(opts.Source), Ref: opts.Branch}
	p.Step("Reading the configuration of " + src.URL)
	local := filepath.Join(dir, "config", source.BaseName(opts.Source))
	if err := source.Clone(ctx, opts.Source, opts.Branch, local, p.Output); err != nil {
		return Source{}, "", fmt.Errorf("%w: %w", ErrSourceInvalid, err)
	}
	return src, local, nil
}

// remoteSpec adapts a container spec to a runtime whose containers do not
// see this machine's files: the workspace folder is filled by a clone
// made where the workspace runs instead of a bind mount of the local
// clone, and hostRequirements become resource requests.
func (m *Manager) remoteSpec(spec *runtime.ContainerSpec, ws *Workspace, r *resolved, merged *devcontainer.Config) error {
	if !m.opts.Remote {
		return nil
	}
	if ws.Source.Local {
		return fmt.Errorf("%w: %s", ErrRemoteSource, ws.Source.URL)
	}
	folder := r.folder
	if r.mount.Type == "bind" && r.mount.Target != "" {
		folder = r.mount.Target
	}
	spec.Folder = folder
	spec.Source = &runtime.GitSource{URL: ws.Source.URL, Ref: ws.Source.Ref}
	if !isRoot(ws.RemoteUser) {
		spec.Owner = ws.RemoteUser
	}
	if hr := merged.HostRequirements; hr != nil {
		spec.Resources = runtime.Resources{CPUs: hr.CPUs, Memory: devcontainer.Bytes(hr.Memory), Storage: devcontainer.Bytes(hr.Storage)}
	}
	if c, ok := m.rt.(sourceCloner); ok && c.ClonesSource() {
		return nil
	}
	// A Docker engine elsewhere: the folder is an anonymous volume of the
	// container (it lives and goes with it), which the engine fills after
	// the start (cloneInContainer).
	for i, mt := range spec.Mounts {
		if mt.Target == folder {
			spec.Mounts[i] = runtime.Mount{Type: "volume", Target: folder}
		}
	}
	return nil
}

// cloneScript clones $PITLANE_GIT_URL into $PITLANE_FOLDER once, through
// a side folder so that a failed clone is tried again, and hands the files
// to $PITLANE_OWNER.
const cloneScript = `set -eu
f=$PITLANE_FOLDER
mkdir -p "$f"
if [ ! -e "$f/.git" ]; then
  if ! command -v git >/dev/null 2>&1; then
    echo "pitlane: the image has no git, so it cannot clone $PITLANE_GIT_URL into the workspace; use an image that has git" >&2
    exit 1
  fi
  t="$f/.pitlane-clone"
  rm -rf "$t"
  if [ -n "${PITLANE_GIT_REF:-}" ]; then
    git clone --branch "$PITLANE_GIT_REF" -- "$PITLANE_GIT_URL" "$t"
  else
    git clone -- "$PITLANE_GIT_URL" "$t"
  fi
  for e in "$t"/* "$t"/.[!.]* "$t"/..?*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    mv "$e" "$f/"
  done
  rmdir "$t"
fi
if [ -n "${PITLANE_OWNER:-}" ]; then
  chown -R "$(id -u "$PITLANE_OWNER"):$(id -g "$PITLANE_OWNER")" "$f"
fi
`

// cloneInContainer clones the source into the workspace folder of a
// running container, on runtimes that do not do it themselves.
func (m *Manager) cloneInContainer(ctx context.Context, id string, spec runtime.ContainerSpec, p Progress) error {
	if spec.Source == nil {
		return nil
	}
	if c, ok := m.rt.(sourceCloner); ok && c.ClonesSource() {
		return nil
	}
	p.Step("Cloning " + spec.Source.URL + " on " + m.rt.Host())
	var mu sync.Mutex
	var tail []string
	w := newLineWriter(func(l string) {
		p.Output(l)
		mu.Lock()
		tail = append(tail, l)
		mu.Unlock()
	})
	code, err := m.rt.Exec(ctx, id, runtime.ExecSpec{
		Cmd: []string{"/bin/sh", "-c", cloneScript}, User: "root",
		Env:    []string{"PITLANE_FOLDER=" + spec.Folder, "PITLANE_GIT_URL=" + spec.Source.URL, "PITLANE_GIT_REF=" + spec.Source.Ref, "PITLANE_OWNER=" + spec.Owner, "GIT_TERMINAL_PROMPT=0"},
		Stdout: w, Stderr: w,
	})
	w.Flush()
	if err != nil {
		return m.engineErr(err)
	}
	if code != 0 {
		return fmt.Errorf("%w: cloning %s in the workspace on %s failed (exit %d): %s", ErrSourceInvalid, spec.Source.URL, m.rt.Host(), code, lastLines(strings.Join(tail, "\n"), 5))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// unsavedScript prints what git knows of the workspace folder, in
// sections: status lines, the number of stashes, then commits on no
// remote. It exits 3 when the folder is not a git repository.
const unsavedScript = `cd "$1" 2>/dev/null || exit 3
git -c safe.directory='*' rev-parse --git-dir >/dev/null 2>&1 || exit 3
export GIT_OPTIONAL_LOCKS=0
git -c safe.directory='*' status --porcelain --untracked-files=all || exit 4
echo '@@pitlane-stash'
git -c safe.directory='*' stash list | wc -l
echo '@@pitlane-unpushed'
if git -c safe.directory='*' rev-parse --verify --quiet HEAD >/dev/null; then
  git -c safe.directory='*' log --oneline HEAD --branches --not --remotes || exit 4
fi
`

// remoteUnsavedWork asks git inside a running workspace what deleting it
// would lose (its files are not on this machine). A stopped workspace
// cannot be asked: the error says what to do.
func (m *Manager) remoteUnsavedWork(ctx context.Context, name string, c *runtime.Container) (*UnsavedWorkError, error) {
	ws := m.fromContainer(c)
	where := ws.Folder + " on " + m.opts.Provider
	if !c.Running {
		return &UnsavedWorkError{Name: name, Clone: where, Unknown: fmt.Errorf("the workspace is stopped, so git cannot be asked; `pitlane start %s` first", name)}, nil
	}
	folder := ws.Folder
	if folder == "" {
		return nil, nil
	}
	var out, errb strings.Builder
	code, err := m.rt.Exec(ctx, c.ID, runtime.ExecSpec{Cmd: []string{"/bin/sh", "-c", unsavedScript, "sh", folder}, User: ws.RemoteUser, Stdout: &out, Stderr: &errb})
	if err != nil {
		return nil, m.engineErr(err)
	}
	switch code {
	case 0:
	case 3:
		return nil, nil // no repository there: nothing of git's to lose
	default:
		return &UnsavedWorkError{Name: name, Clone: where, Unknown: fmt.Errorf("git failed (exit %d): %s", code, lastLines(errb.String(), 3))}, nil
	}
	work := parseUnsaved(out.String())
	work.Without(folder, m.setupChanges(name))
	if work.Empty() {
		return nil, nil
	}
	return &UnsavedWorkError{Name: name, Clone: where, Work: work}, nil
}

func parseUnsaved(s string) *source.Work {
	w := &source.Work{}
	section := 0
	for _, l := range strings.Split(s, "\n") {
		switch {
		case l == "@@pitlane-stash":
			section = 1
		case l == "@@pitlane-unpushed":
			section = 2
		case strings.TrimSpace(l) == "":
		case section == 0:
			w.Changes = append(w.Changes, l)
		case section == 1:
			fmt.Sscan(strings.TrimSpace(l), &w.Stashes)
		default:
			w.Unpushed = append(w.Unpushed, l)
		}
	}
	return w
}

// ErrNotSupported: the provider cannot do this (yet); the message says
// what to do instead.
var ErrNotSupported = errors.New("not supported on this provider")

// remoteRebuild refuses a rebuild where the workspace's files live with
// its container or claim: a new container would start from a fresh clone.
func (m *Manager) remoteRebuild(name string) error {
	if !m.opts.Remote {
		return nil
	}
	return fmt.Errorf("%w: rebuilding %s on provider %s: its files live with the workspace there, and a rebuild would start from a fresh clone; push your work, then `pitlane delete %s` and create it again", ErrNotSupported, name, m.opts.Provider, name)
}

// Provider is the name of the provider the Manager's runtime is.
func (m *Manager) Provider() string { return m.opts.Provider }

// Remote reports whether the Manager's workspaces run where this
// machine's files are not.
func (m *Manager) Remote() bool { return m.opts.Remote }

// ownedHere reports whether a container's recorded provider is this
// Manager's (containers made before providers existed record none and
// belong to the built-in one).
func (m *Manager) ownedHere(c *runtime.Container) bool {
	p := c.Labels[LabelProvider]
	if p == "" {
		p = DefaultProvider
	}
	return p == m.opts.Provider
}

// Target is one provider as the engine sees it: a name and a way to
// reach its runtime.
type Target struct {
	Name string
	// Open connects to the provider's runtime; remote says that its
	// containers do not see this machine's files.
	Open func(ctx context.Context) (rt Runtime, remote bool, err error)
	// Close, if set, releases what Open made.
	Close func()
}

// Providers are the Managers of every provider, connected on first use.
// Workspace names are unique across them.
type Providers struct {
	opts    Options
	targets []Target
	def     string

	mu    sync.Mutex
	mgrs  map[string]*Manager
	locks map[string]*sync.Mutex // one per target: connecting is slow
}

// NewProviders returns the providers of targets; def names the one new
// workspaces go to ("" or an unknown name: the first target).
func NewProviders(opts Options, def string, targets ...Target) *Providers {
	ok := false
	for _, t := range targets {
		ok = ok || t.Name == def
	}
	if !ok && len(targets) > 0 {
		def = targets[0].Name
	}
	ps := &Providers{opts: opts, targets: targets, def: def, mgrs: map[string]*Manager{}, locks: map[string]*sync.Mutex{}}
	for _, t := range targets {
		ps.locks[t.Name] = &sync.Mutex{}
	}
	return ps
}

// Default is the name of the provider new workspaces go to.
func (ps *Providers) Default() string { return ps.def }

// Names lists the providers, the default first.
func (ps *Providers) Names() []string {
	out := []string{ps.def}
	for _, t := range ps.targets {
		if t.Name != ps.def {
			out = append(out, t.Name)
		}
	}
	return out
}

// ErrNoProvider: no provider has the given name.
var ErrNoProvider = errors.New("no such provider")

// Manager returns the Manager of provider name ("": the default),
// connecting to its runtime the first time. A failed connection is tried
// again on the next call.
func (ps *Providers) Manager(ctx context.Context, name string) (*Manager, error) {
	if name == "" {
		name = ps.def
	}
	var t *Target
	for i := range ps.targets {
		if ps.targets[i].Name == name {
			t = &ps.targets[i]
		}
	}
	if t == nil {
		return nil, fmt.Errorf("%w %q; `pitlane provider list` shows them (%s)", ErrNoProvider, name, strings.Join(ps.Names(), ", "))
	}
	l := ps.locks[name]
	l.Lock()
	defer l.Unlock()
	ps.mu.Lock()
	m := ps.mgrs[name]
	ps.mu.Unlock()
	if m != nil {
		return m, nil
	}
	rt, remote, err := t.Open(ctx)
	if err != nil {
		return nil, &ProviderError{Provider: name, Err: err}
	}
	opts := ps.opts
	opts.Provider, opts.Remote = name, remote
	m = NewManager(rt, opts)
	ps.mu.Lock()
	ps.mgrs[name] = m
	ps.mu.Unlock()
	return m, nil
}

// ProviderError is a provider that could not be reached or asked.
type ProviderError struct {
	Provider string
	Err      error
}

func (e *ProviderError) Error() string {
	return "provider " + e.Provider + ": " + e.Err.Error()
}
func (e *ProviderError) Unwrap() error { return e.Err }

// Find returns the Manager of the provider that runs workspace name,
// asking the default provider first. When no provider has it, the error
// matches ErrNotFound and names the providers that did not answer.
func (ps *Providers) Find(ctx context.Context, name string) (*Manager, *Workspace, error) {
	if err := ValidateName(name); err != nil {
		return nil, nil, err
	}
	var down []string
	var first error
	for _, p := range ps.Names() {
		m, err := ps.Manager(ctx, p)
		if err == nil {
			var ws *Workspace
			if ws, err = m.Get(ctx, name); err == nil {
				return m, ws, nil
			}
			if errors.Is(err, ErrNotFound) {
				continue
			}
		}
		if len(ps.targets) == 1 {
			return nil, nil, err
		}
		if first == nil {
			first = err
		}
		down = append(down, p)
	}
	err := notFound(name)
	if len(down) > 0 {
		return nil, nil, fmt.Errorf("%w (not asked: %s did not answer: %v)", err, strings.Join(down, ", "), first)
	}
	return nil, nil, err
}

// Create makes a workspace on provider name ("": the default), after
// checking that no other provider that answers has one of that name.
func (ps *Providers) Create(ctx context.Context, name string, opts CreateOptions) (*Workspace, error) {
	m, err := ps.Manager(ctx, name)
	if err != nil {
		return nil, err
	}
	ws := opts.Name
	if ws == "" {
		ws = source.BaseName(opts.Source)
	}
	if ValidateName(ws) == nil {
		for _, other := range ps.Names() {
			if other == m.Provider() {
				continue
			}
			om, err := ps.Manager(ctx, other)
			if err != nil {
				continue
			}
			if _, err := om.Get(ctx, ws); err == nil {
				return nil, fmt.Errorf("%w: a workspace named %s runs on provider %s; pick another name with --name, or remove it with `pitlane delete %s`", ErrNameTaken, ws, other, ws)
			}
		}
	}
	return m.Create(ctx, opts)
}

// List returns the workspaces of every provider, sorted by name; errs
// has one *ProviderError for each provider that could not be asked.
func (ps *Providers) List(ctx context.Context) (wss []*Workspace, errs []error) {
	names := ps.Names()
	type result struct {
		wss []*Workspace
		err error
	}
	results := make([]result, len(names))
	var wg sync.WaitGroup
	for i, p := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := ps.Manager(ctx, p)
			if err != nil {
				results[i].err = err
				return
			}
			l, err := m.List(ctx)
			if err != nil {
				err = &ProviderError{Provider: p, Err: err}
			}
			results[i] = result{l, err}
		}()
	}
	wg.Wait()
	for _, r := range results {
		wss = append(wss, r.wss...)
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	sortByName(wss)
	return wss, errs
}

// Watch reports the changes of every provider's workspaces (see
// Manager.Watch), merged. Providers that cannot be reached are left out;
// it fails only when none can be followed. The channel closes when ctx
// ends.
func (ps *Providers) Watch(ctx context.Context) (<-chan Event, error) {
	var feeds []<-chan Event
	var first error
	for _, p := range ps.Names() {
		m, err := ps.Manager(ctx, p)
		if err == nil {
			var ch <-chan Event
			if ch, err = m.Watch(ctx); err == nil {
				feeds = append(feeds, ch)
				continue
			}
			err = &ProviderError{Provider: p, Err: err}
		}
		if first == nil {
			first = err
		}
	}
	if len(feeds) == 0 {
		return nil, first
	}
	out := make(chan Event, 64)
	var wg sync.WaitGroup
	for _, ch := range feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range ch {
				send(ctx, out, ev)
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out, nil
}
