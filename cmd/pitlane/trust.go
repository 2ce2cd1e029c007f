package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newTrustCommand) }

// consent is how the CLI answers a configuration's request for host
// access: yes with --trust; otherwise a question on the terminal; with no
// terminal to ask on, no (the error lists what needs trust).
func (a *app) consent(trust bool) workspace.Consent {
	if trust {
		return workspace.TrustAll
	}
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return workspace.ConsentFunc(func(_ context.Context, req *workspace.TrustRequest) (bool, error) {
		fmt.Fprintf(a.stderr, "\nThe configuration of %s", req.Source)
		if req.ConfigPath != "" {
			fmt.Fprintf(a.stderr, " (%s)", req.ConfigPath)
		}
		fmt.Fprintln(a.stderr, " asks for access to this machine:")
		for _, it := range req.Items {
			fmt.Fprintf(a.stderr, "  - %s\n", it)
		}
		fmt.Fprint(a.stderr, "Only trust repositories you know. Trust it and go on? [y/N] ")
		line, _ := bufio.NewReader(f).ReadString('\n')
		ans := strings.ToLower(strings.TrimSpace(line))
		return ans == "y" || ans == "yes", nil
	})
}

func newTrustCommand(a *app) *cobra.Command {
	var list, asJSON bool
	var forget string
	cmd := &cobra.Command{
		Use:   "trust [FOLDER...]",
		Short: "Trust your own folders, or list and forget what you trusted",
		Long: `Some configurations ask for access to this machine: an initializeCommand run
here, privileged mode, capabilities, devices, the host network, mounts of host
paths, a build context outside the source. Pitlane shows such requests and asks
before acting on them (or refuses, without a terminal, unless --trust is
given). A yes is remembered for that source and configuration; a changed
configuration asks again.

pitlane trust FOLDER trusts every configuration of local folders in FOLDER
and below, now and later: use it for your own code. --list shows what is
trusted; --forget removes a folder or every configuration of a source.`,
		Example: `  pitlane trust ~/src
  pitlane trust --list
  pitlane trust --forget https://example.com/org/app.git`,
		RunE: func(cmd *cobra.Command, args []string) error {
			tr := workspace.OpenTrust("")
			switch {
			case forget != "":
				n, err := tr.Forget(forget)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "Forgot %d trusted entr%s for %s.\n", n, map[bool]string{true: "y", false: "ies"}[n == 1], forget)
				return nil
			case list || len(args) == 0:
				items := tr.List()
				if asJSON {
					return a.printJSON(items)
				}
				if len(items) == 0 {
					fmt.Fprintln(a.stdout, "Nothing is trusted yet.")
					return nil
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TRUSTED\tFOR")
				for _, it := range items {
					if it.Folder != "" {
						fmt.Fprintf(tw, "%s\tevery configuration of folders in it\n", it.Folder)
						continue
					}
					what := it.Source
					if it.ConfigPath != "" {
						what += " (" + it.ConfigPath + ")"
					}
					var kinds []string
					for _, i := range it.Items {
						kinds = append(kinds, i.Kind+" "+i.Detail)
					}
					fmt.Fprintf(tw, "%s\t%s\n", what, strings.Join(kinds, "; "))
				}
				return tw.Flush()
			}
			for _, dir := range args {
				abs, err := tr.Folder(dir)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "Trusted %s: its configurations (and those of folders in it) run without asking.\n", abs)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&list, "list", false, "list what is trusted")
	cmd.Flags().BoolVar(&asJSON, "json", false, "with --list, print JSON")
	cmd.Flags().StringVar(&forget, "forget", "", "forget a trusted `folder or source`")
	return cmd
}
