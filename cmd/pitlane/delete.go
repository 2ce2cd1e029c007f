package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newDeleteCommand) }

func newDeleteCommand(a *app) *cobra.Command {
	var force, discard, volumes bool
	cmd := &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a workspace: its container and Pitlane's data for it",
		Long: `Delete a workspace: its container, the image layer Pitlane built for it
alone, and Pitlane's data for it (a cloned repository, logs). A local source
folder is never touched. The image in Pitlane's cache stays for the next
create (pitlane images prune removes unused ones). Asks for confirmation
unless --force is given.

A clone that holds work found nowhere else (uncommitted changes, untracked
files, stashes, commits on no remote) is never deleted silently: the question
lists that work, and with --force the delete refuses unless
--discard-changes is given too. This holds even when the container is gone.

A Compose workspace's project goes: its containers and networks. Its named
volumes are kept (and listed) unless --volumes is given.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			ctx := cmd.Context()
			m, err := a.manager(ctx)
			if err != nil {
				return err
			}
			uw, err := m.UnsavedWork(ctx, name)
			if err != nil {
				return err
			}
			ws, gerr := m.Get(ctx, name)
			if !force {
				what := "its container"
				switch {
				case gerr != nil:
					what = "what is left of it (its container is gone)"
				case !ws.Source.Local:
					what += " and its clone of " + ws.Source.URL
				}
				q := fmt.Sprintf("Delete workspace %s, %s?", name, what)
				if uw != nil {
					q = fmt.Sprintf("%s\n\nThis loses work found nowhere else. Delete anyway?", uw.Error())
				}
				ok, err := confirm(a, q)
				if err != nil {
					return err
				}
				if !ok {
					fmt.Fprintln(a.stderr, "Nothing deleted.")
					return nil
				}
				discard = discard || uw != nil
			}
			if err := m.Delete(ctx, name, workspace.DeleteOptions{
				DiscardChanges: discard, Volumes: volumes,
				Output: func(line string) { fmt.Fprintln(a.stderr, line) },
			}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Workspace %s deleted.\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&discard, "discard-changes", false, "also delete a clone that holds uncommitted or unpushed work")
	cmd.Flags().BoolVar(&volumes, "volumes", false, "also remove a Compose workspace's named volumes")
	return cmd
}

// confirm asks a yes/no question on the terminal; without a terminal it
// refuses, so scripts must say --force.
func confirm(a *app, question string) (bool, error) {
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, fmt.Errorf("%s: no terminal to ask on; pass --force to confirm", question)
	}
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(f).ReadString('\n')
	ans := strings.ToLower(strings.TrimSpace(line))
	return ans == "y" || ans == "yes", nil
}
