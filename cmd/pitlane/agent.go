package main

import (
	"errors"
	"os"

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
	root.AddCommand(sshCmd, installCmd, relayCmd, gitCredCmd)
	return root
}
