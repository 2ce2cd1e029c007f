package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/pkg/jsonmessage"
	archive "github.com/moby/go-archive"

	"github.com/pitlane/pitlane/internal/runtime"
)

// The image cache's types, under this package's names.
type (
	Image      = runtime.Image
	CommitSpec = runtime.CommitSpec
)

// TagImage gives the image ref one more name, tag.
func (c *Client) TagImage(ctx context.Context, ref, tag string) error {
	if err := c.api.ImageTag(ctx, ref, tag); err != nil {
		return fmt.Errorf("tagging %s as %s: %w", ref, tag, wrap(err))
	}
	return nil
}

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

// Push sends an image to its registry with the user's Docker credentials
// for it, reporting progress lines to out.
func (c *Client) Push(ctx context.Context, ref string, out func(string)) error {
	var opts image.PushOptions
	var hosts []string
	sent := map[string]bool{}
	var lookup error
	if host, ok := registryOf(ref); ok {
		hosts = []string{host}
		ac, found, err := registryAuth(ctx, host)
		lookup = err
		if found {
			if opts.RegistryAuth, err = registry.EncodeAuthConfig(ac); err != nil {
				return err
			}
			sent[host] = true
		}
	}
	rc, err := c.api.ImagePush(ctx, ref, opts)
	if err != nil {
		return explainAuth(fmt.Errorf("pushing %s: %w", ref, wrap(err)), hosts, sent, lookup)
	}
	defer rc.Close()
	return explainAuth(readStatus(ctx, rc, "pushing "+ref, out), hosts, sent, lookup)
}

// readStatus reads a pull or push progress stream, sending each status
// line (not the progress bars) to out; an error in the stream is returned.
func readStatus(ctx context.Context, r io.Reader, what string, out func(string)) error {
	dec := json.NewDecoder(r)
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); err != nil {
			if err == io.EOF {
				return ctx.Err()
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		if msg.Error != nil {
			return fmt.Errorf("%s: %s", what, msg.Error.Message)
		}
		if msg.Status != "" && msg.Progress == nil {
			line := msg.Status
			if msg.ID != "" {
				line = msg.ID + ": " + line
			}
			out(line)
		}
	}
}
