package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	archive "github.com/moby/go-archive"

	"github.com/pitlane/pitlane/internal/runtime"
)

// The image cache's types, under this package's names.
type (
	Image      = runtime.Image
	CommitSpec = runtime.CommitSpec
)

// Images lists the images carrying all of the given labels (key=value,
// or key alone for any value), untagged ones included.
func (c *Client) Images(ctx context.Context, labels ...string) ([]Image, error) {
	f := filters.NewArgs()
	for _, l := range labels {
		f.Add("label", l)
	}
	sums, err := c.api.ImageList(ctx, image.ListOptions{Filters: f})
	if err != nil {
		return nil, wrap(err)
	}
	out := make([]Image, 0, len(sums))
	for _, s := range sums {
		img := Image{ID: s.ID, Size: s.Size, Created: time.Unix(s.Created, 0), Labels: s.Labels}
		for _, t := range s.RepoTags {
			if t != "<none>:<none>" {
				img.Tags = append(img.Tags, t)
			}
		}
		out = append(out, img)
	}
	return out, nil
}

// Commit makes an image of a container's file system (its volumes and
// bind mounts excluded), with the configuration of spec.ConfigFrom and
// spec.Labels, and returns its ID.
func (c *Client) Commit(ctx context.Context, id string, spec CommitSpec) (string, error) {
	from, err := c.api.ImageInspect(ctx, spec.ConfigFrom)
	if err != nil {
		return "", fmt.Errorf("reading the configuration of %s: %w", spec.ConfigFrom, wrap(err))
	}
	// The engine fills what this configuration leaves empty from the
	// container's: the container must not have overridden an empty
	// entrypoint (see runtime.CommitSpec).
	cfg := &container.Config{Labels: spec.Labels}
	if fc := from.Config; fc != nil {
		cfg.Env, cfg.User, cfg.WorkingDir = fc.Env, fc.User, fc.WorkingDir
		cfg.Entrypoint, cfg.Cmd = fc.Entrypoint, fc.Cmd
	}
	resp, err := c.api.ContainerCommit(ctx, id, container.CommitOptions{
		Reference: spec.Tag, Config: cfg, Pause: true,
		Comment: "prebuilt by pitlane",
	})
	if err != nil {
		return "", fmt.Errorf("saving the container as an image: %w", wrap(err))
	}
	return resp.ID, nil
}

// CopyDir copies the contents of the host folder src into the folder dst
// of a container (which must exist), owned by uid:gid.
func (c *Client) CopyDir(ctx context.Context, id, dst, src string, uid, gid int) error {
	tar, err := archive.TarWithOptions(src, &archive.TarOptions{ChownOpts: &archive.ChownOpts{UID: uid, GID: gid}})
	if err != nil {
		return fmt.Errorf("packing %s: %w", src, err)
	}
	defer tar.Close()
	if err := c.api.CopyToContainer(ctx, id, dst, tar, container.CopyToContainerOptions{}); err != nil {
		return fmt.Errorf("copying %s into the container: %w", src, wrap(err))
	}
	return nil
}
