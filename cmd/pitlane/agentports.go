package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/pitlane/pitlane/internal/agent"
	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/ports"
	"github.com/pitlane/pitlane/internal/workspace"
)

// agentPorts reaches workspace ports through the agent, for the bridge.
func agentPorts(a *app) *ports.Agent {
	r := &agentRunner{a: a, installed: map[string]bool{}}
	return &ports.Agent{
		Config: func(ctx context.Context, name string) (*devcontainer.Config, error) {
			m, err := a.manager(ctx)
			if err != nil {
				return nil, err
			}
			return m.DevcontainerConfig(ctx, name)
		},
		Run: r.run,
	}
}

// agentRunner runs agent subcommands in workspaces, copying the agent in
// first when it is missing.
type agentRunner struct {
	a         *app
	mu        sync.Mutex
	installed map[string]bool // container id + agent checksum
}

func (r *agentRunner) run(ctx context.Context, name string, args []string, stdin io.Reader, stdout io.Writer) error {
	mgr, ws, err := r.a.workspace(ctx, name)
	if err != nil {
		return err
	}
	if ws.State != workspace.StateRunning {
		return fmt.Errorf("workspace %s is %s: start it first", name, ws.State)
	}
	bin, err := agentBinary()
	if err != nil {
		return err
	}
	sum, err := agentSum(bin)
	if err != nil {
		return err
	}
	key := ws.ContainerID + "/" + sum
	r.mu.Lock()
	installed := r.installed[key]
	r.mu.Unlock()
	if !installed && stdin != nil {
		// An attempt that finds no agent could lose input: make sure
		// it is there first.
		if err := r.run(ctx, name, []string{"ports"}, nil, io.Discard); err != nil {
			return err
		}
	}
	for attempt := 0; ; attempt++ {
		var errb bytes.Buffer
		code, err := mgr.Exec(ctx, name, workspace.ExecOptions{
			Cmd: append([]string{agent.Path(sum), "agent"}, args...), Dir: "/",
			Stdin: stdin, Stdout: stdout, Stderr: &errb, Bare: true,
		})
		if err != nil {
			return err
		}
		if (code == 126 || code == 127) && attempt == 0 && stdin == nil {
			if err := installAgent(ctx, mgr, ws, bin, sum, io.Discard); err != nil {
				return err
			}
			continue
		}
		if code != 0 {
			return fmt.Errorf("the Pitlane agent in workspace %s failed (exit status %d): %s", name, code, strings.TrimSpace(errb.String()))
		}
		r.mu.Lock()
		r.installed[key] = true
		r.mu.Unlock()
		return nil
	}
}
