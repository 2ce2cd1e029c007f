package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/pitlane/pitlane/internal/runtime"
)

// Images is what the Kubernetes runtime needs of the local Docker engine:
// images are pulled, inspected and built there, and those built there are
// pushed to the provider's registry for the cluster to pull.
// internal/docker's Client implements it.
type Images interface {
	ImageExists(ctx context.Context, ref string) (bool, error)
	InspectImage(ctx context.Context, ref string) (*runtime.ImageConfig, error)
	RemoveImage(ctx context.Context, ref string) error
	Build(ctx context.Context, spec runtime.BuildSpec, out func(string)) error
	Pull(ctx context.Context, ref string, out func(string)) error
	ImagePusher
}

// Runtime is the place the engine drives for a Kubernetes provider:
// workspaces on the cluster (Client), images through the local Docker
// engine. It has every method of the engine's Runtime.
type Runtime struct {
	*Client
	images Images

	mu    sync.Mutex
	built map[string]bool // tags Build made in this process
}

// NewRuntime returns the runtime of a cluster client and a local image
// engine (nil: configs that need images inspected or built fail with a
// message that says so).
func NewRuntime(c *Client, images Images) *Runtime {
	return &Runtime{Client: c, images: images, built: map[string]bool{}}
}

var errNoLocalEngine = errors.New("the Kubernetes provider reads, builds and pushes images with the local Docker engine, and none answers: start it, or use a config whose image needs no building")

func (r *Runtime) local() (Images, error) {
	if r.images == nil {
		return nil, errNoLocalEngine
	}
	return r.images, nil
}

// ImageExists reports whether the local engine has the image (to read its
// configuration; the cluster pulls on its own).
func (r *Runtime) ImageExists(ctx context.Context, ref string) (bool, error) {
	im, err := r.local()
	if err != nil {
		return false, err
	}
	return im.ImageExists(ctx, ref)
}

// InspectImage reads an image's configuration from the local engine.
func (r *Runtime) InspectImage(ctx context.Context, ref string) (*runtime.ImageConfig, error) {
	im, err := r.local()
	if err != nil {
		return nil, err
	}
	return im.InspectImage(ctx, ref)
}

// RemoveImage removes a locally built image; what was pushed stays in the
// registry, whose own clean-up rules apply.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	if r.images == nil {
		return nil
	}
	return r.images.RemoveImage(ctx, ref)
}

// Pull fetches an image into the local engine, to read its configuration.
func (r *Runtime) Pull(ctx context.Context, ref string, out func(string)) error {
	im, err := r.local()
	if err != nil {
		return err
	}
	return im.Pull(ctx, ref, out)
}

// Build builds an image with the local engine; Create pushes it to the
// registry before a pod uses it. Without a registry it fails before
// building, saying what to do.
func (r *Runtime) Build(ctx context.Context, spec runtime.BuildSpec, out func(string)) error {
	if _, err := r.RegistryRef(spec.Tag, ""); err != nil {
		return err
	}
	im, err := r.local()
	if err != nil {
		return err
	}
	if err := im.Build(ctx, spec, out); err != nil {
		return err
	}
	r.mu.Lock()
	r.built[spec.Tag] = true
	r.mu.Unlock()
	return nil
}

// Create records a new workspace on the cluster. An image built by this
// runtime is pushed to the registry first, and the workspace runs it
// under its registry name.
func (r *Runtime) Create(ctx context.Context, spec runtime.ContainerSpec) (string, error) {
	r.mu.Lock()
	built := r.built[spec.Image]
	r.mu.Unlock()
	if built {
		cfg, err := r.images.InspectImage(ctx, spec.Image)
		if err != nil {
			return "", fmt.Errorf("reading the built image %s: %w", spec.Image, err)
		}
		ref, err := r.Publish(ctx, r.images, spec.Image, cfg.ID, func(string) {})
		if err != nil {
			return "", err
		}
		// The registry has it now; the local engine keeps only its own
		// name for it.
		_ = r.images.RemoveImage(ctx, ref)
		spec.Image = ref
	}
	return r.Client.Create(ctx, spec)
}

// ClonesSource reports that the runtime clones a spec's Source into the
// workspace folder itself (an init container does), so the engine need
// not.
func (r *Runtime) ClonesSource() bool { return true }
