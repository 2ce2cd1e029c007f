package workspace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/source"
)

// ResolvedConfig is what Create would do with a source, worked out without
// creating anything.
type ResolvedConfig struct {
	Kind ConfigKind `json:"kind"`
	// ConfigPath is the devcontainer.json used, relative to the source.
	ConfigPath string `json:"configPath,omitempty"`
	// Candidates are all the devcontainer.json files of the source.
	Candidates  []string `json:"candidates,omitempty"`
	LocalFolder string   `json:"localFolder"`
	Folder      string   `json:"folder"`
	Image       string   `json:"image,omitempty"`
	// ImageKnown is false when the image must be built first, so its
	// metadata (and user) is not part of Config yet.
	ImageKnown bool   `json:"imageKnown"`
	RemoteUser string `json:"remoteUser,omitempty"`
	// Features are the features in the order they install.
	Features []string `json:"features,omitempty"`
	// Config is the substituted and merged configuration.
	// ${containerEnv:...} stays as written until a container exists.
	Config   *devcontainer.Config `json:"configuration"`
	Warnings []string             `json:"warnings,omitempty"`
}

// ResolveConfig reads a source's configuration the way Create would and
// returns it substituted and merged with the image's metadata (when the
// image is already present) and the features' metadata. Git sources are
// cloned into a temporary folder for this.
func (m *Manager) ResolveConfig(ctx context.Context, src, configPath string) (*ResolvedConfig, error) {
	var local string
	if source.IsGitURL(src) {
		tmp, err := os.MkdirTemp("", "pitlane-config-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		local = filepath.Join(tmp, source.BaseName(src))
		if err := source.Clone(ctx, src, "", local, func(string) {}); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSourceInvalid, err)
		}
	} else {
		var err error
		if local, err = source.LocalFolder(src); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSourceInvalid, err)
		}
	}
	var warnings []string
	rec := progressFunc(func(line string) { warnings = append(warnings, line) })
	genDir, err := os.MkdirTemp("", "pitlane-generated-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(genDir)
	pl, err := m.readConfig(local, configPath, genDir, rec)
	if err != nil {
		return nil, err
	}
	r, err := m.resolve(ctx, source.BaseName(src), local, pl, func(line string) {
		if strings.HasPrefix(line, "warning:") {
			warnings = append(warnings, line)
		}
	})
	if err != nil {
		return nil, configErr(pl, err)
	}
	out := &ResolvedConfig{Kind: pl.kind, ConfigPath: pl.configPath, LocalFolder: local, Folder: r.folder, Image: r.cfg.Image}
	out.Candidates, _ = devcontainer.Find(local)
	var metadata []*devcontainer.Config
	imageUser := ""
	if pl.build == nil && r.cfg.Image != "" {
		if ok, err := m.rt.ImageExists(ctx, r.cfg.Image); err == nil && ok {
			if img, err := m.rt.InspectImage(ctx, r.cfg.Image); err == nil {
				out.ImageKnown, imageUser = true, img.User
				if metadata, err = devcontainer.ParseMetadata(img.Labels[devcontainer.MetadataLabel]); err != nil {
					warnings = append(warnings, "ignoring the image's metadata: "+err.Error())
					metadata = nil
				}
			}
		} else {
			warnings = append(warnings, "the image "+r.cfg.Image+" is not present yet: its metadata is not merged")
		}
	} else if pl.build != nil {
		warnings = append(warnings, "the image is built from a Dockerfile: its metadata is merged only when it exists")
	}
	for _, f := range r.features {
		out.Features = append(out.Features, f.Ref)
		metadata = append(metadata, devcontainer.MetadataEntry(f.Meta))
	}
	out.Config = devcontainer.Merge(r.cfg, metadata)
	out.RemoteUser = firstNonEmpty(out.Config.RemoteUser, out.Config.ContainerUser, imageUser)
	if out.RemoteUser == "" && out.ImageKnown {
		out.RemoteUser = "root"
	}
	warnings = append(warnings, m.hostWarnings(ctx, out.Config.HostRequirements)...)
	out.Warnings = warnings
	return out, nil
}

// progressFunc is a Progress that keeps output lines only.
type progressFunc func(string)

func (f progressFunc) Step(string)        {}
func (f progressFunc) Output(line string) { f(line) }
