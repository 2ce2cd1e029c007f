package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/logtail"
)

func init() { commands = append(commands, newLogsCommand) }

type logsOptions struct {
	follow bool
	tail   int
}

func newLogsCommand(a *app) *cobra.Command {
	var opts logsOptions
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Show a workspace's create, build and hook output",
		Long: `Show a workspace's log: what its create, rebuilds, starts and hooks printed.
With --follow, keep printing the lines written to it until Ctrl-C.`,
		Example: `  pitlane logs api
  pitlane logs -f --tail 20 api`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogs(cmd.Context(), a, args[0], opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.follow, "follow", "f", false, "keep printing new lines until interrupted")
	cmd.Flags().IntVarP(&opts.tail, "tail", "n", -1, "print only the last N lines (-1: all)")
	return cmd
}

// followInterval is how often `pitlane logs -f` looks for new lines.
const followInterval = 250 * time.Millisecond

func runLogs(ctx context.Context, a *app, name string, opts logsOptions) error {
	m, err := a.manager(ctx)
	if err != nil {
		return err
	}
	if _, err := m.Get(ctx, name); err != nil {
		return err
	}
	path := m.LogPath(name)
	if !opts.follow && opts.tail < 0 {
		f, err := os.Open(path)
		if os.IsNotExist(err) {
			return fmt.Errorf("no log kept for %s (it was created by another data folder or machine)", name)
		}
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(a.stdout, f)
		return err
	}
	n := opts.tail
	if n < 0 {
		n = int(^uint(0) >> 1)
	}
	end, err := logtail.Tail(path, n, opts.follow)
	if err != nil {
		return fmt.Errorf("cannot read the log of %s at %s: %w", name, path, err)
	}
	if end.File == nil && !opts.follow {
		return fmt.Errorf("no log kept for %s (it was created by another data folder or machine)", name)
	}
	if end.Truncated && opts.tail < 0 {
		fmt.Fprintf(a.stderr, "pitlane: the log is long; showing its last %d MiB (all of it: %s)\n", logtail.MaxRead>>20, path)
	}
	printLines(a.stdout, end.Lines)
	if !opts.follow {
		return nil
	}
	logtail.NewFollower(path, end).Run(ctx, followInterval, func(lines []string) { printLines(a.stdout, lines) })
	return nil
}

func printLines(w io.Writer, lines []string) {
	if len(lines) > 0 {
		io.WriteString(w, strings.Join(lines, "\n")+"\n")
	}
}
