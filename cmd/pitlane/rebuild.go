package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newRebuildCommand) }

func newRebuildCommand(a *app) *cobra.Command {
	return newWorkspaceOpCommand(a, &cobra.Command{
		Use:   "rebuild NAME",
		Short: "Recreate a workspace's container from its current configuration",
		Long: `Rebuild replaces a workspace's container with a new one built from the
current devcontainer.json or Dockerfile, and runs the setup hooks again.
The source (and a clone's uncommitted work) is kept. If the new container
cannot be made, the old one is put back as it was.`,
	}, "rebuilt and", true, func(ctx context.Context, m *workspace.Manager, name string, p workspace.Progress, consent workspace.Consent) (*workspace.Workspace, error) {
		return m.Rebuild(ctx, name, workspace.RebuildOptions{Progress: p, Consent: consent})
	})
}
