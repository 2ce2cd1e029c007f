package docker

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
)

// Mount is a bind mount or volume mount of a container.
type Mount struct {
	// Type is "bind" or "volume".
	Type     string
	Source   string
	Target   string
	ReadOnly bool
}

// ContainerSpec is everything Pitlane sets on a container it creates.
type ContainerSpec struct {
	Name       string
	Image      string
	Env        []string
	Labels     map[string]string
	Entrypoint []string
	Cmd        []string
	User       string
	WorkingDir string
	Mounts     []Mount
}

// Create creates (but does not start) a container. A name already in use
// gives an error matching ErrConflict.
func (c *Client) Create(ctx context.Context, spec ContainerSpec) (string, error) {
	cfg := &container.Config{
		Image:      spec.Image,
		Env:        spec.Env,
		Labels:     spec.Labels,
		Entrypoint: spec.Entrypoint,
		Cmd:        spec.Cmd,
		User:       spec.User,
		WorkingDir: spec.WorkingDir,
	}
	host := &container.HostConfig{}
	for _, m := range spec.Mounts {
		t := mount.TypeBind
		if m.Type == "volume" {
			t = mount.TypeVolume
		}
		host.Mounts = append(host.Mounts, mount.Mount{Type: t, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	resp, err := c.api.ContainerCreate(ctx, cfg, host, nil, nil, spec.Name)
	if err != nil {
		return "", fmt.Errorf("creating container %s: %w", spec.Name, wrap(err))
	}
	return resp.ID, nil
}
