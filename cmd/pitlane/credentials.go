package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/credentials"
	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newCredentialsCommand) }

// credentialsView is a workspace's forwarding policy as shown to users.
type credentialsView struct {
	Name string `json:"name"`
	// Forwarding is "off", "own hosts", or "any host".
	Forwarding  string              `json:"forwarding"`
	RemoteHosts []string            `json:"remoteHosts"`
	Allow       []string            `json:"allow"`
	Deny        []string            `json:"deny"`
	Answers     []credentials.Entry `json:"answers"`
}

func newCredentialsCommand(a *app) *cobra.Command {
	var asJSON bool
	var last int
	cmd := &cobra.Command{
		Use:   "credentials [NAME]",
		Short: "Show or change which git credentials workspaces get from this machine",
		Long: `git inside a workspace asks this machine for credentials: your own
'git credential fill' answers (your helpers, keychain and gh apply), and the
secret goes to git through the connection Pitlane already holds (pitlane
exec, ssh NAME.pitlane, an IDE, setup hooks). Nothing is written inside the
workspace.

By default a workspace gets credentials only for its own remote hosts: the
host of the git URL it was created from, or the remotes of the local
folder's repository. Every answer is logged here (the host, never the
secret).

Without NAME, list every workspace's policy; with NAME, show it and its
recent answers.`,
		Example: `  pitlane credentials
  pitlane credentials api
  pitlane credentials allow api gitlab.example.com
  pitlane credentials deny api '*'      # forward nothing to api
  pitlane credentials reset api`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			m, err := a.manager(ctx)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				_, ws, err := a.workspace(ctx, args[0])
				if err != nil {
					return err
				}
				v, err := viewCredentials(m, ws, last)
				if err != nil {
					return err
				}
				if asJSON {
					return a.printJSON(v)
				}
				printCredentials(a, v)
				return nil
			}
			wss, err := m.List(ctx)
			if err != nil {
				return err
			}
			views := []credentialsView{}
			for _, ws := range wss {
				v, err := viewCredentials(m, ws, 1)
				if err != nil {
					return err
				}
				views = append(views, v)
			}
			if asJSON {
				return a.printJSON(views)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 3, ' ', 0)
			fmt.Fprintln(tw, "NAME\tFORWARDING\tOWN HOSTS\tALSO ALLOWED\tDENIED\tLAST ANSWER")
			for _, v := range views {
				lastAnswer := "-"
				if len(v.Answers) > 0 {
					e := v.Answers[len(v.Answers)-1]
					lastAnswer = fmt.Sprintf("%s %s %s", e.Time.Local().Format("2006-01-02 15:04"), e.Host, e.Outcome)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Name, v.Forwarding, list(v.RemoteHosts), list(v.Allow), list(v.Deny), lastAnswer)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.Flags().IntVar(&last, "last", 20, "how many recent answers to show")
	cmd.AddCommand(
		newCredentialsChange(a, "allow", "Also give NAME credentials for HOST (host or host:port; '*' for any host)",
			func(p *credentials.Policy, h string) {
				p.Allow = addHost(p.Allow, h)
				p.Deny = removeHost(p.Deny, h)
			}),
		newCredentialsChange(a, "deny", "Never give NAME credentials for HOST, even its own ('*' turns forwarding off)",
			func(p *credentials.Policy, h string) {
				p.Deny = addHost(p.Deny, h)
				p.Allow = removeHost(p.Allow, h)
			}),
	)
	cmd.AddCommand(&cobra.Command{
		Use:   "reset NAME",
		Short: "Go back to the default: credentials for NAME's own remote hosts only",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, ws, err := a.workspace(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := credentials.SavePolicy(m.Dir(ws.Name), credentials.Policy{}); err != nil {
				return err
			}
			return showChanged(a, m, ws)
		},
	})
	return cmd
}

func newCredentialsChange(a *app, verb, short string, change func(*credentials.Policy, string)) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " NAME HOST...",
		Short: short,
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, ws, err := a.workspace(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			dir := m.Dir(ws.Name)
			p, err := credentials.LoadPolicy(dir)
			if err != nil {
				return err
			}
			for _, h := range args[1:] {
				h, err := credentials.NormalizeHost(h)
				if err != nil {
					return err
				}
				change(&p, h)
			}
			if err := credentials.SavePolicy(dir, p); err != nil {
				return err
			}
			return showChanged(a, m, ws)
		},
	}
}

func showChanged(a *app, m *workspace.Manager, ws *workspace.Workspace) error {
	v, err := viewCredentials(m, ws, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s now gets credentials for: %s\n", ws.Name, describeScope(v))
	return nil
}

func viewCredentials(m *workspace.Manager, ws *workspace.Workspace, last int) (credentialsView, error) {
	dir := m.Dir(ws.Name)
	p, err := credentials.LoadPolicy(dir)
	if err != nil {
		return credentialsView{}, err
	}
	v := credentialsView{Name: ws.Name, RemoteHosts: ownRemoteHosts(m, ws), Allow: p.Allow, Deny: p.Deny}
	for _, l := range []*[]string{&v.RemoteHosts, &v.Allow, &v.Deny} {
		if *l == nil {
			*l = []string{}
		}
	}
	switch {
	case slices.Contains(p.Deny, credentials.Any):
		v.Forwarding = "off"
	case slices.Contains(p.Allow, credentials.Any):
		v.Forwarding = "any host"
	default:
		v.Forwarding = "own hosts"
	}
	if last > 0 {
		if v.Answers, err = credentials.ReadLog(dir, last); err != nil {
			return v, err
		}
	}
	if v.Answers == nil {
		v.Answers = []credentials.Entry{}
	}
	return v, nil
}

func describeScope(v credentialsView) string {
	switch v.Forwarding {
	case "off":
		return "nothing (forwarding is off)"
	case "any host":
		return "any host" + except(v.Deny)
	}
	var hosts []string
	for _, h := range append(append([]string{}, v.RemoteHosts...), v.Allow...) {
		if !slices.Contains(v.Deny, h) && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return "no host (it has no remote hosts; allow one with pitlane credentials allow " + v.Name + " HOST)"
	}
	return strings.Join(hosts, ", ")
}

func except(deny []string) string {
	if len(deny) == 0 {
		return ""
	}
	return " except " + strings.Join(deny, ", ")
}

func printCredentials(a *app, v credentialsView) {
	fmt.Fprintf(a.stdout, "%s gets git credentials from this machine for: %s\n", v.Name, describeScope(v))
	fmt.Fprintf(a.stdout, "  own hosts:    %s\n", list(v.RemoteHosts))
	fmt.Fprintf(a.stdout, "  also allowed: %s\n", list(v.Allow))
	fmt.Fprintf(a.stdout, "  denied:       %s\n", list(v.Deny))
	if len(v.Answers) == 0 {
		fmt.Fprintln(a.stdout, "No credential requests yet.")
		return
	}
	fmt.Fprintln(a.stdout, "Recent requests:")
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, e := range v.Answers {
		fmt.Fprintf(tw, "  %s\t%s://%s\t%s\t%s\n", e.Time.Local().Format(time.DateTime), e.Protocol, e.Host, e.Outcome, e.Reason)
	}
	tw.Flush()
}

func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ", ")
}

func addHost(l []string, h string) []string {
	if slices.Contains(l, h) {
		return l
	}
	return append(l, h)
}

func removeHost(l []string, h string) []string {
	return slices.DeleteFunc(l, func(x string) bool { return x == h })
}
