package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/workspace"
)

type prebuildOptions struct {
	config   string
	branch   string
	push     string
	force    bool
	json     bool
	quiet    bool
	trust    bool
	watch    bool
	interval time.Duration
}

func init() { commands = append(commands, newPrebuildCommand) }

func newPrebuildCommand(a *app) *cobra.Command {
	var opts prebuildOptions
	cmd := &cobra.Command{
		Use:   "prebuild SOURCE",
		Short: "Build a source's workspace image ahead of time, with its setup baked in",
		Long: `Build the image a workspace of SOURCE (a git URL or a local folder) would
use, run its onCreateCommand and updateContentCommand into it, and keep it in
Pitlane's image cache under its content key: a digest of the configuration,
the Dockerfile and its build context (less what .dockerignore excludes), the
features and their options, and the base images. A later create or rebuild
with the same key uses the image instead of building, and runs only the setup
not baked in (postCreateCommand and after).

With --push the image also goes to a registry, tagged with its key, with your
Docker credentials; on another machine, 'pitlane create SOURCE --cache-from
REGISTRY/REPO' pulls it. Files the baked commands made in the workspace
folder (node_modules, say) are kept in the image and put into the workspace
folder on create, where missing.

With --watch it keeps going: a local folder is watched and prebuilt again
when a file that is part of the key changes; a git branch is asked for its
head every --interval and prebuilt again when it moves.

A prebuild runs nothing on this machine (no initializeCommand) and gives its
container no host access; only a build context outside the source needs
your trust.`,
		Example: `  pitlane prebuild ./app
  pitlane prebuild https://github.com/org/app.git --push registry.example.com/team/app
  pitlane prebuild ./app --watch`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPrebuild(cmd, a, args[0], opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.config, "config", "", "devcontainer.json to use, relative to the source")
	f.StringVar(&opts.branch, "branch", "", "branch to build (git sources)")
	f.StringVar(&opts.push, "push", "", "push the image to this registry `repository` (REGISTRY/REPO), tagged with its key")
	f.BoolVar(&opts.force, "force", false, "build and bake again even when the cache has the image")
	f.BoolVar(&opts.json, "json", false, "print the key and image reference as JSON on stdout (one line per prebuild with --watch)")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "show steps only, not build and hook output")
	f.BoolVar(&opts.trust, "trust", false, "trust a build context outside the source without asking")
	f.BoolVar(&opts.watch, "watch", false, "keep prebuilding when the source changes, until interrupted")
	f.DurationVar(&opts.interval, "interval", time.Minute, "with --watch: how often to ask a git branch for its head")
	return cmd
}

func runPrebuild(cmd *cobra.Command, a *app, src string, opts prebuildOptions) error {
	ctx := cmd.Context()
	if opts.push != "" {
		if err := workspace.ValidateRepository(opts.push); err != nil {
			return err
		}
	}
	if opts.interval <= 0 {
		return fmt.Errorf("--interval must be positive, not %s", opts.interval)
	}
	m, err := a.manager(ctx)
	if err != nil {
		return err
	}
	p := newStepPrinter(a.stderr, opts.quiet)
	po := workspace.PrebuildOptions{
		Source: src, Branch: opts.branch, ConfigPath: opts.config, Push: opts.push, Force: opts.force,
		Progress: p, Consent: a.consent(opts.trust),
	}
	if !opts.watch {
		res, err := m.Prebuild(ctx, po)
		if err != nil {
			p.Fail()
			if ctx.Err() != nil {
				return fmt.Errorf("prebuild cancelled")
			}
			return err
		}
		if opts.json {
			return a.printJSON(res)
		}
		printPrebuild(a, src, res)
		return nil
	}
	fmt.Fprintf(a.stderr, "Watching %s; Ctrl-C stops.\n", src)
	return m.WatchPrebuild(ctx, workspace.WatchOptions{
		PrebuildOptions: po, Interval: opts.interval,
		OnResult: func(res *workspace.PrebuildResult, err error) {
			if err != nil {
				p.Fail()
				fmt.Fprintf(a.stderr, "pitlane: prebuild failed: %v\nwatching on\n", err)
				return
			}
			if opts.json {
				b, _ := json.Marshal(res)
				fmt.Fprintln(a.stdout, string(b))
				return
			}
			printPrebuild(a, src, res)
		},
	})
}

func printPrebuild(a *app, src string, res *workspace.PrebuildResult) {
	what := "Prebuilt"
	if res.Reused {
		what = "Up to date:"
	}
	baked := "nothing baked in"
	if len(res.Baked) > 0 {
		baked = "baked in: " + strings.Join(res.Baked, ", ")
	}
	fmt.Fprintf(a.stdout, "%s image %s (%s), built %s; %s.\n", what, workspace.ShortKey(res.Key), res.Image, res.Built.Local().Format("2006-01-02 15:04"), baked)
	if res.Pushed != "" {
		repo, _, _ := strings.Cut(res.Pushed, ":"+res.Key)
		fmt.Fprintf(a.stdout, "Pushed as %s.\nOn another machine: pitlane create %s --cache-from %s\n", res.Pushed, src, repo)
	}
}
