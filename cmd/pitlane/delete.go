package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func init() { commands = append(commands, newDeleteCommand) }

func newDeleteCommand(a *app) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a workspace: its container, built image and Pitlane's data for it",
		Long: `Delete a workspace: its container, the image Pitlane built for it, and
Pitlane's data for it (a cloned repository, logs). A local source folder is
never touched. Asks for confirmation unless --force is given.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			m, err := a.manager(cmd.Context())
			if err != nil {
				return err
			}
			ws, err := m.Get(cmd.Context(), name)
			if err != nil {
				return err
			}
			if !force {
				what := "its container"
				if !ws.Source.Local {
					what += " and its clone of " + ws.Source.URL + " (with any uncommitted or unpushed work)"
				}
				ok, err := confirm(a, fmt.Sprintf("Delete workspace %s, %s?", name, what))
				if err != nil {
					return err
				}
				if !ok {
					fmt.Fprintln(a.stderr, "Nothing deleted.")
					return nil
				}
			}
			if err := m.Delete(cmd.Context(), name); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Workspace %s deleted.\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
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
