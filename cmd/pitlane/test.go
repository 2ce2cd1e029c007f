package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/detect"
	"github.com/pitlane/pitlane/internal/devcontainer/generate"
	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newTestCommand) }

func newTestCommand(a *app) *cobra.Command {
	var printOnly bool
	cmd := &cobra.Command{
		Use:   "test NAME",
		Short: "Run the project's tests inside a workspace",
		Long: `Run the workspace's test command inside it, as the remote user, in the
workspace folder. The command is the config's customizations.pitlane.test
when it names one (generated configs do), otherwise the one detected in the
repository: a Makefile's test target, package.json's test script, tox or nox,
the CI workflow's, or the language's default (go test ./..., cargo test,
pytest, ...). Its exit status becomes pitlane's.`,
		Example: `  pitlane test app
  pitlane test app --print`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			m, ws, err := a.workspace(ctx, args[0])
			if err != nil {
				return err
			}
			run, from, err := testCommand(cmd, m, ws)
			if err != nil {
				return err
			}
			if printOnly {
				fmt.Fprintln(a.stdout, run)
				return nil
			}
			fmt.Fprintf(a.stderr, "==> %s (from %s)\n", run, from)
			code, err := m.Exec(ctx, ws.Name, workspace.ExecOptions{Cmd: []string{"/bin/sh", "-c", run}, Stdout: a.stdout, Stderr: a.stderr})
			if err != nil {
				return err
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&printOnly, "print", false, "print the test command instead of running it")
	return cmd
}

// testCommand is the workspace's configured test command, or the one
// detected in its source.
func testCommand(cmd *cobra.Command, m *workspace.Manager, ws *workspace.Workspace) (run, from string, err error) {
	cfg, err := m.DevcontainerConfig(cmd.Context(), ws.Name)
	if err == nil {
		if t := generate.Customizations(cfg).Test; t != "" {
			return t, "the config's customizations.pitlane.test", nil
		}
	}
	rep, err := detect.Dir(ws.LocalFolder)
	if err != nil {
		return "", "", err
	}
	run, ev, ok := rep.TestCommand()
	if !ok {
		return "", "", fmt.Errorf("no test command found in %s: name one in the devcontainer.json as customizations.pitlane.test, or run it with `pitlane exec %s -- CMD`", ws.LocalFolder, ws.Name)
	}
	var evs []string
	for _, e := range ev {
		evs = append(evs, e.String())
	}
	return run, strings.Join(evs, "; "), nil
}
