package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newExecCommand) }

func newExecCommand(a *app) *cobra.Command {
	var tty bool
	var env []string
	cmd := &cobra.Command{
		Use:   "exec NAME -- CMD [ARG...]",
		Short: "Run a command in a workspace, as its user, in its folder",
		Long: `Run a command in a running workspace as the remote user, in the workspace
folder, with the remote environment. Its exit status becomes pitlane's.
git in the command gets your credentials for the workspace's own hosts
from this machine while it runs (see pitlane credentials).`,
		Example: `  pitlane exec app -- go test ./...
  pitlane exec -t app -- bash`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := a.managerFor(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			argv := args[1:]
			if argv[0] == "--" {
				argv = argv[1:]
			}
			if len(argv) == 0 {
				return fmt.Errorf("no command given: pitlane exec %s -- CMD [ARG...]", args[0])
			}
			opts := workspace.ExecOptions{Cmd: argv, Env: env, Tty: tty, Stdin: a.stdin, Stdout: a.stdout, Stderr: a.stderr, Forward: true}
			if tty {
				if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					old, err := term.MakeRaw(int(f.Fd()))
					if err == nil {
						defer term.Restore(int(f.Fd()), old)
					}
					opts.Resize = func(resize func(w, h uint) error) {
						if w, h, err := term.GetSize(int(f.Fd())); err == nil {
							resize(uint(w), uint(h))
						}
					}
				}
			}
			code, err := m.Exec(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&tty, "tty", "t", false, "allocate a terminal")
	cmd.Flags().StringArrayVarP(&env, "env", "e", nil, "set an environment variable (KEY=VALUE)")
	cmd.Flags().SetInterspersed(false)
	return cmd
}
