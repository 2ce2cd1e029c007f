package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/sshconfig"
)

func init() { commands = append(commands, newSSHConfigCommand) }

func newSSHConfigCommand(a *app) *cobra.Command {
	var uninstall bool
	cmd := &cobra.Command{
		Use:   "ssh-config [--uninstall]",
		Short: "Let ssh and your IDEs reach workspaces as NAME.pitlane",
		Long: `Write Pitlane's own ssh_config (one "Host NAME.pitlane" block per workspace)
and add one Include line for it at the top of ~/.ssh/config. Nothing else in
your file changes; running it again only refreshes the list of workspaces.
pitlane create and pitlane delete do this themselves.

An Include line of Pitlane's that names an ssh_config which no longer exists
(a config folder that moved) is replaced, and you are told.

With --uninstall, remove exactly that line and Pitlane's ssh_config.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := sshConfigOptions(nil)
			if !uninstall {
				opts.Hosts = a.sshHosts(cmd.Context())
			}
			if uninstall {
				removed, err := sshconfig.Uninstall(opts)
				if err != nil {
					return err
				}
				if removed {
					fmt.Fprintln(a.stdout, "Removed Pitlane's Include line from your SSH config.")
				} else {
					fmt.Fprintln(a.stdout, "Your SSH config does not include Pitlane's; nothing to remove.")
				}
				return nil
			}
			res, err := sshconfig.Ensure(opts)
			if err != nil {
				return err
			}
			if res.Replaced != "" {
				fmt.Fprintf(a.stdout, "Replaced the stale line \"Include %s\" (that file no longer exists) with %q in %s.\n", res.Replaced, sshconfig.IncludeLine(res.OwnConfig), res.UserConfig)
			} else if res.Added {
				fmt.Fprintf(a.stdout, "Added %q at the top of %s.\n", sshconfig.IncludeLine(res.OwnConfig), res.UserConfig)
			} else {
				fmt.Fprintf(a.stdout, "%s already includes %s.\n", res.UserConfig, res.OwnConfig)
			}
			fmt.Fprintln(a.stdout, "Workspaces are reachable as NAME.pitlane (for example: ssh NAME.pitlane).")
			return nil
		},
	}
	cmd.Flags().BoolVar(&uninstall, "uninstall", false, "remove what pitlane ssh-config added")
	return cmd
}
