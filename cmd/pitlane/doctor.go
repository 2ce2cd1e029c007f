package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/detect"
	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/devcontainer/generate"
	"github.com/pitlane/pitlane/internal/source"
	"github.com/pitlane/pitlane/internal/workspace"
)

type doctorOptions struct {
	json bool
}

// doctorResult is what `doctor --json` prints.
type doctorResult struct {
	// Source is the repository folder checked.
	Source string `json:"source"`
	// Config is the config it was checked against; empty when there is
	// none.
	Config   string             `json:"config,omitempty"`
	Findings []generate.Finding `json:"findings"`
	Clean    bool               `json:"clean"`
	Note     string             `json:"note,omitempty"`
	Report   *detect.Report     `json:"report"`
}

func init() { commands = append(commands, newDoctorCommand) }

func newDoctorCommand(a *app) *cobra.Command {
	var opts doctorOptions
	cmd := &cobra.Command{
		Use:   "doctor [NAME|SOURCE]",
		Short: "Check a repository against its dev container config for drift",
		Long: `Check whether a repository still fits its devcontainer.json: a toolchain
version the repository asks for that is newer than the config installs, a
new lock file or package manager, a new service in a Compose file or
.env.example, a test command that no longer exists. Each finding names the
file that shows it and the fix.

The argument is a workspace name (its source and the config it was created
with) or a folder (its devcontainer.json); default: the current folder.
Exits with status 1 when it finds drift, so it can run in CI on every commit.`,
		Example: `  pitlane doctor
  pitlane doctor app
  pitlane doctor ./repo --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := "."
			if len(args) == 1 {
				arg = args[0]
			}
			res, err := runDoctor(cmd, a, arg)
			if err != nil {
				return err
			}
			if opts.json {
				if err := a.printJSON(res); err != nil {
					return err
				}
			} else {
				printDoctor(a, res)
			}
			if !res.Clean {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the result as JSON")
	return cmd
}

// runDoctor finds the repository and config arg names and compares them.
func runDoctor(cmd *cobra.Command, a *app, arg string) (*doctorResult, error) {
	var local, cfgPath, regen string
	if isFolder(arg) || source.IsGitURL(arg) {
		if source.IsGitURL(arg) {
			return nil, fmt.Errorf("doctor reads a folder or a workspace: clone %s first", arg)
		}
		var err error
		if local, err = source.LocalFolder(arg); err != nil {
			return nil, err
		}
		found, err := devcontainer.Find(local)
		if err != nil {
			return nil, err
		}
		if len(found) > 0 {
			cfgPath = filepath.Join(local, found[0])
		}
		regen = fmt.Sprintf("regenerate the config: `pitlane config %s --generate --write --force`", arg)
	} else {
		if err := workspace.ValidateName(arg); err != nil {
			return nil, fmt.Errorf("%s is neither a folder nor a workspace name: %w", arg, err)
		}
		m, ws, err := a.workspace(cmd.Context(), arg)
		if err != nil {
			return nil, err
		}
		local = ws.LocalFolder
		switch {
		case ws.ConfigKind == workspace.KindDetected:
			cfgPath = filepath.Join(m.DetectedDir(ws.Name), generate.ConfigFile)
			regen = fmt.Sprintf("`pitlane rebuild %s` generates the config anew", ws.Name)
		case ws.ConfigPath != "":
			cfgPath = filepath.Join(local, ws.ConfigPath)
			regen = fmt.Sprintf("regenerate the config: `pitlane config %s --generate --write --force`", local)
		}
	}
	rep, err := detect.Dir(local)
	if err != nil {
		return nil, err
	}
	res := &doctorResult{Source: local, Config: cfgPath, Findings: []generate.Finding{}, Report: rep}
	if cfgPath == "" {
		res.Clean = true
		res.Note = fmt.Sprintf("no devcontainer.json: Pitlane generates one at create; `pitlane config %s --generate --write` writes it into the repository", local)
		return res, nil
	}
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, err
	}
	cfg, err := devcontainer.Parse(cfgPath, data)
	if err != nil {
		return nil, err
	}
	in := generate.DriftInput{Config: cfg, ConfigText: string(data), ConfigFile: displayPath(local, cfgPath), Regenerate: regen}
	if bs, err := cfg.BuildSpec(filepath.Dir(cfgPath)); err == nil && bs != nil {
		if df, err := os.ReadFile(filepath.Join(bs.Context, bs.Dockerfile)); err == nil {
			in.Dockerfile = string(df)
		} else if df, err := os.ReadFile(bs.Dockerfile); err == nil {
			in.Dockerfile = string(df)
		}
	}
	res.Findings = append(res.Findings, generate.Drift(rep, in)...)
	res.Clean = len(res.Findings) == 0
	return res, nil
}

func printDoctor(a *app, res *doctorResult) {
	w := a.stdout
	if res.Note != "" {
		fmt.Fprintln(w, res.Note)
		return
	}
	if res.Clean {
		fmt.Fprintf(w, "%s fits %s: no drift\n", res.Source, res.Config)
		return
	}
	fmt.Fprintf(w, "%s has drifted from %s:\n", res.Source, res.Config)
	for _, f := range res.Findings {
		loc := f.File
		if f.Line > 0 {
			loc = fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		fmt.Fprintf(w, "  %s: %s\n      fix: %s\n", loc, f.Message, f.Fix)
	}
	fmt.Fprintf(w, "%d finding(s)\n", len(res.Findings))
}

func isFolder(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func displayPath(root, p string) string {
	if rel, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}
