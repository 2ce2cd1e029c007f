package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newListCommand) }

func newListCommand(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List workspaces",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := a.manager(cmd.Context())
			if err != nil {
				return err
			}
			wss, err := m.List(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if wss == nil {
					wss = []*workspace.Workspace{}
				}
				return a.printJSON(wss)
			}
			if len(wss) == 0 {
				fmt.Fprintln(a.stdout, "No workspaces. Create one with `pitlane create SOURCE`.")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTATE\tSOURCE\tIMAGE\tAGE")
			for _, ws := range wss {
				src := ws.Source.URL
				if ws.Source.Ref != "" {
					src += "@" + ws.Source.Ref
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ws.Name, ws.State, src, ws.Image, age(time.Since(ws.CreatedAt)))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, ws := range wss {
				if c := ws.Compose; c != nil {
					fmt.Fprintln(a.stdout, composeLine(ws.Name, c))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// composeLine says which Compose project a workspace runs in, with the
// project's other services and their states.
func composeLine(name string, c *workspace.ComposeInfo) string {
	s := fmt.Sprintf("%s runs in service %s of the Compose project %s", name, c.Service, c.Project)
	if len(c.Services) == 0 {
		return s
	}
	var others []string
	for _, o := range c.Services {
		others = append(others, o.Service+" ("+o.State+")")
	}
	return s + ", beside " + strings.Join(others, ", ")
}

// age formats a duration the way people say it: 45s, 3m, 5h, 2d.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
