package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pitlane/pitlane/internal/detect"
	"github.com/pitlane/pitlane/internal/devcontainer/generate"
	"github.com/pitlane/pitlane/internal/source"
	"github.com/pitlane/pitlane/internal/workspace"
)

// generatedOutput is what `config --generate --json` prints.
type generatedOutput struct {
	Source  string           `json:"source"`
	Report  *detect.Report   `json:"report"`
	Result  *generate.Result `json:"generated"`
	Written []string         `json:"written,omitempty"`
}

// runGenerate prints or writes the config generated for a local source.
func runGenerate(a *app, src string, opts configOptions) error {
	if source.IsGitURL(src) {
		return fmt.Errorf("--generate reads a folder: clone %s first, then run pitlane config FOLDER --generate", src)
	}
	local, err := source.LocalFolder(src)
	if err != nil {
		return err
	}
	rep, res, err := workspace.GenerateConfig(local, false)
	if err != nil {
		return err
	}
	out := generatedOutput{Source: local, Report: rep, Result: res}
	names := make([]string, 0, len(res.Files))
	for n := range res.Files {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return fileOrder(names[i]) < fileOrder(names[j]) })
	if opts.write {
		dir := filepath.Join(local, ".devcontainer")
		if !opts.force {
			for _, n := range names {
				if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
					return fmt.Errorf("%s exists already: nothing was written; compare with `pitlane config %s --generate`, or replace it with --force", filepath.Join(dir, n), src)
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, n := range names {
			p := filepath.Join(dir, n)
			if err := writeFileAtomic(p, []byte(res.Files[n])); err != nil {
				return err
			}
			out.Written = append(out.Written, p)
		}
	}
	if opts.json {
		return a.printJSON(out)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	if opts.write {
		fmt.Fprintf(a.stdout, "Wrote a %s setup: %s\n", res.Summary, strings.Join(out.Written, ", "))
		fmt.Fprintf(a.stdout, "Commit them; `pitlane doctor %s` tells when the repository drifts from them.\n", src)
		return nil
	}
	for i, n := range names {
		if i > 0 {
			fmt.Fprintln(a.stdout)
		}
		fmt.Fprintf(a.stdout, "==> .devcontainer/%s\n%s", n, res.Files[n])
	}
	return nil
}

func fileOrder(name string) int {
	switch name {
	case generate.ConfigFile:
		return 0
	case generate.DockerfileFile:
		return 1
	}
	return 2
}

// writeFileAtomic writes a file through a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}
