package detect

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

var makeTarget = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_./-]*)\s*:([^=]|$)`)

// makefileTargets returns the targets of the Makefile in dir, each with
// its evidence, and the Makefile's name.
func makefileTargets(t *tree, dir string) (map[string]Evidence, string) {
	for _, name := range []string{"GNUmakefile", "Makefile", "makefile"} {
		rel := join(dir, name)
		data, ok := t.read(rel)
		if !ok {
			continue
		}
		targets := map[string]Evidence{}
		for i, line := range strings.Split(string(data), "\n") {
			if m := makeTarget.FindStringSubmatch(line); m != nil {
				if _, seen := targets[m[1]]; !seen {
					targets[m[1]] = Evidence{File: rel, Line: i + 1, Text: clip(strings.TrimSpace(line))}
				}
			}
		}
		return targets, rel
	}
	return nil, ""
}

// MakefileTargets returns the targets of the Makefile in the folder dir
// of the tree at root (for drift checks).
func MakefileTargets(root, dir string) map[string]Evidence {
	targets, _ := makefileTargets(&tree{root: root, cache: map[string][]byte{}}, dir)
	return targets
}

// makeTest is `make test` (or `make check`) when dir's Makefile has that
// target.
func makeTest(t *tree, dir string) *Command {
	targets, _ := makefileTargets(t, dir)
	for _, name := range []string{"test", "check"} {
		if ev, ok := targets[name]; ok {
			return &Command{Run: "make " + name, Origin: "Makefile", Evidence: ev}
		}
	}
	return nil
}

// testFor is the test command of a stack in dir: its own Makefile's test
// target when dir is not the root, otherwise def.
func testFor(t *tree, dir string, def *Command) *Command {
	if dir != "." {
		if c := makeTest(t, dir); c != nil {
			return c
		}
	}
	return def
}

// workflow is the part of a GitHub Actions workflow the detector reads.
type workflow struct {
	Jobs map[string]struct {
		Steps []struct {
			Uses             string               `yaml:"uses"`
			Run              string               `yaml:"run"`
			With             map[string]yaml.Node `yaml:"with"`
			WorkingDirectory string               `yaml:"working-directory"`
			Env              map[string]string    `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

var ciTest = regexp.MustCompile(`^(go test|gotestsum|npm (run )?test|npm run test:?\S*|pnpm (run )?test|yarn (run )?test|bun test|(python3? -m )?pytest|tox|nox|cargo (test|nextest)|mvn .*\b(test|verify)\b|\./mvnw .*\b(test|verify)\b|\./gradlew .*\b(test|check|build)\b|gradle .*\b(test|check)\b|bundle exec (rspec|rake)|rake( test)?$|make (test|check))`)

func workflows(t *tree) map[string]workflow {
	out := map[string]workflow{}
	files := append(t.glob(".github/workflows", "*.yml"), t.glob(".github/workflows", "*.yaml")...)
	for _, f := range files {
		data, _ := t.read(f)
		var w workflow
		if yaml.Unmarshal(data, &w) == nil {
			out[f] = w
		}
	}
	return out
}

// ciCommands returns the test commands of the tree's CI workflows.
func ciCommands(t *tree) []Command {
	var out []Command
	wfs := workflows(t)
	for _, f := range sortedKeys(wfs) {
		data, _ := t.read(f)
		for _, job := range sortedKeys(wfs[f].Jobs) {
			for _, st := range wfs[f].Jobs[job].Steps {
				for _, line := range strings.Split(st.Run, "\n") {
					line = strings.TrimSpace(line)
					if line == "" || strings.Contains(line, "${{") || !ciTest.MatchString(line) {
						continue
					}
					c := Command{Run: line, Origin: "CI workflow", Evidence: find(f, data, line)}
					if st.WorkingDirectory != "" {
						c.Run = "cd " + shellQuote(st.WorkingDirectory) + " && " + line
					}
					dup := false
					for _, o := range out {
						dup = dup || o.Run == c.Run
					}
					if !dup {
						out = append(out, c)
					}
				}
			}
		}
	}
	return out
}

// ciLanguage says which language a CI test command belongs to.
func ciLanguage(run string) string {
	switch {
	case strings.HasPrefix(run, "go ") || strings.HasPrefix(run, "gotestsum"):
		return Go
	case strings.HasPrefix(run, "npm") || strings.HasPrefix(run, "pnpm") || strings.HasPrefix(run, "yarn") || strings.HasPrefix(run, "bun"):
		return Node
	case strings.Contains(run, "pytest") || run == "tox" || run == "nox" || strings.HasPrefix(run, "tox ") || strings.HasPrefix(run, "nox "):
		return Python
	case strings.HasPrefix(run, "cargo"):
		return Rust
	case strings.Contains(run, "mvn") || strings.Contains(run, "gradle"):
		return Java
	case strings.Contains(run, "rspec") || strings.Contains(run, "rake"):
		return Ruby
	}
	return ""
}

// useCI makes a root stack whose test command is only the ecosystem's
// default take the command its CI runs instead.
func useCI(r *Report) {
	for i := range r.Stacks {
		s := &r.Stacks[i]
		if s.Dir != "." || s.Test == nil || s.Test.Origin != "default" {
			continue
		}
		for _, c := range r.CI {
			if ciLanguage(c.Run) == s.Language {
				run := strings.Replace(c.Run, "./gradlew", "gradle", 1)
				s.Test = &Command{Run: run, Origin: c.Origin, Evidence: c.Evidence}
				break
			}
		}
	}
}

// setupActions maps a setup action to its language and version input.
var setupActions = map[string][2]string{
	"actions/setup-go":                       {Go, "go-version"},
	"actions/setup-node":                     {Node, "node-version"},
	"actions/setup-python":                   {Python, "python-version"},
	"actions/setup-java":                     {Java, "java-version"},
	"ruby/setup-ruby":                        {Ruby, "ruby-version"},
	"dtolnay/rust-toolchain":                 {Rust, "toolchain"},
	"actions-rs/toolchain":                   {Rust, "toolchain"},
	"actions-rust-lang/setup-rust-toolchain": {Rust, "toolchain"},
}

// ciVersions gives stacks that name no version the one their CI sets up.
func ciVersions(t *tree, r *Report) {
	wfs := workflows(t)
	for _, f := range sortedKeys(wfs) {
		data, _ := t.read(f)
		for _, job := range sortedKeys(wfs[f].Jobs) {
			for _, st := range wfs[f].Jobs[job].Steps {
				action, _, _ := strings.Cut(st.Uses, "@")
				sa, ok := setupActions[action]
				if !ok {
					continue
				}
				// The node's text is the version as written: 1.20 stays
				// 1.20, not the number 1.2.
				v := st.With[sa[1]].Value
				if sa[0] == Rust && v == "" && strings.Contains(action, "dtolnay") {
					_, v, _ = strings.Cut(st.Uses, "@")
				}
				if v == "" || strings.Contains(v, "${{") {
					continue
				}
				for i := range r.Stacks {
					if r.Stacks[i].Language == sa[0] && r.Stacks[i].Version == nil {
						r.Stacks[i].Version = &Version{Spec: v, Evidence: find(f, data, sa[1])}
					}
				}
			}
		}
	}
}
