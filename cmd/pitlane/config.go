package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

type configOptions struct {
	config   string
	json     bool
	generate bool
	write    bool
	force    bool
}

func init() { commands = append(commands, newConfigCommand) }

func newConfigCommand(a *app) *cobra.Command {
	var opts configOptions
	cmd := &cobra.Command{
		Use:   "config SOURCE",
		Short: "Show the configuration a workspace of SOURCE would get",
		Long: `Show what 'pitlane create SOURCE' would do: which devcontainer.json it
picks (and which others there are), the workspace folder, the user, the
features in install order, and the whole configuration with variables
substituted and the image's and features' metadata merged in. Nothing is
built or started. ${containerEnv:...} stays as written: it is known only
once the container runs.

With --generate it prints the devcontainer.json (and Dockerfile) Pitlane
generates from what the repository contains, whether or not it has a config
of its own: the languages at the versions it asks for, its package managers,
services, test command and ports, each choice with a comment naming the file
it came from. --write puts those files into SOURCE/.devcontainer/ to commit.`,
		Example: `  pitlane config .
  pitlane config ./app --config .devcontainer/go/devcontainer.json --json
  pitlane config . --generate
  pitlane config . --generate --write`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if opts.write && !opts.generate {
				return fmt.Errorf("--write goes with --generate: pitlane config %s --generate --write", args[0])
			}
			if opts.generate {
				return runGenerate(a, args[0], opts)
			}
			m, err := a.manager(ctx)
			if err != nil {
				return err
			}
			rc, err := m.ResolveConfig(ctx, args[0], opts.config)
			if err != nil {
				return err
			}
			if opts.json {
				return a.printJSON(rc)
			}
			w := a.stdout
			fmt.Fprintf(w, "kind:        %s\n", rc.Kind)
			if rc.ConfigPath != "" {
				fmt.Fprintf(w, "config:      %s\n", rc.ConfigPath)
			}
			if len(rc.Candidates) > 1 {
				fmt.Fprintf(w, "candidates:  %s (choose with --config)\n", strings.Join(rc.Candidates, ", "))
			}
			fmt.Fprintf(w, "folder:      %s -> %s\n", rc.LocalFolder, rc.Folder)
			if rc.Image != "" {
				fmt.Fprintf(w, "image:       %s\n", rc.Image)
			}
			if rc.RemoteUser != "" {
				fmt.Fprintf(w, "remote user: %s\n", rc.RemoteUser)
			}
			if len(rc.Features) > 0 {
				fmt.Fprintf(w, "features:    %s\n", strings.Join(rc.Features, " -> "))
			}
			for _, warn := range rc.Warnings {
				fmt.Fprintf(w, "note:        %s\n", warn)
			}
			fmt.Fprintln(w, "configuration:")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(rc.Config)
		},
	}
	cmd.Flags().StringVar(&opts.config, "config", "", "devcontainer.json to use, relative to the source")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&opts.generate, "generate", false, "print the config generated from the repository's files")
	cmd.Flags().BoolVar(&opts.write, "write", false, "with --generate: write the files into SOURCE/.devcontainer/")
	cmd.Flags().BoolVar(&opts.force, "force", false, "with --write: replace files that exist already")
	return cmd
}
