package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newStartCommand) }

func newStartCommand(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "start NAME",
		Short: "Start a stopped workspace (runs its postStartCommand)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := a.manager(cmd.Context())
			if err != nil {
				return err
			}
			p := newStepPrinter(a.stderr, false)
			ws, err := m.Start(cmd.Context(), args[0], p)
			if err != nil {
				p.Fail()
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
