package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newStartCommand) }

func newStartCommand(a *app) *cobra.Command {
	return newWorkspaceOpCommand(a, &cobra.Command{
		Use:   "start NAME",
		Short: "Start a stopped workspace (runs its postStartCommand)",
	}, "is", func(ctx context.Context, m *workspace.Manager, name string, p workspace.Progress) (*workspace.Workspace, error) {
		return m.Start(ctx, name, p)
	})
}
