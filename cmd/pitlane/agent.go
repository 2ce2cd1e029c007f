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
	root.AddCommand(sshCmd, installCmd)
	return root
}
