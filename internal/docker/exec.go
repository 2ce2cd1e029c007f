package docker

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// Exec runs a process in a container and returns its exit code once it
// ends and its output has been copied. Cancelling ctx abandons the process.
func (c *Client) Exec(ctx context.Context, id string, spec ExecSpec) (int, error) {
	created, err := c.api.ContainerExecCreate(ctx, id, container.ExecOptions{
		Cmd: spec.Cmd, User: spec.User, WorkingDir: spec.WorkingDir, Env: spec.Env, Tty: spec.Tty,
		AttachStdin: spec.Stdin != nil, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return -1, fmt.Errorf("starting %q: %w", spec.Cmd, wrap(err))
	}
	att, err := c.api.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: spec.Tty})
	if err != nil {
		return -1, fmt.Errorf("attaching to %q: %w", spec.Cmd, wrap(err))
	}
	defer att.Close()
	if spec.Resize != nil {
		spec.Resize(func(w, h uint) error {
			return c.api.ContainerExecResize(context.WithoutCancel(ctx), created.ID, container.ResizeOptions{Width: w, Height: h})
		})
	}

	stdout, stderr := spec.Stdout, spec.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	if spec.Stdin != nil {
		go func() {
			io.Copy(att.Conn, spec.Stdin)
			att.CloseWrite()
		}()
	}
	done := make(chan error, 1)
	go func() {
		var err error
		if spec.Tty {
			_, err = io.Copy(stdout, att.Reader)
		} else {
			_, err = stdcopy.StdCopy(stdout, stderr, att.Reader)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil && ctx.Err() == nil {
			return -1, fmt.Errorf("reading output of %q: %w", spec.Cmd, err)
		}
	case <-ctx.Done():
		return -1, ctx.Err()
	}
	if ctx.Err() != nil {
		return -1, ctx.Err()
	}
	ins, err := c.api.ContainerExecInspect(ctx, created.ID)
	if err != nil {
		return -1, wrap(err)
	}
	return ins.ExitCode, nil
}
