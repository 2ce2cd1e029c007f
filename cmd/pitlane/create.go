package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/extensions"
	"github.com/pitlane/pitlane/internal/settings"
	"github.com/pitlane/pitlane/internal/workspace"
)

type createOptions struct {
	name           string
	branch         string
	config         string
	quiet          bool
	json           bool
	ide            string
	trust          bool
	env            []string
	envFiles       []string
	dotfiles       string
	dotfilesScript string
	noDotfiles     bool
	cacheFrom      string
	provider       string
}

func init() { commands = append(commands, newCreateCommand) }

func newCreateCommand(a *app) *cobra.Command {
	var opts createOptions
	cmd := &cobra.Command{
		Use:   "create SOURCE",
		Short: "Create a workspace from a git URL or a local folder",
		Long: `Create a workspace from SOURCE, a git URL (https, ssh, file://) or a local
folder. Git sources are cloned with your git (your credentials and SSH
configuration apply); local folders are mounted in place.

The container is defined by .devcontainer/devcontainer.json or
.devcontainer.json (or --config); without one, by a Dockerfile at the root;
without that, by a config generated from the repository's files (see
'pitlane config SOURCE --generate'); with nothing to detect, Pitlane's
default image. Setup hooks run before the command returns. Build and hook output is also kept for 'pitlane logs NAME'.

Your git identity (user.name, user.email, SSH signing) is copied into the
workspace; git there gets your credentials for the workspace's own hosts
from this machine (see pitlane credentials); images are pulled with your
Docker credentials. --env and --env-file values reach hooks, exec and SSH
sessions and are kept only in Pitlane's data folder (mode 0600), never in
the container's labels or the logs. --dotfiles (or 'pitlane settings
dotfiles URL') installs your dotfiles after postCreateCommand; a failure
there is reported and does not fail the create.

A configuration that asks for access to this machine (an initializeCommand
run here, privileged mode, capabilities, devices, the host network, mounts
of host paths, a build context outside the source) is shown first and runs
only once you agree; without a terminal to ask on, create refuses unless
--trust is given. See pitlane trust.

Creating a workspace again, from the same source, after its create was
interrupted (or a setup hook failed) finishes its setup.

An image in Pitlane's cache with the configuration's content key is used
instead of building (see pitlane prebuild and pitlane images). With
--cache-from REGISTRY/REPO, a prebuilt image missing here is pulled from
that repository by its key, with your Docker credentials; the repository is
remembered for the source (--cache-from none forgets it).`,
		Example: `  pitlane create https://github.com/org/app.git
  pitlane create ./app --name app-dev --env-file .env.local
  pitlane create git@github.com:org/app.git --branch feature-x
  pitlane create ./app --dotfiles https://github.com/me/dotfiles.git
  pitlane create https://github.com/org/app.git --cache-from registry.example.com/team/app`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCreate(cmd, a, args[0], opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.name, "name", "", "workspace name (default: from the source)")
	f.StringVar(&opts.branch, "branch", "", "branch to check out (git sources)")
	f.StringVar(&opts.config, "config", "", "devcontainer.json to use, relative to the source")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "show steps only, not build and hook output")
	f.BoolVar(&opts.json, "json", false, "print the created workspace as JSON on stdout")
	f.StringArrayVarP(&opts.env, "env", "e", nil, "set an environment variable for the workspace (KEY=VALUE, or KEY to pass this machine's value)")
	f.StringArrayVar(&opts.envFiles, "env-file", nil, "read environment variables from a `file` of KEY=VALUE lines")
	f.StringVar(&opts.dotfiles, "dotfiles", "", "dotfiles `repository` to install (git URL, local repository or GitHub OWNER/REPO; default: pitlane settings dotfiles)")
	f.StringVar(&opts.dotfilesScript, "dotfiles-script", "", "install `script` in the dotfiles repository (default: install.sh, bootstrap.sh, setup.sh, ... else link the dotfiles)")
	f.BoolVar(&opts.noDotfiles, "no-dotfiles", false, "install no dotfiles, not even the default ones")
	f.BoolVar(&opts.trust, "trust", false, "trust the configuration's requests for host access without asking")
	f.StringVar(&opts.provider, "provider", "", "the provider to run the workspace on (see pitlane provider list; default: the one marked *)")
	f.StringVar(&opts.cacheFrom, "cache-from", "", "pull a prebuilt image missing here from this registry `repository` (REGISTRY/REPO); remembered for the source, none forgets it")
	f.StringVar(&opts.ide, "ide", "", "open the workspace in this `editor` when it is ready: vscode, cursor, windsurf, vscodium, jetbrains:PRODUCT, zed, terminal")
	return cmd
}

func runCreate(cmd *cobra.Command, a *app, src string, opts createOptions) error {
	ctx := cmd.Context()
	if opts.ide != "" {
		if _, err := extensions.Lookup(opts.ide); err != nil {
			return err
		}
	}
	env, err := workspaceEnv(opts.envFiles, opts.env)
	if err != nil {
		return err
	}
	p := newStepPrinter(a.stderr, opts.quiet)
	copts := workspace.CreateOptions{
		Source: src, Name: opts.name, Branch: opts.branch, ConfigPath: opts.config, Progress: p, Env: env,
		Consent: a.consent(opts.trust), CacheFrom: opts.cacheFrom,
	}
	switch {
	case opts.noDotfiles && (opts.dotfiles != "" || opts.dotfilesScript != ""):
		return errors.New("--no-dotfiles and --dotfiles (or --dotfiles-script) contradict each other: pick one")
	case opts.noDotfiles:
		copts.Dotfiles = &workspace.Dotfiles{}
	case opts.dotfiles != "":
		copts.Dotfiles = &workspace.Dotfiles{Repository: opts.dotfiles, Script: opts.dotfilesScript}
	case opts.dotfilesScript != "":
		d := settings.LoadDefault()
		if d.Dotfiles == "" {
			return errors.New("--dotfiles-script needs a dotfiles repository: give --dotfiles URL, or save one with `pitlane settings dotfiles URL`")
		}
		copts.Dotfiles = &workspace.Dotfiles{Repository: d.Dotfiles, Script: opts.dotfilesScript}
	}
	withDotfilesDefault(&copts)
	ws, err := a.createOn(ctx, opts.provider, copts)
	if err != nil {
		p.Fail()
		if errors.Is(err, workspace.ErrHookFailed) && ws != nil {
			return fmt.Errorf("%w\nthe workspace %s is kept for inspection: `pitlane exec %s -- sh`, `pitlane rebuild %s` or `pitlane delete %s`", err, ws.Name, ws.Name, ws.Name, ws.Name)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("create cancelled; nothing was left behind")
		}
		return err
	}
	if opts.json {
		if err := a.printJSON(ws); err != nil {
			return err
		}
	}
	if opts.ide != "" {
		return openWorkspace(ctx, a, ws, openOptions{ide: opts.ide})
	}
	if opts.json {
		return nil
	}
	fmt.Fprintf(a.stdout, "Workspace %s is running (folder %s).\n", ws.Name, ws.Folder)
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 3, ' ', 0)
	fmt.Fprintf(tw, "  pitlane open %s --ide vscode\topen it in your editor (cursor, zed, jetbrains:GO, ...)\n", ws.Name)
	fmt.Fprintf(tw, "  ssh %s\ta shell in it\n", ws.SSHHost)
	fmt.Fprintf(tw, "  pitlane exec %s -- CMD\trun a command in it\n", ws.Name)
	fmt.Fprintf(tw, "  pitlane logs %s\tsee the setup output\n", ws.Name)
	return tw.Flush()
}
