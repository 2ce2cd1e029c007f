package kube

import (
	"context"
	"fmt"
	"strings"
)

// ImagePusher is what publishing a locally built image needs from the
// local Docker engine; internal/docker's Client implements it.
type ImagePusher interface {
	Tag(ctx context.Context, src, dst string) error
	Push(ctx context.Context, ref string, out func(string)) error
}

// Registry is the registry that receives built images, "" without one.
func (c *Client) Registry() string { return strings.TrimRight(c.opts.ImageRegistry, "/") }

// RegistryRef is the name under the provider's registry of a locally
// built image: REGISTRY/REPOSITORY:TAG, where the tag is derived from the
// image's ID so that every build has a name of its own (a pod pulls a
// tag it has seen once only once). Without a registry the error matches
// ErrNoRegistry and says what to do.
func (c *Client) RegistryRef(local, imageID string) (string, error) {
	reg := c.Registry()
	if reg == "" {
		return "", fmt.Errorf("%w: this workspace's config builds an image (a Dockerfile or features), and the cluster can only run images it can pull; give the provider a registry it can pull from with `pitlane provider add NAME kubernetes --image-registry REGISTRY` (Pitlane builds with the local Docker engine and pushes there), or use a config that names an image", ErrNoRegistry)
	}
	repo := local
	if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
		repo = repo[:i]
	}
	repo = repo[strings.LastIndexByte(repo, '/')+1:]
	tag := strings.TrimPrefix(imageID, "sha256:")
	if len(tag) > 16 {
		tag = tag[:16]
	}
	if tag == "" {
		tag = "latest"
	}
	return reg + "/" + repo + ":" + tag, nil
}

// Publish gives a locally built image its name under the registry and
// pushes it there, reporting push progress to out; it returns the name
// pods use.
func (c *Client) Publish(ctx context.Context, p ImagePusher, local, imageID string, out func(string)) (string, error) {
	ref, err := c.RegistryRef(local, imageID)
	if err != nil {
		return "", err
	}
	if err := p.Tag(ctx, local, ref); err != nil {
		return "", fmt.Errorf("naming %s as %s: %w", local, ref, err)
	}
	if err := p.Push(ctx, ref, out); err != nil {
		return "", fmt.Errorf("pushing the workspace image to %s: %w", c.Registry(), err)
	}
	return ref, nil
}
