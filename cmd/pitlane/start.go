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
		Long: `Start a stopped workspace and run its postStartCommand. A workspace whose
setup was interrupted (its create or rebuild was killed), or whose setup hook
failed, gets the rest of its setup first: the setup commands that have not
finished run again, as pitlane create would have run them.

initializeCommand runs on this machine before the container starts; a
configuration asking for that needs your trust (see pitlane trust).`,
	}, "is", true, func(ctx context.Context, m *workspace.Manager, name string, p workspace.Progress, consent workspace.Consent) (*workspace.Workspace, error) {
		return m.Start(ctx, name, workspace.StartOptions{Progress: p, Consent: consent})
	})
}
