package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/ports"
)

func init() { commands = append(commands, newForwardCommand) }

func newForwardCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "forward NAME [PORT[:LOCAL]...]",
		Short: "Forward workspace ports to 127.0.0.1 until interrupted",
		Long: `Forward ports of a workspace to this machine's 127.0.0.1 over SSH, until
Ctrl-C. Without ports, the forwardPorts of the workspace's devcontainer.json
are forwarded. PORT:LOCAL listens on LOCAL instead of PORT. A local port that
is already in use is reported and skipped.`,
		Example: `  pitlane forward api            # the config's forwardPorts
  pitlane forward api 3000 5432:15432`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runForward(cmd.Context(), a, args[0], args[1:])
		},
	}
}

type portPair struct{ remote, local int }

func parsePorts(specs []string) ([]portPair, error) {
	var out []portPair
	for _, s := range specs {
		r, l, hasLocal := strings.Cut(s, ":")
		rp, err := strconv.Atoi(r)
		if err != nil || rp < 1 || rp > 65535 {
			return nil, fmt.Errorf("%q is not a port: use PORT or PORT:LOCAL, for example 3000 or 3000:13000", s)
		}
		lp := rp
		if hasLocal {
			if lp, err = strconv.Atoi(l); err != nil || lp < 1 || lp > 65535 {
				return nil, fmt.Errorf("%q: %q is not a local port", s, l)
			}
		}
		out = append(out, portPair{rp, lp})
	}
	return out, nil
}

func runForward(ctx context.Context, a *app, name string, specs []string) error {
	name = workspaceName(name)
	pairs, err := parsePorts(specs)
	if err != nil {
		return err
	}
	_, ws, err := a.workspace(ctx, name)
	if err != nil {
		return err
	}
	if len(pairs) == 0 {
		for _, p := range ws.Ports {
			pairs = append(pairs, portPair{p, p})
		}
	}
	if len(pairs) == 0 {
		return fmt.Errorf("workspace %s has no forwardPorts in its configuration; name the ports: pitlane forward %s 3000", name, name)
	}

	var listeners []net.Listener
	var active []portPair
	for _, p := range pairs {
		l, _, err := ports.Listen(p.local, false)
		if err != nil {
			fmt.Fprintf(a.stderr, "pitlane: local port %d is busy, so port %d is not forwarded (choose another local port: %d:LOCAL)\n", p.local, p.remote, p.remote)
			continue
		}
		listeners = append(listeners, l)
		active = append(active, p)
	}
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	if len(listeners) == 0 {
		return errors.New("no port could be forwarded: every local port is busy")
	}

	client, err := dialWorkspace(ctx, a, name)
	if err != nil {
		return err
	}
	defer client.Close()
	for i, l := range listeners {
		p := active[i]
		fmt.Fprintf(a.stdout, "Forwarding 127.0.0.1:%d -> %s port %d\n", p.local, name, p.remote)
		fwd := ports.NewForward(l, func(context.Context) (net.Conn, error) {
			return client.Dial("tcp", net.JoinHostPort("localhost", strconv.Itoa(p.remote)))
		}, func(err error) {
			fmt.Fprintf(a.stderr, "pitlane: nothing answers on port %d in %s: %v\n", p.remote, name, err)
		})
		defer fwd.Close()
	}
	fmt.Fprintln(a.stdout, "Press Ctrl-C to stop.")

	lost := make(chan error, 1)
	go func() { lost <- client.Wait() }()
	select {
	case <-ctx.Done():
		return nil
	case err := <-lost:
		return fmt.Errorf("the connection to workspace %s ended (%v); run pitlane forward again", name, err)
	}
}
