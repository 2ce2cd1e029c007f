package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newStopCommand) }

func newStopCommand(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stop NAME",
		Short: "Stop a workspace's container (its files are kept)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := a.manager(cmd.Context())
			if err != nil {
				return err
			}
			ws, err := m.Stop(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(ws)
			}
			fmt.Fprintf(a.stdout, "Workspace %s is %s.\n", ws.Name, ws.State)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the workspace as JSON on stdout")
	return cmd
}
