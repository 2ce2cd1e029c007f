package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/runtime"
)

// setup turns a fetched source into a running, set-up container, in
// named steps: plan (read and resolve the configuration), trust (ask
// before anything runs on the host or gets host access), initialize (the
// host-side command), image (build or pull, features, uid update),
// container (create and start) and hooks (the lifecycle commands inside).
//
// If it fails before the hooks, or ctx is cancelled, the container it made
// is removed again. If a hook fails, the workspace is returned in
// StateError with an error matching ErrHookFailed and its container kept.
func (m *Manager) setup(ctx context.Context, name string, src Source, local, configPath string, consent Consent, p *logProgress) (_ *Workspace, kind ConfigKind, err error) {
	r, err := m.planStep(ctx, name, local, configPath, p)
	if r != nil {
		kind = r.kind
	}
	if err != nil {
		return nil, kind, inStep("config", err)
	}
	r.cacheFrom = m.CacheFrom(src.URL)
	if r.compose != nil {
		ws, err := m.composeSetup(ctx, name, src, local, consent, r, "", p)
		return ws, kind, err
	}
	asked := planTrust(r, local)
	if r.build == nil {
		// An image that is here already tells what it asks for now.
		if img, err := m.rt.InspectImage(ctx, r.cfg.Image); err == nil {
			if md, err := devcontainer.ParseMetadata(img.Labels[devcontainer.MetadataLabel]); err == nil {
				asked = append(asked, metadataTrust(md)...)
			}
		}
	}
	if err := m.checkTrust(ctx, consent, name, src, r.configPath, r.configHash, asked); err != nil {
		return nil, kind, inStep("config", err)
	}
	if err := runInitialize(ctx, r.cfg, local, p); err != nil {
		return nil, kind, inStep("initialize", err)
	}
	img, err := m.imageStep(ctx, name, r, p)
	if err != nil {
		return nil, kind, inStep("build", err)
	}
	if more := metadataTrust(img.metadata); len(more) > 0 {
		if err := m.checkTrust(ctx, consent, name, src, r.configPath, r.configHash, append(asked, more...)); err != nil {
			return nil, kind, inStep("build", err)
		}
	}
	cp, err := m.containerSpec(name, src, local, r, img)
	if err != nil {
		return nil, kind, inStep("config", err)
	}
	ws := cp.ws
	p.Step("Creating container")
	id, err := m.startContainer(ctx, cp.spec)
	if err != nil {
		return nil, kind, inStep("container", err)
	}
	ws.ContainerID = id
	defer func() {
		if err != nil && !errors.Is(err, ErrHookFailed) {
			// Remove on a fresh context: the caller's may be cancelled.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_ = m.rt.Remove(cctx, id)
		}
	}()
	ws, err = m.finishStep(ctx, name, ws, id, img, r, cp, p)
	return ws, kind, err
}

// finishStep records container id as workspace ws's container and runs
// its setup hooks. A failed hook returns ws in StateError with an error
// matching ErrHookFailed.
func (m *Manager) finishStep(ctx context.Context, name string, ws *Workspace, id string, img *builtImage, r *resolved, cp *containerPlan, p Progress) (*Workspace, error) {
	if err := m.saveConfig(name, id, img.merged, cp.hostEnv); err != nil {
		return nil, inStep("container", err)
	}
	baked := m.restoreBaked(ctx, id, img, r.folder, p)
	if err := m.updateMarker(name, func(mk *marker) { mk.Container, mk.Done = id, baked }); err != nil {
		return nil, inStep("container", err)
	}
	c, err := m.rt.Inspect(ctx, id)
	if err != nil {
		return nil, inStep("container", m.engineErr(err))
	}
	err = m.hooksStep(ctx, ws, c, img.merged, cp.hostEnv, true, p)
	if ctx.Err() == nil {
		m.recordSetupChanges(ctx, ws)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errors.Is(err, ErrHookFailed) {
			return nil, inStep("container", err)
		}
		ws.State, ws.LastError = StateError, err.Error()
		_ = m.updateMarker(name, func(mk *marker) { mk.Phase, mk.Error = phaseError, err.Error() })
		return ws, inStep("hooks", err)
	}
	if err := m.updateMarker(name, func(mk *marker) { mk.Phase, mk.Error = phaseReady, "" }); err != nil {
		return nil, err
	}
	p.Step("")
	ws.State = StateRunning
	return ws, nil
}

// planStep reads the source's configuration and resolves everything that
// can be known before an image exists.
func (m *Manager) planStep(ctx context.Context, name, local, configPath string, p Progress) (*resolved, error) {
	p.Step("Reading configuration")
	pl, err := m.readConfig(local, configPath, m.DetectedDir(name), p)
	if err != nil {
		return nil, err
	}
	if pl.configPath != "" {
		p.Output("using " + pl.configPath)
	}
	r, err := m.resolve(ctx, name, local, pl, p.Output)
	if err != nil {
		return &resolved{plan: pl}, configErr(pl, err)
	}
	return r, nil
}

// builtImage is the outcome of the image step: the image the container
// runs and the configuration merged with that image's metadata.
type builtImage struct {
	// ref is the image the container is created from.
	ref string
	// own is the tag Pitlane built for this workspace (removed with it);
	// empty when the configuration's image runs as it is.
	own    string
	config *runtime.ImageConfig
	// merged is the configuration merged with the image's metadata;
	// record is the same with ${localEnv:...} as written, for labels.
	merged, record *devcontainer.Config
	// metadata are the image's devcontainer.metadata entries.
	metadata   []*devcontainer.Config
	remoteUser string
	// key is the image's content key ("" when not cached); baked are the
	// setup phases run into a prebuilt image, which left bakedFiles
	// entries of the workspace folder in it.
	key        string
	baked      []string
	bakedFiles int
}

// imageStep finds the configuration's image in the cache, or builds or
// pulls it and installs its features; then it gives the remote user the
// host user's uid, as asked.
func (m *Manager) imageStep(ctx context.Context, name string, r *resolved, p Progress) (*builtImage, error) {
	out := &builtImage{}
	hit, err := m.cacheLookup(ctx, r, r.cacheFrom, p)
	if err != nil {
		return nil, err
	}
	var metadata []*devcontainer.Config
	if hit != nil {
		out.ref, out.config, out.baked, out.bakedFiles = hit.ref, hit.config, hit.baked, hit.files
		if metadata, err = devcontainer.ParseMetadata(out.config.Labels[devcontainer.MetadataLabel]); err != nil {
			return nil, err
		}
	} else {
		if metadata, err = m.buildImage(ctx, name, r, out, p); err != nil {
			return nil, err
		}
		m.cacheStore(ctx, r, out, p)
	}
	out.key = r.key
	tag := ownTag(name)
	out.merged = devcontainer.Merge(r.cfg, metadata)
	out.record = devcontainer.Merge(r.record, metadata)
	out.metadata = metadata
	out.remoteUser = firstNonEmpty(out.merged.RemoteUser, out.merged.ContainerUser, out.config.User, "root")
	if uid, gid, ok := m.wantUIDUpdate(out.merged, out.remoteUser); ok {
		if err := m.buildUIDUpdate(ctx, name, out.ref, out.config.User, out.remoteUser, uid, gid, tag, p); err != nil {
			return nil, err
		}
		out.ref, out.own = tag, tag
	}
	for _, w := range m.hostWarnings(ctx, out.merged.HostRequirements) {
		p.Output("warning: " + w)
	}
	return out, nil
}

// buildImage builds or pulls the configuration's image and installs its
// features, into out (ref, own and config); it returns the image's
// metadata entries.
func (m *Manager) buildImage(ctx context.Context, name string, r *resolved, out *builtImage, p Progress) ([]*devcontainer.Config, error) {
	var err error
	if out.ref, out.own, err = m.baseImage(ctx, name, r, p); err != nil {
		return nil, err
	}
	if out.config, err = m.rt.InspectImage(ctx, out.ref); err != nil {
		return nil, m.engineErr(err)
	}
	metadata, err := devcontainer.ParseMetadata(out.config.Labels[devcontainer.MetadataLabel])
	if err != nil {
		p.Output("ignoring the image's metadata: " + err.Error())
		metadata = nil
	}
	if len(r.features) > 0 {
		tag := ownTag(name)
		pre := devcontainer.Merge(r.cfg, metadata)
		if err := m.buildFeatures(ctx, name, out.ref, out.config, pre, r.features, tag, m.imageLabels(name, r), p); err != nil {
			return nil, err
		}
		out.ref, out.own = tag, tag
		if out.config, err = m.rt.InspectImage(ctx, out.ref); err != nil {
			return nil, m.engineErr(err)
		}
		if metadata, err = devcontainer.ParseMetadata(out.config.Labels[devcontainer.MetadataLabel]); err != nil {
			return nil, err
		}
	}
	return metadata, nil
}

// ownTag is the tag of the image Pitlane builds for a workspace.
func ownTag(name string) string { return "pitlane-" + name + ":latest" }

// baseImage builds the configuration's Dockerfile, or makes sure its image
// is present (pulling it if not). It returns the image and, when Pitlane
// built it, its tag.
func (m *Manager) baseImage(ctx context.Context, name string, r *resolved, p Progress) (ref, own string, err error) {
	if r.build == nil {
		ref = r.cfg.Image
		ok, err := m.rt.ImageExists(ctx, ref)
		if err != nil {
			return "", "", m.engineErr(err)
		}
		if ok {
			return ref, "", nil
		}
		p.Step("Pulling " + ref)
		if err := m.rt.Pull(ctx, ref, p.Output); err != nil {
			if ref == m.opts.DefaultImage && ctx.Err() == nil {
				err = fmt.Errorf("%w\nthe default image %s is built locally, not pulled: run `make base-image` in Pitlane's source tree, or give the source a devcontainer.json that names an image", err, ref)
			}
			return "", "", m.engineErr(err)
		}
		return ref, "", nil
	}
	own = ownTag(name)
	p.Step("Building image")
	if err := m.rt.Build(ctx, m.buildSpec(name, r, own), p.Output); err != nil {
		return "", "", m.engineErr(err)
	}
	return own, own, nil
}

// buildSpec is the build of a configuration's Dockerfile, with the
// builder options of build.options applied.
func (m *Manager) buildSpec(name string, r *resolved, tag string) runtime.BuildSpec {
	b := r.build
	bs := runtime.BuildSpec{
		Context: b.Context, Dockerfile: b.Dockerfile, Args: b.Args, Target: b.Target,
		Tag: tag, Labels: m.imageLabels(name, r),
	}
	o := r.buildOpts
	if o == nil {
		return bs
	}
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
	return bs
}

// containerPlan is a workspace's record and the container that holds it.
type containerPlan struct {
	ws   *Workspace
	spec runtime.ContainerSpec
	// hostEnv are the container variables taken from the host's
	// environment, kept off the container (see hostDerivedEnv).
	hostEnv map[string]string
}

// containerSpec works out the workspace record and the container that
// holds it. It makes nothing.
func (m *Manager) containerSpec(name string, src Source, local string, r *resolved, img *builtImage) (*containerPlan, error) {
	merged := img.merged
	ws := &Workspace{
		Name: name, State: StateCreating, Source: src, Image: img.ref, ConfigKind: r.kind, ConfigPath: r.configPath,
		LocalFolder: local, Folder: r.folder, RemoteUser: img.remoteUser, SSHHost: name + "." + SSHDomain,
		CreatedAt: time.Now().UTC().Truncate(time.Second), Ports: merged.AllPorts(),
	}
	if r.image != "" && img.own == "" {
		ws.Image = r.image
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
	hostEnv := hostDerivedEnv(img.record, os.LookupEnv)
	for k := range hostEnv {
		delete(env, k)
	}
	spec := runtime.ContainerSpec{
		Name:        ContainerName(name),
		Image:       img.ref,
		Env:         envList(env),
		User:        merged.ContainerUser,
		Labels:      encodeLabels(record{ws: ws, instance: m.opts.Instance, builtImage: img.own, configHash: r.configHash, config: img.record, cacheKey: img.key}),
		Mounts:      []runtime.Mount{r.mount},
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
			return nil, fmt.Errorf("mounts: %w", err)
		}
		// A missing host path is never made: a configuration must not
		// create files on this machine.
		if dm.Type == "bind" && dm.Source != "" {
			if _, err := os.Stat(dm.Source); err != nil {
				return nil, fmt.Errorf("mounts: the host path %s to mount at %s does not exist: create it yourself if you want it mounted, or remove the mount", dm.Source, dm.Target)
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
	}
	return &containerPlan{ws: ws, spec: spec, hostEnv: hostEnv}, nil
}

// startContainer creates and starts a container. It returns the id of
// what it created even when the start fails, so the caller can remove it;
// a container that could not be started is removed here.
func (m *Manager) startContainer(ctx context.Context, spec runtime.ContainerSpec) (string, error) {
	id, err := m.rt.Create(ctx, spec)
	if err != nil {
		if errors.Is(err, runtime.ErrConflict) {
			return "", fmt.Errorf("%w: another process created a container named %s meanwhile", ErrNameTaken, spec.Name)
		}
		return "", m.engineErr(err)
	}
	if err := m.rt.Start(ctx, id); err != nil {
		_ = m.rt.Remove(context.WithoutCancel(ctx), id)
		return "", m.engineErr(err)
	}
	return id, nil
}

// createPhases are the lifecycle phases that run once per container.
var createPhases = []string{devcontainer.PhaseOnCreate, devcontainer.PhaseUpdateContent, devcontainer.PhasePostCreate}

// hooksStep runs the lifecycle commands of container c. With setup (a
// new container, or one whose setup was interrupted) it runs the
// create-time phases not yet finished in it, postStartCommand and
// postAttachCommand; otherwise (a plain start) postStartCommand alone.
// Each finished create-time phase is recorded, so an interrupted setup
// goes on where it stopped.
func (m *Manager) hooksStep(ctx context.Context, ws *Workspace, c *runtime.Container, merged *devcontainer.Config, hostEnv map[string]string, setup bool, p Progress) error {
	if merged.OverrideCommand != nil && !*merged.OverrideCommand && len(merged.Entrypoints) > 0 {
		p.Output("warning: overrideCommand is false, so the features' entrypoints do not run")
	}
	merged = containerResolve(merged, c.Env)
	phases := []string{devcontainer.PhasePostStart}
	if setup {
		phases = append(slices.Clone(createPhases), devcontainer.PhasePostStart, devcontainer.PhasePostAttach)
	}
	// One channel forwards the host's git credentials to every hook and
	// the dotfiles. A setup starts it even without hooks, so the agent
	// that git's credential helper runs is copied in while the steps
	// below go on.
	fw := &Forwarding{}
	if setup || len(merged.Hooks(devcontainer.PhasePostStart)) > 0 {
		fw = m.forward(ctx, ws, ws.RemoteUser)
		defer fw.Stop()
	}
	if setup {
		m.personalize(ctx, ws, p)
	}
	awaited := false
	await := func() {
		if !awaited && fw.Ready != nil {
			awaited = true
			m.awaitForwarding(ctx, ws, fw, p)
		}
	}
	// The profile patch needs root: it shares the probe's exec when the
	// remote user is root, and costs an exec of its own otherwise.
	prelude := ""
	if isRoot(ws.RemoteUser) {
		prelude = profilePatch
	} else {
		m.patchProfile(ctx, c.ID)
	}
	henv, err := m.remoteEnvAfter(ctx, ws, c.Env, merged, hostEnv, prelude)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHookFailed, err)
	}
	henv = append(henv, fw.Env...)
	mk := m.readMarker(ws.Name)
	waitFor := firstNonEmpty(merged.WaitFor, devcontainer.PhaseUpdateContent)
	for _, phase := range phases {
		once := slices.Contains(createPhases, phase)
		if once && mk.done(c.ID, phase) {
			if phase == devcontainer.PhasePostCreate && !mk.done(c.ID, phaseDotfiles) {
				if err := m.dotfilesStep(ctx, ws, c.ID, henv, await, p); err != nil {
					return err
				}
			}
			continue
		}
		if len(merged.Hooks(phase)) > 0 {
			// Hooks may use git: the channel must work first.
			await()
		}
		if err := m.runPhase(ctx, ws, merged, phase, henv, p); err != nil {
			return err
		}
		if once {
			if err := m.updateMarker(ws.Name, func(mk *marker) {
				if mk.Container != c.ID {
					mk.Container, mk.Done = c.ID, nil
				}
				mk.Done = append(mk.Done, phase)
			}); err != nil {
				return err
			}
		}
		if phase == devcontainer.PhasePostCreate && !mk.done(c.ID, phaseDotfiles) {
			if err := m.dotfilesStep(ctx, ws, c.ID, henv, await, p); err != nil {
				return err
			}
		}
		if phase == waitFor && len(merged.Hooks(phase)) > 0 && phase != devcontainer.PhasePostAttach {
			p.Output("the workspace is usable now (waitFor " + waitFor + "); the remaining setup commands follow")
		}
	}
	if setup {
		await()
	}
	return nil
}

// phaseDotfiles marks, among a container's finished setup phases, that
// the dotfiles were installed (or failed, which is reported and final).
const phaseDotfiles = "dotfiles"

// dotfilesStep installs the dotfiles after postCreateCommand, as the Dev
// Containers CLI does, and records that it did.
func (m *Manager) dotfilesStep(ctx context.Context, ws *Workspace, id string, env []string, await func(), p Progress) error {
	m.setupDotfiles(ctx, ws, env, await, p)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return m.updateMarker(ws.Name, func(mk *marker) {
		if mk.Container == id {
			mk.Done = append(mk.Done, phaseDotfiles)
		}
	})
}
