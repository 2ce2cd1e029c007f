package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newRebuildCommand) }

func newRebuildCommand(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rebuild NAME",
		Short: "Recreate a workspace's container from its current configuration",
		Long: `Rebuild replaces a workspace's container with a new one built from the
current devcontainer.json or Dockerfile, and runs the setup hooks again.
The source (and a clone's uncommitted work) is kept. If the new container
cannot be made, the old one is put back as it was.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := a.manager(cmd.Context())
			if err != nil {
				return err
			}
			p := newStepPrinter(a.stderr, false)
			ws, err := m.Rebuild(cmd.Context(), args[0], p)
			if err != nil {
				p.Fail()
				return err
			}
			if asJSON {
				return a.printJSON(ws)
			}
			fmt.Fprintf(a.stdout, "Workspace %s rebuilt and %s.\n", ws.Name, ws.State)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the workspace as JSON on stdout")
	return cmd
}
