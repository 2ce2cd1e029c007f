package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/settings"
	"github.com/pitlane/pitlane/internal/sshconfig"
	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newSettingsCommand) }

// sshConfigOptions are the options of Pitlane's ssh_config for the given
// workspace names (nil: the names it has now), with the user's settings
// applied.
func sshConfigOptions(hosts []string) sshconfig.Options {
	return sshconfig.Options{Hosts: hosts, ForwardAgent: settings.LoadDefault().ForwardAgent}
}

// withDotfilesDefault gives a create the user's default dotfiles when it
// names none; an empty repository asks for none.
func withDotfilesDefault(opts *workspace.CreateOptions) {
	if opts.Dotfiles == nil {
		if s := settings.LoadDefault(); s.Dotfiles != "" {
			opts.Dotfiles = &workspace.Dotfiles{Repository: s.Dotfiles, Script: s.DotfilesScript}
		}
		return
	}
	if opts.Dotfiles.Repository == "" {
		opts.Dotfiles = nil
	}
}

func newSettingsCommand(a *app) *cobra.Command {
	var asJSON, unset bool
	cmd := &cobra.Command{
		Use:   "settings [KEY [VALUE]]",
		Short: "Show or change your defaults (agent forwarding, dotfiles)",
		Long: `Show your Pitlane defaults, one of them, or change one.

  forward-agent     forward your ssh-agent on every SSH connection to a
                    workspace (ssh NAME.pitlane, pitlane ssh, IDEs);
                    without it only ssh -A and pitlane ssh -A forward it
  dotfiles          dotfiles repository installed in every new workspace
                    (git URL, local repository or GitHub OWNER/REPO);
                    pitlane create --dotfiles overrides it
  dotfiles-script   its install script (default: the first of install.sh,
                    install, bootstrap.sh, bootstrap, script/bootstrap,
                    setup.sh, setup, script/setup; else the dotfiles are
                    linked into your home)

The settings live in settings.json in Pitlane's config folder.`,
		Example: `  pitlane settings
  pitlane settings forward-agent true
  pitlane settings dotfiles https://github.com/me/dotfiles.git
  pitlane settings --unset dotfiles`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := settings.DefaultDir()
			if err != nil {
				return err
			}
			s, err := settings.Load(dir)
			if err != nil {
				return err
			}
			if unset && len(args) != 1 {
				return errors.New("--unset takes one setting name: pitlane settings --unset KEY")
			}
			if len(args) == 0 {
				if asJSON {
					return a.printJSON(s)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 3, ' ', 0)
				for _, k := range settings.Keys {
					fmt.Fprintf(tw, "%s\t%s\n", k.Name, orNone(k.Get(&s)))
				}
				return tw.Flush()
			}
			k, err := settings.Lookup(args[0])
			if err != nil {
				return err
			}
			if len(args) == 1 && !unset {
				if asJSON {
					return a.printJSON(map[string]string{k.Name: k.Get(&s)})
				}
				fmt.Fprintln(a.stdout, k.Get(&s))
				return nil
			}
			v := ""
			if len(args) == 2 {
				if v = args[1]; v == "" {
					return fmt.Errorf("give %s a value, or remove it with pitlane settings --unset %s", k.Name, k.Name)
				}
			}
			if err := k.Set(&s, v); err != nil {
				return err
			}
			if err := settings.Save(dir, s); err != nil {
				return err
			}
			if k.Name == "forward-agent" {
				if _, _, err := sshconfig.WriteOwn(sshConfigOptions(nil)); err != nil {
					return fmt.Errorf("saved, but Pitlane's ssh_config was not rewritten: %w", err)
				}
			}
			if asJSON {
				return a.printJSON(map[string]string{k.Name: k.Get(&s)})
			}
			fmt.Fprintf(a.stdout, "%s is now %s.\n", k.Name, orNone(k.Get(&s)))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.Flags().BoolVar(&unset, "unset", false, "go back to the default of KEY")
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}
