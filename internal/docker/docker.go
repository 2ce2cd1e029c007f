// Package docker is Pitlane's only door to a Docker Engine: image builds,
// containers, exec, file copies and events, expressed in Pitlane's terms.
package docker

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/pitlane/pitlane/internal/runtime"
)

// Client talks to one Docker Engine.
type Client struct {
	api *client.Client
	// host is the engine's address as the user gave it (an ssh:// URL,
	// where the API client only knows a placeholder).
	host string
}

// The runtime's errors, under this package's names. ErrUnreachable names
// Docker in its message and matches runtime.ErrUnreachable.
var (
	ErrUnreachable error = unreachableError{}
	ErrConflict          = runtime.ErrConflict
	ErrNotFound          = runtime.ErrNotFound
)

type unreachableError struct{}

func (unreachableError) Error() string        { return "cannot reach the Docker engine" }
func (unreachableError) Is(target error) bool { return target == runtime.ErrUnreachable }

// The runtime's types, under this package's names: the Docker runtime
// speaks the engine's neutral vocabulary.
type (
	Container     = runtime.Container
	ContainerSpec = runtime.ContainerSpec
	Mount         = runtime.Mount
	ExecSpec      = runtime.ExecSpec
	ImageConfig   = runtime.ImageConfig
	BuildSpec     = runtime.BuildSpec
	Event         = runtime.Event
)

// New connects to the engine named by DOCKER_HOST (ssh:// included), or
// else by the current Docker context, or else the local socket,
// negotiating the API version, and checks that it answers.
func New(ctx context.Context) (*Client, error) {
	host, opts, err := engineOptions()
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", ErrUnreachable, host, err)
	}
	return connect(ctx, host, opts)
}

func unreachable(host string, err error) error {
	how := "start it (for example `sudo systemctl start docker`, or `sudo dockerd &`)"
	if os.Getenv("DOCKER_HOST") != "" {
		how = "check DOCKER_HOST and that the engine it names is running"
	}
	return fmt.Errorf("%w at %s: is it running? %s (%v)", ErrUnreachable, host, how, err)
}

// Close releases the client's connections.
func (c *Client) Close() error { return c.api.Close() }

// Host is the engine address the client talks to.
func (c *Client) Host() string {
	if c.host != "" {
		return c.host
	}
	return c.api.DaemonHost()
}

// wrap turns engine errors into this package's sentinels.
func wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	case cerrdefs.IsConflict(err):
		return fmt.Errorf("%w: %v", ErrConflict, err)
	case client.IsErrConnectionFailed(err):
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	return err
}

// List returns the containers (running or not) carrying all of the given
// labels (key=value, or key alone for any value).
func (c *Client) List(ctx context.Context, labels ...string) ([]Container, error) {
	f := filters.NewArgs()
	for _, l := range labels {
		f.Add("label", l)
	}
	sums, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, wrap(err)
	}
	out := make([]Container, 0, len(sums))
	for _, s := range sums {
		name := ""
		if len(s.Names) > 0 {
			name = trimSlash(s.Names[0])
		}
		out = append(out, Container{
			ID: s.ID, Name: name, Image: s.Image, Labels: s.Labels,
			Running: s.State == "running", Status: string(s.State),
			Created: time.Unix(s.Created, 0), ImageID: s.ImageID,
		})
	}
	return out, nil
}

// Inspect returns one container by name or ID.
func (c *Client) Inspect(ctx context.Context, nameOrID string) (*Container, error) {
	j, err := c.api.ContainerInspect(ctx, nameOrID)
	if err != nil {
		return nil, wrap(err)
	}
	created, _ := time.Parse(time.RFC3339Nano, j.Created)
	ct := &Container{ID: j.ID, Name: trimSlash(j.Name), Image: j.Config.Image, Labels: j.Config.Labels, Created: created, Env: j.Config.Env, ImageID: j.Image}
	if j.State != nil {
		ct.Running = j.State.Running
		ct.Status = string(j.State.Status)
	}
	return ct, nil
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}

// Start starts a container; starting a running one is not an error.
func (c *Client) Start(ctx context.Context, id string) error {
	return wrap(c.api.ContainerStart(ctx, id, container.StartOptions{}))
}

// Stop stops a container, killing it after timeout.
func (c *Client) Stop(ctx context.Context, id string, timeout time.Duration) error {
	secs := int(timeout.Seconds())
	return wrap(c.api.ContainerStop(ctx, id, container.StopOptions{Timeout: &secs}))
}

// Rename gives a container a new name.
func (c *Client) Rename(ctx context.Context, id, name string) error {
	return wrap(c.api.ContainerRename(ctx, id, name))
}

// Remove deletes a container and its anonymous volumes, stopping it first.
// A removal already under way (started by a process that died) is waited
// for.
func (c *Client) Remove(ctx context.Context, id string) error {
	err := c.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if cerrdefs.IsConflict(err) && strings.Contains(err.Error(), "already in progress") {
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
			if _, ierr := c.api.ContainerInspect(ctx, id); cerrdefs.IsNotFound(ierr) {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return wrap(err)
}

// Resources reports the engine's CPU count and memory in bytes.
func (c *Client) Resources(ctx context.Context) (int, int64, error) {
	info, err := c.api.Info(ctx)
	if err != nil {
		return 0, 0, wrap(err)
	}
	return info.NCPU, info.MemTotal, nil
}
