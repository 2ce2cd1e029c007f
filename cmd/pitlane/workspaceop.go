package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/workspace"
)

// workspaceOp changes one workspace, reporting its steps to p and asking
// consent when its configuration wants host access.
type workspaceOp func(ctx context.Context, m *workspace.Manager, name string, p workspace.Progress, consent workspace.Consent) (*workspace.Workspace, error)

// newWorkspaceOpCommand builds a verb that changes one workspace (start,
// stop, rebuild): it shows the steps, then prints the workspace as
// "Workspace NAME <done> <state>." or, with --json, as JSON. With
// withTrust the verb takes --trust.
func newWorkspaceOpCommand(a *app, cmd *cobra.Command, done string, withTrust bool, op workspaceOp) *cobra.Command {
	var asJSON, trust bool
	cmd.Args = cobra.ExactArgs(1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		m, err := a.managerFor(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		p := newStepPrinter(a.stderr, false)
		ws, err := op(cmd.Context(), m, args[0], p, a.consent(trust))
		if err != nil {
			p.Fail()
			return err
		}
		if asJSON {
			return a.printJSON(ws)
		}
		fmt.Fprintf(a.stdout, "Workspace %s %s %s.\n", ws.Name, done, ws.State)
		return nil
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the workspace as JSON on stdout")
	if withTrust {
		cmd.Flags().BoolVar(&trust, "trust", false, "trust the configuration's requests for host access (initializeCommand, privileged, host mounts, ...) without asking")
	}
	return cmd
}
