package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/dockerfile"
	"github.com/pitlane/pitlane/internal/imagekey"
	"github.com/pitlane/pitlane/internal/runtime"
	"github.com/pitlane/pitlane/internal/source"
)

// Images are cached by content key (see docs/prebuild.md): the image a
// configuration makes (its Dockerfile built, its features installed;
// before the remote user's uid changes, which depends on this machine) is
// tagged CACHE:KEY, and a create or rebuild whose configuration has the
// same key uses it instead of building. `pitlane prebuild` makes such an
// image ahead of time, runs onCreateCommand and updateContentCommand into
// it, and can push it to a registry, from which a create elsewhere pulls
// it by its key.

// Labels of cached images (and LabelCacheKey of the workspace containers
// made from one).
const (
	// LabelCacheKey is the content key of a cached image.
	LabelCacheKey = "dev.pitlane.cache-key"
	// LabelBaked lists the create-time phases run into the image
	// (comma-separated); a create from it does not run them again.
	LabelBaked = "dev.pitlane.baked"
	// LabelBakedFiles is how many new entries the baked phases left in
	// the workspace folder; the image keeps them (see bakeDir) and a
	// create puts them back.
	LabelBakedFiles = "dev.pitlane.baked-files"
)

// bakedPhases are the phases a prebuild runs into the image: those the
// specification allows to run before the workspace is used by anyone.
var bakedPhases = []string{devcontainer.PhaseOnCreate, devcontainer.PhaseUpdateContent}

// bakeDir is where a prebuilt image keeps what its baked phases made in
// the workspace folder (which a workspace mounts over): bakeDir/paths
// lists the entries, bakeDir/workspace holds them.
const bakeDir = "/var/lib/pitlane/prebuild"

// imageCache is what the cache needs beyond Runtime; *docker.Client has
// it. A runtime without it builds every time and cannot prebuild.
type imageCache interface {
	Tag(ctx context.Context, src, dst string) error
	Images(ctx context.Context, labels ...string) ([]runtime.Image, error)
	Commit(ctx context.Context, id string, spec runtime.CommitSpec) (string, error)
	CopyDir(ctx context.Context, id, dst, src string, uid, gid int) error
	Push(ctx context.Context, ref string, out func(string)) error
}

func (m *Manager) cache() (imageCache, bool) {
	c, ok := m.rt.(imageCache)
	return c, ok
}

// cacheRepo is the local repository of cached images: pitlane/cache, or
// pitlane/cache-INSTANCE for an instance other than the default one, so
// instances never share (or remove) each other's tags.
func (m *Manager) cacheRepo() string {
	if m.opts.Instance == "default" {
		return "pitlane/cache"
	}
	inst := strings.Trim(nonRepoChars.ReplaceAllString(strings.ToLower(m.opts.Instance), "-"), "-")
	return "pitlane/cache-" + inst
}

var nonRepoChars = regexp.MustCompile(`[^a-z0-9]+`)

// CacheRef is the local image reference of a cached image.
func (m *Manager) CacheRef(key string) string { return m.cacheRepo() + ":" + key }

// ShortKey is how messages show a key.
func ShortKey(key string) string {
	if len(key) > 12 {
		return key[:12]
	}
	return key
}

// PrebuiltImage tells that a create or rebuild found its image in the
// cache.
type PrebuiltImage struct {
	Key string `json:"key"`
	// Image is the local reference of the image used.
	Image string    `json:"image"`
	Built time.Time `json:"built"`
	// Baked are the setup phases run into the image, not run again.
	Baked []string `json:"baked,omitempty"`
	// PulledFrom is the registry repository it was pulled from; empty
	// when it was here already.
	PulledFrom string `json:"pulledFrom,omitempty"`
}

// PrebuiltReporter is a Progress that also wants to know, as data, that a
// create or rebuild uses a prebuilt image (the bridge tells the IDE).
type PrebuiltReporter interface {
	Prebuilt(PrebuiltImage)
}

// Prebuilt passes the news on to the caller's Progress.
func (p *logProgress) Prebuilt(pi PrebuiltImage) {
	if r, ok := p.next.(PrebuiltReporter); ok {
		r.Prebuilt(pi)
	}
}

// keyConfig is the part of a configuration that decides what its image
// holds, with this machine's paths and the workspace's id left as
// variables and ${localEnv:...} as written: the same configuration gives
// the same key on every machine, and no secret of this machine's
// environment counts.
type keyConfig struct {
	Image                       string                     `json:"image,omitempty"`
	Build                       *devcontainer.Build        `json:"build,omitempty"`
	DockerFile                  string                     `json:"dockerFile,omitempty"`
	Context                     string                     `json:"context,omitempty"`
	Features                    map[string]json.RawMessage `json:"features,omitempty"`
	OverrideFeatureInstallOrder []string                   `json:"overrideFeatureInstallOrder,omitempty"`
	// What the baked phases run, as whom, where and with what.
	OnCreateCommand      *devcontainer.Command `json:"onCreateCommand,omitempty"`
	UpdateContentCommand *devcontainer.Command `json:"updateContentCommand,omitempty"`
	ContainerUser        string                `json:"containerUser,omitempty"`
	RemoteUser           string                `json:"remoteUser,omitempty"`
	ContainerEnv         map[string]string     `json:"containerEnv,omitempty"`
	RemoteEnv            map[string]string     `json:"remoteEnv,omitempty"`
	UserEnvProbe         string                `json:"userEnvProbe,omitempty"`
	WorkspaceFolder      string                `json:"workspaceFolder,omitempty"`
}

// cacheable reports whether a configuration makes an image worth keeping:
// it builds one, installs features, or has setup phases to bake.
func cacheable(r *resolved) bool {
	if r.kind == KindDefault || r.compose != nil {
		return false
	}
	return r.build != nil || len(r.features) > 0 || !r.cfg.OnCreateCommand.Empty() || !r.cfg.UpdateContentCommand.Empty()
}

// imageKey computes the content key of the image r makes. Base images not
// here yet are pulled (the build would pull them anyway).
func (m *Manager) imageKey(ctx context.Context, r *resolved, p Progress) (string, error) {
	neutral := devcontainer.Vars{
		LocalWorkspaceFolder: "${localWorkspaceFolder}", ContainerWorkspaceFolder: r.folder,
		DevcontainerID: "${devcontainerId}", KeepLocalEnv: true,
	}
	raw, err := neutral.SubstituteConfig(r.plan.cfg)
	if err != nil {
		return "", err
	}
	kc := keyConfig{
		Image: raw.Image, Build: raw.Build, DockerFile: raw.DockerFile, Context: raw.Context,
		Features: raw.Features, OverrideFeatureInstallOrder: raw.OverrideFeatureInstallOrder,
	}
	if len(r.features) > 0 || !raw.OnCreateCommand.Empty() || !raw.UpdateContentCommand.Empty() {
		kc.OnCreateCommand, kc.UpdateContentCommand = raw.OnCreateCommand, raw.UpdateContentCommand
		kc.ContainerUser, kc.RemoteUser, kc.UserEnvProbe = raw.ContainerUser, raw.RemoteUser, raw.UserEnvProbe
		kc.ContainerEnv, kc.RemoteEnv, kc.WorkspaceFolder = raw.ContainerEnv, raw.RemoteEnv, r.folder
	}
	in := imagekey.Inputs{Kind: string(r.kind)}
	if in.Config, err = imagekey.Canonical(kc); err != nil {
		return "", err
	}
	var bases []string
	if b := r.build; b != nil {
		df := b.Dockerfile
		if !filepath.IsAbs(df) {
			df = filepath.Join(b.Context, filepath.FromSlash(df))
		}
		data, err := os.ReadFile(df)
		if err != nil {
			return "", fmt.Errorf("reading the Dockerfile: %w", err)
		}
		in.Dockerfile = string(data)
		if in.Context, err = imagekey.ContextDigest(b.Context); err != nil {
			return "", err
		}
		if bases, err = dockerfile.BaseImages(data, m.buildSpec("", r, "").Args); err != nil {
			return "", err
		}
	} else if r.cfg.Image != "" {
		bases = []string{r.cfg.Image}
	}
	for _, ref := range bases {
		id, err := m.baseID(ctx, ref, p)
		if err != nil {
			return "", err
		}
		in.Bases = append(in.Bases, id)
	}
	for _, f := range r.features {
		d, err := imagekey.DirDigest(f.Dir)
		if err != nil {
			return "", fmt.Errorf("feature %s: %w", f.Ref, err)
		}
		in.Features = append(in.Features, imagekey.Feature{Ref: f.Ref, Digest: d, Options: f.Values})
	}
	return imagekey.Key(in), nil
}

// baseID is the ID of a base image, pulled first when it is not here.
func (m *Manager) baseID(ctx context.Context, ref string, p Progress) (string, error) {
	img, err := m.rt.InspectImage(ctx, ref)
	if errors.Is(err, runtime.ErrNotFound) {
		p.Step("Pulling " + ref)
		if err := m.rt.Pull(ctx, ref, p.Output); err != nil {
			return "", m.engineErr(err)
		}
		img, err = m.rt.InspectImage(ctx, ref)
	}
	if err != nil {
		return "", m.engineErr(err)
	}
	return img.ID, nil
}

// cacheHit is an image found in the cache.
type cacheHit struct {
	ref    string
	config *runtime.ImageConfig
	baked  []string
	files  int
	from   string
}

// cacheLookup computes r's key (into r.key) and looks for its image: here,
// then in the repository cacheFrom. It returns nil when there is none, or
// nothing to cache; a key it cannot compute only costs the cache, with a
// warning.
func (m *Manager) cacheLookup(ctx context.Context, r *resolved, cacheFrom string, p Progress) (*cacheHit, error) {
	if _, ok := m.cache(); !ok || !cacheable(r) {
		return nil, nil
	}
	key, err := m.imageKey(ctx, r, p)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.Output("warning: not using the image cache: " + err.Error())
		return nil, nil
	}
	r.key = key
	if r.buildOpts != nil && r.buildOpts.NoCache {
		// build.options asks for --no-cache: build, then keep the result.
		return nil, nil
	}
	ref := m.CacheRef(key)
	hit := &cacheHit{ref: ref}
	hit.config, err = m.rt.InspectImage(ctx, ref)
	if err != nil && cacheFrom != "" {
		remote := cacheFrom + ":" + key
		p.Step("Looking for a prebuilt image in " + cacheFrom)
		if perr := m.rt.Pull(ctx, remote, p.Output); perr != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			p.Output(fmt.Sprintf("no prebuilt image %s in %s (%v): building it here", ShortKey(key), cacheFrom, perr))
			return nil, nil
		}
		if c, _ := m.cache(); c != nil {
			if err := c.Tag(ctx, remote, ref); err != nil {
				return nil, m.engineErr(err)
			}
		}
		_ = m.rt.RemoveImage(ctx, remote)
		hit.from = cacheFrom
		hit.config, err = m.rt.InspectImage(ctx, ref)
	}
	if err != nil {
		return nil, nil
	}
	if hit.config.Labels[LabelCacheKey] != key {
		p.Output("warning: " + ref + " does not carry its key: building instead")
		return nil, nil
	}
	hit.baked = bakedOf(hit.config.Labels)
	hit.files, _ = strconv.Atoi(hit.config.Labels[LabelBakedFiles])
	built := hit.config.Created
	p.Step(fmt.Sprintf("Using prebuilt image %s (built %s)", ShortKey(key), built.Local().Format("2006-01-02 15:04")))
	if len(hit.baked) > 0 {
		p.Output("set up in the image already: " + strings.Join(hit.baked, ", "))
	}
	if pr, ok := p.(PrebuiltReporter); ok {
		pr.Prebuilt(PrebuiltImage{Key: key, Image: ref, Built: built.UTC(), Baked: hit.baked, PulledFrom: hit.from})
	}
	m.touchImage(key)
	return hit, nil
}

// bakedOf reads LabelBaked: the baked phases Pitlane knows.
func bakedOf(labels map[string]string) []string {
	var out []string
	for _, ph := range strings.Split(labels[LabelBaked], ",") {
		if slices.Contains(bakedPhases, ph) {
			out = append(out, ph)
		}
	}
	return out
}

// cacheStore tags the image just built for r with its key, and drops the
// workspace's own tag of it: the container runs the cached image.
func (m *Manager) cacheStore(ctx context.Context, r *resolved, out *builtImage, p Progress) {
	c, ok := m.cache()
	if !ok || r.key == "" || out.own == "" {
		return
	}
	ref := m.CacheRef(r.key)
	if err := c.Tag(ctx, out.ref, ref); err != nil {
		p.Output("warning: not keeping the image in the cache: " + err.Error())
		return
	}
	_ = m.rt.RemoveImage(ctx, out.own)
	out.ref, out.own = ref, ""
	m.touchImage(r.key)
}

// imageLabels are the labels of an image Pitlane builds for a workspace.
func (m *Manager) imageLabels(name string, r *resolved) map[string]string {
	l := map[string]string{LabelWorkspace: name, LabelInstance: m.opts.Instance}
	if r != nil && r.key != "" {
		l[LabelCacheKey] = r.key
	}
	return l
}

// restoreBaked puts back into a new container's workspace folder what the
// image's baked phases made there, and returns the phases that count as
// done. Entries the folder has already are left alone. When that fails,
// nothing counts as done and the phases run as usual.
func (m *Manager) restoreBaked(ctx context.Context, id string, img *builtImage, folder string, p Progress) []string {
	if len(img.baked) == 0 {
		return nil
	}
	if img.bakedFiles > 0 {
		var out strings.Builder
		code, err := m.rt.Exec(ctx, id, runtime.ExecSpec{
			User: "root", Cmd: []string{"/bin/sh", "-c", restoreScript, "sh", folder, img.remoteUser},
			Stdout: &out, Stderr: &out,
		})
		if err != nil || code != 0 {
			p.Output(fmt.Sprintf("warning: could not restore what the prebuilt setup made in %s (%v %s): running it again", folder, err, strings.TrimSpace(out.String())))
			return nil
		}
	}
	return img.baked
}

// restoreScript copies the entries of bakeDir/workspace listed in
// bakeDir/paths into the folder $1 where they are missing, owned by the
// user $2.
const restoreScript = `S=` + bakeDir + `; F="$1"; U="$(id -u "$2"):$(id -g "$2")" || exit 1
[ -f "$S/paths" ] || exit 0
while IFS= read -r p; do
  [ -n "$p" ] || continue
  if [ -e "$F/$p" ] || [ -L "$F/$p" ]; then continue; fi
  [ -d "$(dirname "$F/$p")" ] || continue
  cp -a "$S/workspace/$p" "$F/$p" && chown -R "$U" "$F/$p" || exit 1
done < "$S/paths"`

// stashScript keeps the entries of the folder $1 named on its input in
// bakeDir, for restoreScript.
const stashScript = `set -e
S=` + bakeDir + `; F="$1"
rm -rf "$S"; mkdir -p "$S/workspace"; : > "$S/paths"
while IFS= read -r p; do
  [ -n "$p" ] || continue
  mkdir -p "$S/workspace/$(dirname "$p")"
  cp -a "$F/$p" "$S/workspace/$p"
  printf '%s\n' "$p" >> "$S/paths"
done`

// listScript prints every entry below the folder $1, NUL-terminated.
const listScript = `cd "$1" && find . -mindepth 1 -print0`

// PrebuildOptions are the inputs of Manager.Prebuild.
type PrebuildOptions struct {
	// Source is a git URL or a local folder, as for Create.
	Source string
	// Branch to check out for git sources.
	Branch string
	// ConfigPath selects a devcontainer.json, as for Create.
	ConfigPath string
	// Push, if set, is a registry repository (REGISTRY/REPO) to push the
	// image to, tagged with its key.
	Push string
	// Force builds and bakes again even when the image is in the cache.
	Force bool
	// Progress, if set, receives steps and output lines.
	Progress Progress
	// Consent is asked when the configuration needs trust to build (a
	// build context outside the source). A prebuild runs nothing on this
	// machine and gives its container no host access.
	Consent Consent
}

// PrebuildResult is what a prebuild made.
type PrebuildResult struct {
	Key string `json:"key"`
	// Image is the local reference of the prebuilt image.
	Image string `json:"image"`
	// Pushed is the reference it was pushed as.
	Pushed string    `json:"pushed,omitempty"`
	Built  time.Time `json:"built"`
	// Baked are the setup phases run into the image.
	Baked []string `json:"baked"`
	// Reused is set when the cache had the image already.
	Reused bool `json:"reused,omitempty"`
}

// ValidateRepository checks a registry repository given for pushing or
// pulling prebuilt images (REGISTRY/REPO, no tag: the key is the tag).
func ValidateRepository(repo string) error {
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return fmt.Errorf("%q is not a registry repository (REGISTRY/REPO, for example registry.example.com/team/app): %v", repo, err)
	}
	if !reference.IsNameOnly(named) {
		return fmt.Errorf("%q has a tag or digest: give the repository alone (REGISTRY/REPO); images are tagged with their key", repo)
	}
	return nil
}

// Prebuild builds the image of a source's configuration into the cache,
// runs its onCreateCommand and updateContentCommand into it, and pushes it
// when asked. A create anywhere with the same configuration then uses it
// (from this engine's cache, or pulled from the registry) and runs only
// the remaining setup.
func (m *Manager) Prebuild(ctx context.Context, opts PrebuildOptions) (*PrebuildResult, error) {
	if _, ok := m.cache(); !ok {
		return nil, fmt.Errorf("this runtime (%s) cannot keep prebuilt images", m.rt.Host())
	}
	if opts.Push != "" {
		if err := ValidateRepository(opts.Push); err != nil {
			return nil, err
		}
	}
	p := Progress(nopProgress{})
	if opts.Progress != nil {
		p = opts.Progress
	}
	local, src, cleanup, err := m.prebuildSource(ctx, opts, p)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	return m.prebuildFolder(ctx, local, src, opts, p)
}

// prebuildSource finds a local source folder or clones a git source into
// a temporary folder (removed by cleanup).
func (m *Manager) prebuildSource(ctx context.Context, opts PrebuildOptions, p Progress) (local string, src Source, cleanup func(), err error) {
	cleanup = func() {}
	if opts.Source == "" {
		return "", src, cleanup, fmt.Errorf("%w: no source given: name a git URL or a folder", ErrSourceInvalid)
	}
	if !source.IsGitURL(opts.Source) {
		if opts.Branch != "" {
			return "", src, cleanup, fmt.Errorf("%w: --branch applies to git URLs; %s is a local folder used as it is", ErrSourceInvalid, opts.Source)
		}
		local, err = source.LocalFolder(opts.Source)
		if err != nil {
			return "", src, cleanup, fmt.Errorf("%w: %w", ErrSourceInvalid, err)
		}
		return local, Source{URL: local, Local: true}, cleanup, nil
	}
	src = Source{URL: source.Redact(opts.Source), Ref: opts.Branch}
	tmp, err := os.MkdirTemp("", "pitlane-prebuild-")
	if err != nil {
		return "", src, cleanup, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	local = filepath.Join(tmp, source.BaseName(opts.Source))
	p.Step("Cloning " + src.URL)
	if err := source.Clone(ctx, opts.Source, opts.Branch, local, p.Output); err != nil {
		cleanup()
		return "", src, func() {}, fmt.Errorf("%w: %w", ErrSourceInvalid, err)
	}
	return local, src, cleanup, nil
}

// prebuildFolder prebuilds the configuration of a source folder.
func (m *Manager) prebuildFolder(ctx context.Context, local string, src Source, opts PrebuildOptions, p Progress) (*PrebuildResult, error) {
	c, _ := m.cache()
	name := source.BaseName(local)
	if ValidateName(name) != nil {
		name = "prebuild"
	}
	r, err := m.planStep(ctx, name, local, opts.ConfigPath, p)
	if err != nil {
		return nil, err
	}
	if r.kind == KindDefault || r.compose != nil {
		return nil, fmt.Errorf("%w: %s has no devcontainer.json or Dockerfile: there is nothing to prebuild (the default image %s is used as it is)", ErrSourceInvalid, src.URL, m.opts.DefaultImage)
	}
	if !cacheable(r) {
		return nil, fmt.Errorf("%w: there is nothing to prebuild: the configuration uses the image %s as it is, with no features, onCreateCommand or updateContentCommand", ErrSourceInvalid, r.cfg.Image)
	}
	var asked []TrustItem
	for _, it := range planTrust(r, local) {
		if it.Kind == TrustBuildContext {
			asked = append(asked, it)
		}
	}
	if err := m.checkTrust(ctx, opts.Consent, name, src, r.configPath, r.configHash, asked); err != nil {
		return nil, err
	}
	p.Step("Computing the image's key")
	if r.key, err = m.imageKey(ctx, r, p); err != nil {
		return nil, err
	}
	ref := m.CacheRef(r.key)
	p.Output("key " + r.key)
	// Two prebuilds of one key take turns; the second finds the image.
	unlock, err := m.flock("prebuild-"+ShortKey(r.key), true)
	if err != nil {
		return nil, err
	}
	defer unlock()

	res := &PrebuildResult{Key: r.key, Image: ref}
	img, err := m.rt.InspectImage(ctx, ref)
	switch {
	case err == nil && !opts.Force && len(bakedOf(img.Labels)) == len(bakedPhases):
		res.Reused = true
		p.Output("the cache has this image already (built " + img.Created.Local().Format("2006-01-02 15:04") + ")")
	case err == nil && !opts.Force:
		// Built by a create: bake the setup phases on top of it.
		if err := m.bake(ctx, r, local, ref, p); err != nil {
			return nil, err
		}
	default:
		out := &builtImage{}
		if _, err := m.buildImage(ctx, "prebuild-"+ShortKey(r.key), r, out, p); err != nil {
			return nil, err
		}
		if err := c.Tag(ctx, out.ref, ref); err != nil {
			return nil, m.engineErr(err)
		}
		if out.own != "" {
			_ = m.rt.RemoveImage(ctx, out.own)
		}
		if err := m.bake(ctx, r, local, ref, p); err != nil {
			if out.own == "" {
				// The configuration's image itself got the key's
				// tag, and nothing was baked into it: take the tag
				// back, the image keeps its own name.
				_ = m.rt.RemoveImage(context.WithoutCancel(ctx), ref)
			}
			return nil, err
		}
	}
	if img, err = m.rt.InspectImage(ctx, ref); err != nil {
		return nil, m.engineErr(err)
	}
	res.Built, res.Baked = img.Created.UTC(), bakedOf(img.Labels)
	if res.Baked == nil {
		res.Baked = []string{}
	}
	m.touchImage(r.key)
	if opts.Push != "" {
		remote := opts.Push + ":" + r.key
		p.Step("Pushing " + remote)
		if err := c.Tag(ctx, ref, remote); err != nil {
			return nil, m.engineErr(err)
		}
		err := c.Push(ctx, remote, p.Output)
		_ = m.rt.RemoveImage(context.WithoutCancel(ctx), remote)
		if err != nil {
			return nil, m.engineErr(err)
		}
		res.Pushed = remote
	}
	p.Step("")
	return res, nil
}

// bake runs the setup phases that may be baked (onCreateCommand,
// updateContentCommand) in a container of the image ref, with a copy of
// the source in the workspace folder, and saves the result as ref. What
// the phases made in the workspace folder is kept apart in the image (see
// bakeDir), since a workspace mounts its own folder there.
func (m *Manager) bake(ctx context.Context, r *resolved, local, ref string, p Progress) error {
	c, _ := m.cache()
	imgCfg, err := m.rt.InspectImage(ctx, ref)
	if err != nil {
		return m.engineErr(err)
	}
	metadata, err := devcontainer.ParseMetadata(imgCfg.Labels[devcontainer.MetadataLabel])
	if err != nil {
		p.Output("ignoring the image's metadata: " + err.Error())
		metadata = nil
	}
	merged := devcontainer.Merge(r.cfg, metadata)
	var phases []string
	for _, ph := range bakedPhases {
		if len(merged.Hooks(ph)) > 0 {
			phases = append(phases, ph)
		}
	}
	if len(phases) == 0 {
		p.Output("no onCreateCommand or updateContentCommand to run into the image")
		return nil
	}
	user := firstNonEmpty(merged.RemoteUser, merged.ContainerUser, imgCfg.User, "root")
	folder := r.folder
	p.Step("Starting a container to run " + strings.Join(phases, " and "))
	spec := runtime.ContainerSpec{
		Name: "pitlane-prebuild-" + ShortKey(r.key) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10),
		// The container's own labels end up in the image where the
		// image does not set them: only those it sets anyway. It is no
		// workspace, whatever the image's labels say.
		Image: ref, Cmd: keepAlive,
		Labels: map[string]string{LabelInstance: m.opts.Instance, LabelCacheKey: r.key, LabelWorkspace: ""},
		// An anonymous volume: the source copy and what the phases make
		// there stay out of the saved image.
		Mounts: []runtime.Mount{{Type: "volume", Target: folder}},
	}
	if len(imgCfg.Entrypoint) > 0 {
		// An entrypoint of the image's own is put back in the saved
		// image; an absent one must stay absent (see CommitSpec).
		spec.Entrypoint, spec.Cmd = keepAlive[:1], keepAlive[1:]
	}
	id, err := m.startContainer(ctx, spec)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = m.rt.Remove(cctx, id)
	}()
	uid, gid := 0, 0
	if !isRoot(user) {
		if uid, gid, err = m.ids(ctx, id, user); err != nil {
			return err
		}
	}
	if err := m.rootExec(ctx, id, fmt.Sprintf(`mkdir -p "$1" && chown %d:%d "$1"`, uid, gid), folder); err != nil {
		return fmt.Errorf("preparing the workspace folder %s: %w", folder, err)
	}
	p.Output("copying the source into " + folder)
	if err := c.CopyDir(ctx, id, folder, local, uid, gid); err != nil {
		return m.engineErr(err)
	}
	before, err := m.listFolder(ctx, id, folder)
	if err != nil {
		return err
	}
	ct, err := m.rt.Inspect(ctx, id)
	if err != nil {
		return m.engineErr(err)
	}
	cfg := containerResolve(merged, ct.Env)
	prelude := ""
	if isRoot(user) {
		prelude = profilePatch
	} else {
		m.patchProfile(ctx, id)
	}
	probed, err := m.probeEnv(ctx, id, user, cfg.UserEnvProbe, prelude)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHookFailed, err)
	}
	// containerEnv reaches the phases through their environment: set on
	// the container, the saved image would keep it.
	// A workspace's own --env values are no part of a shared image.
	env := composeEnv(probed, ct.Env, cfg, cfg.ContainerEnv, nil)
	ws := &Workspace{ContainerID: id, RemoteUser: user, Folder: folder}
	for _, ph := range phases {
		if err := m.runPhase(ctx, ws, cfg, ph, env, p); err != nil {
			return err
		}
	}
	after, err := m.listFolder(ctx, id, folder)
	if err != nil {
		return err
	}
	made := newEntries(before, after)
	p.Step("Saving the image")
	if len(made) > 0 {
		p.Output(fmt.Sprintf("keeping %d new entries of the workspace folder (%s)", len(made), strings.Join(first(made, 5), ", ")))
		var out strings.Builder
		code, err := m.rt.Exec(ctx, id, runtime.ExecSpec{
			User: "root", Cmd: []string{"/bin/sh", "-c", stashScript, "sh", folder},
			Stdin: strings.NewReader(strings.Join(made, "\n") + "\n"), Stdout: &out, Stderr: &out,
		})
		if err != nil || code != 0 {
			return fmt.Errorf("keeping what the setup made in %s: %v %s", folder, err, strings.TrimSpace(out.String()))
		}
	}
	labels := map[string]string{}
	for k, v := range imgCfg.Labels {
		labels[k] = v
	}
	labels[LabelInstance] = m.opts.Instance
	labels[LabelCacheKey] = r.key
	labels[LabelBaked] = strings.Join(bakedPhases, ",")
	labels[LabelBakedFiles] = strconv.Itoa(len(made))
	if _, err := c.Commit(ctx, id, runtime.CommitSpec{Tag: ref, ConfigFrom: ref, Labels: labels}); err != nil {
		return m.engineErr(err)
	}
	return nil
}

// rootExec runs a shell script as root in a container, with args as $1...
func (m *Manager) rootExec(ctx context.Context, id, script string, args ...string) error {
	var out strings.Builder
	code, err := m.rt.Exec(ctx, id, runtime.ExecSpec{
		User: "root", Cmd: append([]string{"/bin/sh", "-c", script, "sh"}, args...), Stdout: &out, Stderr: &out,
	})
	if err != nil {
		return m.engineErr(err)
	}
	if code != 0 {
		return fmt.Errorf("exit status %d: %s", code, strings.TrimSpace(out.String()))
	}
	return nil
}

// listFolder lists every entry below folder in a container, relative to
// it.
func (m *Manager) listFolder(ctx context.Context, id, folder string) ([]string, error) {
	var out, errOut strings.Builder
	code, err := m.rt.Exec(ctx, id, runtime.ExecSpec{
		User: "root", Cmd: []string{"/bin/sh", "-c", listScript, "sh", folder}, Stdout: &out, Stderr: &errOut,
	})
	if err != nil {
		return nil, m.engineErr(err)
	}
	if code != 0 {
		return nil, fmt.Errorf("listing %s in the container: %s", folder, strings.TrimSpace(errOut.String()))
	}
	var list []string
	for _, e := range strings.Split(out.String(), "\x00") {
		if e = strings.TrimPrefix(e, "./"); e != "" && e != "." {
			list = append(list, e)
		}
	}
	return list, nil
}

// newEntries returns the entries of after that before lacks, each new
// folder once (not its contents), sorted. Names holding a newline are
// left out.
func newEntries(before, after []string) []string {
	had := make(map[string]bool, len(before))
	for _, e := range before {
		had[e] = true
	}
	sort.Strings(after)
	var out []string
	made := map[string]bool{}
	for _, e := range after {
		if had[e] || strings.Contains(e, "\n") {
			continue
		}
		made[e] = true
		if parent := filepath.Dir(e); parent != "." && made[parent] {
			continue
		}
		inside := false
		for d := filepath.Dir(e); d != "."; d = filepath.Dir(d) {
			if made[d] {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, e)
		}
	}
	return out
}

// The per-source setting of where prebuilt images are pulled from.

type prebuildSettings struct {
	// CacheFrom maps a source (a git URL without credentials, or a local
	// folder) to a registry repository.
	CacheFrom map[string]string `json:"cacheFrom,omitempty"`
}

func (m *Manager) prebuildSettingsPath() string {
	return filepath.Join(m.opts.ConfigDir, "prebuild.json")
}

func (m *Manager) readPrebuildSettings() prebuildSettings {
	var s prebuildSettings
	if b, err := os.ReadFile(m.prebuildSettingsPath()); err == nil {
		_ = json.Unmarshal(b, &s)
	}
	return s
}

// CacheFrom returns the registry repository saved for a source ("" when
// none); src is a git URL or a local folder.
func (m *Manager) CacheFrom(src string) string {
	return m.readPrebuildSettings().CacheFrom[sourceID(src)]
}

// SetCacheFrom saves the registry repository that creates of src pull
// prebuilt images from; "" forgets it.
func (m *Manager) SetCacheFrom(src, repo string) error {
	if repo != "" {
		if err := ValidateRepository(repo); err != nil {
			return err
		}
	}
	unlock, err := m.flock("prebuild-settings", true)
	if err != nil {
		return err
	}
	defer unlock()
	s := m.readPrebuildSettings()
	if s.CacheFrom == nil {
		s.CacheFrom = map[string]string{}
	}
	id := sourceID(src)
	if repo == "" {
		delete(s.CacheFrom, id)
	} else {
		s.CacheFrom[id] = repo
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.opts.ConfigDir, 0o700); err != nil {
		return err
	}
	return writeFileAtomic(m.prebuildSettingsPath(), b, 0o600)
}

// sourceID is how settings name a source: the git URL without
// credentials, or the local folder's absolute path.
func sourceID(src string) string {
	if source.IsGitURL(src) {
		return source.Redact(src)
	}
	if local, err := source.LocalFolder(src); err == nil {
		return local
	}
	return src
}
