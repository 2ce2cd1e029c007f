package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/agent"
)

func init() { commands = append(commands, newAgentCommand) }

// newAgentCommand is the side of Pitlane that runs inside a workspace
// container. Users never call it; `pitlane ssh --stdio` does.
func newAgentCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:    "agent",
		Short:  "Run inside a workspace container (used by pitlane ssh --stdio)",
		Hidden: true,
	}
	var stdio bool
	sshCmd := &cobra.Command{
		Use:   "ssh --stdio",
		Short: "Serve one SSH connection on standard input and output",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !stdio {
				return errors.New("the agent only serves SSH on standard input and output: pass --stdio")
			}
			return agent.Serve(os.Stdin, os.Stdout, a.stderr)
		},
	}
	sshCmd.Flags().BoolVar(&stdio, "stdio", false, "serve on standard input and output")
	installCmd := &cobra.Command{
		Use:   "install SHA256",
		Short: "Verify this staged binary against its checksum and install it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			return agent.Install(exe, args[0])
		},
	}
	relayCmd := &cobra.Command{
		Use:   "credential-relay SOCKET",
		Short: "Pass git credential questions from SOCKET to the host on standard input and output",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return agent.Relay(args[0], os.Stdin, os.Stdout)
		},
	}
	gitCredCmd := &cobra.Command{
		Use:   "git-credential get|store|erase",
		Short: "git's credential helper in a workspace: asks the host, stores nothing",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			agent.GitCredential(cmd.Context(), args[0], os.Stdin, os.Stdout, a.stderr)
			return nil
		},
	}
	var portsJSON bool
	portsCmd := &cobra.Command{
		Use:   "ports [--json]",
		Short: "List the TCP ports processes listen on in this container",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := agent.ListeningPorts()
			if err != nil {
				return err
			}
			if portsJSON {
				if ps == nil {
					ps = []int{}
				}
				return json.NewEncoder(a.stdout).Encode(map[string][]int{"ports": ps})
			}
			for _, p := range ps {
				fmt.Fprintln(a.stdout, p)
			}
			return nil
		},
	}
	portsCmd.Flags().BoolVar(&portsJSON, "json", false, `print {"ports": [...]}`)
	dialCmd := &cobra.Command{
		Use:   "dial PORT",
		Short: "Connect to PORT in this container and relay it on standard input and output",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			port, err := strconv.Atoi(args[0])
			if err != nil {
				return fmt.Errorf("%q is not a port", args[0])
			}
			return agent.Dial(cmd.Context(), port, os.Stdin, os.Stdout)
		},
	}
	root.AddCommand(sshCmd, installCmd, relayCmd, gitCredCmd, portsCmd, dialCmd)
	return root
}
