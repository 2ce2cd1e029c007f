package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newStopCommand) }

func newStopCommand(a *app) *cobra.Command {
	return &cobra.Command{
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
			fmt.Fprintf(a.stdout, "Workspace %s is %s.\n", ws.Name, ws.State)
			return nil
		},
	}
}
