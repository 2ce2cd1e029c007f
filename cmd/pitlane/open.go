package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/extensions"
	"github.com/pitlane/pitlane/internal/sshconfig"
	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newOpenCommand) }

type openOptions struct {
	ide   string
	print bool
}

func newOpenCommand(a *app) *cobra.Command {
	var opts openOptions
	cmd := &cobra.Command{
		Use:   "open NAME [--ide IDE]",
		Short: "Open a workspace in your editor over SSH",
		Long: `Open a workspace's folder in your editor through its remote-SSH support.
--ide picks the editor and remembers it as the default for later:
  ` + strings.Join(extensions.IDs(), ", ") + `
Without --ide, the remembered editor is used, or the first one found of
VS Code, Cursor, Windsurf, VSCodium and Zed, or a shell in this terminal.`,
		Example: `  pitlane open api
  pitlane open api --ide jetbrains:GO
  pitlane open api --ide zed --print   # show the command instead of running it`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOpen(cmd.Context(), a, args[0], opts)
		},
	}
	cmd.Flags().StringVar(&opts.ide, "ide", "", "editor to open (remembered as the default)")
	cmd.Flags().BoolVar(&opts.print, "print", false, "print the URL and command line instead of opening")
	return cmd
}

func runOpen(ctx context.Context, a *app, name string, opts openOptions) error {
	name = workspaceName(name)
	_, ws, err := a.workspace(ctx, name)
	if err != nil {
		return err
	}
	return openWorkspace(ctx, a, ws, opts)
}

// openWorkspace opens ws in the chosen (or default) IDE. `pitlane create
// --ide` calls it too.
func openWorkspace(ctx context.Context, a *app, ws *workspace.Workspace, opts openOptions) (err error) {
	cfgDir, err := sshconfig.DefaultConfigDir()
	if err != nil {
		return err
	}
	var ide *extensions.IDE
	if opts.ide != "" {
		if ide, err = extensions.Lookup(opts.ide); err != nil {
			return err
		}
		// Remember the choice once it worked.
		defer func() {
			if err != nil {
				return
			}
			if serr := extensions.SetDefault(cfgDir, ide.ID); serr != nil {
				fmt.Fprintf(a.stderr, "pitlane: warning: cannot remember %s as the default editor: %v\n", ide.ID, serr)
			}
		}()
	} else if ide, err = extensions.Default(cfgDir); err != nil {
		return err
	}
	host := ws.SSHHost
	if host == "" {
		host = ws.Name + "." + workspace.SSHDomain
	}
	t := ide.Target(host, ws.Folder, ws.RemoteUser)
	if opts.print {
		if t.URI != "" {
			fmt.Fprintln(a.stdout, t.URI)
		}
		if len(t.Command) > 0 {
			fmt.Fprintln(a.stdout, strings.Join(quoteAll(t.Command), " "))
		}
		if ide.IsTerminal() {
			fmt.Fprintf(a.stdout, "ssh %s\n", host)
		}
		return nil
	}
	if ide.IsTerminal() {
		return runSSH(ctx, a, ws.Name, nil, sshOptions{})
	}
	// Editors read ~/.ssh/config, so it must include Pitlane's.
	if _, err := sshconfig.Ensure(sshConfigOptions(a.sshHosts(ctx))); err != nil {
		return err
	}
	if ws.State == workspace.StateStopped {
		if _, err := startForOpen(ctx, a, ws.Name); err != nil {
			return err
		}
	}
	var argv []string
	if ide.IsURLOnly() {
		opener, err := extensions.URLOpener()
		if err != nil {
			return fmt.Errorf("%v; open this URL by hand: %s", err, t.URI)
		}
		argv = []string{opener, t.URI}
		if _, ok := ide.Detect(); !ok {
			fmt.Fprintf(a.stderr, "pitlane: %v\n", ide.Missing())
		}
	} else {
		if _, ok := ide.Detect(); !ok {
			return fmt.Errorf("%w\nYou can also open %s yourself: %s", ide.Missing(), ws.Name, t.URI)
		}
		argv = t.Command
	}
	if mgr, err := a.managerFor(ctx, ws.Name); err == nil {
		// postAttachCommand runs on every open; its failure is shown but
		// does not keep the editor away.
		if _, err := mgr.Attach(ctx, ws.Name, newStepPrinter(a.stderr, false)); err != nil {
			fmt.Fprintf(a.stderr, "pitlane: warning: %v\n", err)
		}
	}
	fmt.Fprintf(a.stdout, "Opening %s in %s (%s:%s)\n", ws.Name, ide.Name, host, ws.Folder)
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Stdout, c.Stderr = a.stderr, a.stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("running %s: %w", argv[0], err)
	}
	recorderOf(a).IDEOpened(ide.ID)
	return nil
}

func startForOpen(ctx context.Context, a *app, name string) (*workspace.Workspace, error) {
	mgr, err := a.managerFor(ctx, name)
	if err != nil {
		return nil, err
	}
	return mgr.Start(ctx, name, workspace.StartOptions{Progress: stderrProgress{a.stderr}, Consent: a.consent(false)})
}

func quoteAll(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = shellWord(w)
	}
	return out
}
