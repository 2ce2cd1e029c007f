package workspace

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/runtime"
)

// buildFeatures builds tag from base with the features installed, in
// order, and records their metadata in the image's devcontainer.metadata
// label after the base image's own.
func (m *Manager) buildFeatures(ctx context.Context, name, base string, img *runtime.ImageConfig, cfg *devcontainer.Config, fs []*devcontainer.Feature, tag string, p Progress) error {
	p.Step("Installing features")
	dir, err := os.MkdirTemp("", "pitlane-features-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fb := &devcontainer.FeatureBuild{
		Base: base, ImageUser: firstNonEmpty(img.User, "root"),
		RemoteUser:    firstNonEmpty(cfg.RemoteUser, cfg.ContainerUser, img.User, "root"),
		ContainerUser: firstNonEmpty(cfg.ContainerUser, img.User, "root"),
		Features:      fs,
	}
	if err := fb.WriteContext(dir); err != nil {
		return err
	}
	meta, _ := devcontainer.ParseMetadata(img.Labels[devcontainer.MetadataLabel])
	for _, f := range fs {
		meta = append(meta, devcontainer.MetadataEntry(f.Meta))
	}
	label, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	err = m.rt.Build(ctx, runtime.BuildSpec{
		Context: dir, Dockerfile: "Dockerfile", Tag: tag,
		Labels: map[string]string{LabelWorkspace: name, LabelInstance: m.opts.Instance, devcontainer.MetadataLabel: string(label)},
	}, p.Output)
	if err != nil {
		return fmt.Errorf("installing features: %w", m.engineErr(err))
	}
	return nil
}

// hostIDs is the uid and gid of the user running Pitlane.
func (m *Manager) hostIDs() (int, int) {
	if m.opts.HostIDs != nil {
		return m.opts.HostIDs()
	}
	return os.Getuid(), os.Getgid()
}

// wantUIDUpdate says whether the remote user's uid and gid must change to
// the host user's: on Linux, unless the config turns it off, the host user
// is root, or the remote user is root.
func (m *Manager) wantUIDUpdate(cfg *devcontainer.Config, remoteUser string) (uid, gid int, ok bool) {
	if cfg.UpdateRemoteUserUID != nil && !*cfg.UpdateRemoteUserUID {
		return 0, 0, false
	}
	if goruntime.GOOS != "linux" && m.opts.HostIDs == nil {
		return 0, 0, false
	}
	uid, gid = m.hostIDs()
	if uid <= 0 || remoteUser == "root" || remoteUser == "0" {
		return 0, 0, false
	}
	return uid, gid, true
}

// buildUIDUpdate builds tag from base with user's uid and gid changed.
func (m *Manager) buildUIDUpdate(ctx context.Context, name, base, imageUser, user string, uid, gid int, tag string, p Progress) error {
	p.Step(fmt.Sprintf("Giving %s the uid %d of your user", user, uid))
	dir, err := os.MkdirTemp("", "pitlane-uid-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(devcontainer.UpdateUIDDockerfile), 0o644); err != nil {
		return err
	}
	err = m.rt.Build(ctx, runtime.BuildSpec{
		Context: dir, Dockerfile: "Dockerfile", Tag: tag,
		Args: map[string]string{
			"BASE": base, "REMOTE_USER": user, "NEW_UID": strconv.Itoa(uid), "NEW_GID": strconv.Itoa(gid),
			"IMAGE_USER": firstNonEmpty(imageUser, "root"),
		},
		Labels: map[string]string{LabelWorkspace: name, LabelInstance: m.opts.Instance},
	}, p.Output)
	if err != nil {
		return fmt.Errorf("updating the uid of %s: %w", user, m.engineErr(err))
	}
	return nil
}

// hostInfo is implemented by engines that report their resources.
type hostInfo interface {
	Resources(ctx context.Context) (cpus int, memory int64, err error)
}

// hostWarnings compares hostRequirements with what the engine has.
func (m *Manager) hostWarnings(ctx context.Context, req *devcontainer.HostRequirements) []string {
	if req == nil {
		return nil
	}
	hi, ok := m.rt.(hostInfo)
	if !ok {
		return nil
	}
	cpus, mem, err := hi.Resources(ctx)
	if err != nil {
		return nil
	}
	var out []string
	if req.CPUs > 0 && cpus > 0 && cpus < req.CPUs {
		out = append(out, fmt.Sprintf("hostRequirements asks for %d CPUs; the Docker engine has %d", req.CPUs, cpus))
	}
	if need := devcontainer.Bytes(req.Memory); need > 0 && mem > 0 && mem < need {
		out = append(out, fmt.Sprintf("hostRequirements asks for %s of memory; the Docker engine has %.1f GiB", req.Memory, float64(mem)/(1<<30)))
	}
	return out
}
