package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newStopCommand) }

func newStopCommand(a *app) *cobra.Command {
	return newWorkspaceOpCommand(a, &cobra.Command{
		Use:   "stop NAME",
		Short: "Stop a workspace's container (its files are kept)",
	}, "is", false, func(ctx context.Context, m *workspace.Manager, name string, _ workspace.Progress, _ workspace.Consent) (*workspace.Workspace, error) {
		return m.Stop(ctx, name)
	})
}
