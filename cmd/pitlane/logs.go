package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newLogsCommand) }

func newLogsCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "logs NAME",
		Short: "Show a workspace's create, build and hook output",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := a.managerFor(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if _, err := m.Get(cmd.Context(), args[0]); err != nil {
				return err
			}
			f, err := os.Open(m.LogPath(args[0]))
			if os.IsNotExist(err) {
				return fmt.Errorf("no log kept for %s (it was created by another data folder or machine)", args[0])
			}
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(a.stdout, f)
			return err
		},
	}
}
