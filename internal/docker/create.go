package docker

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
)

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
	host := &container.HostConfig{
		Privileged:  spec.Privileged,
		CapAdd:      spec.CapAdd,
		SecurityOpt: spec.SecurityOpt,
		NetworkMode: container.NetworkMode(spec.NetworkMode),
		ExtraHosts:  spec.ExtraHosts,
		ShmSize:     spec.ShmSize,
	}
	if spec.Init {
		init := true
		host.Init = &init
	}
	for _, d := range spec.Devices {
		parts := strings.SplitN(d, ":", 3)
		dm := container.DeviceMapping{PathOnHost: parts[0], PathInContainer: parts[0], CgroupPermissions: "rwm"}
		if len(parts) > 1 && parts[1] != "" {
			dm.PathInContainer = parts[1]
		}
		if len(parts) > 2 {
			dm.CgroupPermissions = parts[2]
		}
		host.Devices = append(host.Devices, dm)
	}
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
