package generate

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/pitlane/pitlane/internal/detect"
	"github.com/pitlane/pitlane/internal/devcontainer"
)

// Finding is one difference between a repository and its config.
type Finding struct {
	// Kind is "toolchain" (a version the config does not meet), "stack" (a
	// language the config does not install), "lockfile" (a new lock file or
	// package manager), "service" (a new service) or "test" (a test command
	// that no longer exists or changed).
	Kind string `json:"kind"`
	// File is the repository file that shows the drift; Line is 1-based.
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	// Message says what differs; Fix says what to do.
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// PitlaneCustomizations is customizations.pitlane of a devcontainer.json.
type PitlaneCustomizations struct {
	// Test is the test command `pitlane test` runs.
	Test string `json:"test,omitempty"`
	// Detected is what a generated config was made from.
	Detected *Record `json:"detected,omitempty"`
}

// Customizations reads customizations.pitlane of a config (the last entry
// wins in a merged config).
func Customizations(cfg *devcontainer.Config) PitlaneCustomizations {
	var out PitlaneCustomizations
	if cfg == nil {
		return out
	}
	if raw, ok := cfg.Customizations["pitlane"]; ok {
		_ = json.Unmarshal(raw, &out)
	}
	for _, raw := range cfg.MergedCustomizations["pitlane"] {
		var c PitlaneCustomizations
		if json.Unmarshal(raw, &c) == nil {
			if c.Test != "" {
				out.Test = c.Test
			}
			if c.Detected != nil {
				out.Detected = c.Detected
			}
		}
	}
	return out
}

// DriftInput is a config to check: the parsed devcontainer.json, its
// text and the Dockerfile it builds (if any), for configs written by hand.
type DriftInput struct {
	Config     *devcontainer.Config
	ConfigText string
	Dockerfile string
	// ConfigFile names the config in messages.
	ConfigFile string
	// Regenerate is the fix for a generated config ("pitlane rebuild app").
	Regenerate string
}

// Drift compares what a repository contains now with the config it has.
func Drift(rep *detect.Report, in DriftInput) []Finding {
	c := Customizations(in.Config)
	if c.Detected != nil {
		return recordDrift(rep, *c.Detected, in)
	}
	return handDrift(rep, in)
}

// recordDrift compares a generated config's record with the repository.
func recordDrift(rep *detect.Report, rec Record, in DriftInput) []Finding {
	fix := in.Regenerate
	if fix == "" {
		fix = "regenerate the config: `pitlane config . --generate --write`"
	}
	var out []Finding
	add := func(kind string, ev detect.Evidence, msg string) {
		out = append(out, Finding{Kind: kind, File: ev.File, Line: ev.Line, Message: msg, Fix: fix})
	}
	for _, lang := range languageOrder {
		var stacks []detect.Stack
		for _, s := range rep.Stacks {
			if s.Language == lang {
				stacks = append(stacks, s)
			}
		}
		if len(stacks) == 0 {
			continue
		}
		var tc *RecordToolchain
		for i := range rec.Toolchains {
			if rec.Toolchains[i].Language == lang {
				tc = &rec.Toolchains[i]
			}
		}
		if tc == nil {
			add("stack", stacks[0].Evidence, fmt.Sprintf("%s is a %s project, and %s installs no %s", stacks[0].Evidence.File, languageNames[lang], in.ConfigFile, languageNames[lang]))
			continue
		}
		for _, s := range stacks {
			if s.Version == nil || s.Version.Spec == tc.Asked {
				continue
			}
			if newer, need := needsNewer(lang, s.Version.Spec, tc.Installed); newer {
				add("toolchain", s.Version.Evidence, fmt.Sprintf("%s asks for %s %s, newer than the %s %s installs", s.Version.Evidence.File, languageNames[lang], need, tc.Installed, in.ConfigFile))
			}
		}
	}
	for _, s := range rep.Stacks {
		if !recordHas(rec, s.Language) {
			continue // reported as a new stack above
		}
		for _, t := range s.Tools {
			known := false
			for _, rt := range rec.Tools {
				if rt.Dir == s.Dir && rt.Name == t.Name && (t.Lockfile == "" || rt.Lockfile == t.Lockfile) {
					known = true
				}
			}
			if known {
				continue
			}
			ev := t.Evidence
			msg := fmt.Sprintf("%s uses %s, which %s does not set up", s.Evidence.File, t.Name, in.ConfigFile)
			if t.Lockfile != "" {
				msg = fmt.Sprintf("%s is new: the project uses %s, which %s does not set up", t.Lockfile, t.Name, in.ConfigFile)
				for _, rt := range rec.Tools {
					if rt.Dir == s.Dir && rt.Name != t.Name && sameLanguageTool(rt.Name, t.Name) {
						msg = fmt.Sprintf("%s is new: the project moved from %s to %s, and %s sets up %s", t.Lockfile, rt.Name, t.Name, in.ConfigFile, rt.Name)
					}
				}
			}
			add("lockfile", ev, msg)
		}
	}
	for _, s := range rep.Services {
		if !contains(rec.Services, s.Name) {
			name := serviceNames[s.Name]
			if name == "" {
				name = s.Name
			}
			add("service", s.Evidence, fmt.Sprintf("%s names %s, a service %s does not run", s.Evidence.File, name, in.ConfigFile))
		}
	}
	if rec.Test != nil {
		run, ev, ok := rep.TestCommand()
		switch {
		case !ok:
			add("test", detect.Evidence{File: rec.Test.File}, fmt.Sprintf("the test command `%s` (%s) no longer exists, and the repository names no other", rec.Test.Run, rec.Test.File))
		case run != rec.Test.Run:
			e := ev[0]
			msg := fmt.Sprintf("the test command is now `%s` (%s); %s runs `%s`", run, e.File, in.ConfigFile, rec.Test.Run)
			if gone := testGone(rec.Test, rep); gone != "" {
				msg = gone + fmt.Sprintf("; the repository now says `%s` (%s)", run, e.File)
			}
			add("test", e, msg)
		}
	}
	return out
}

func recordHas(rec Record, lang string) bool {
	for _, tc := range rec.Toolchains {
		if tc.Language == lang {
			return true
		}
	}
	return false
}

// testGone says why a recorded test command is no longer there, if the
// report shows it.
func testGone(t *RecordTest, rep *detect.Report) string {
	if t.Origin == "Makefile" && strings.HasPrefix(t.Run, "make ") {
		return fmt.Sprintf("%s no longer has a `%s` target", t.File, strings.TrimPrefix(t.Run, "make "))
	}
	if t.Origin == "package.json" {
		return fmt.Sprintf("%s no longer has a test script", t.File)
	}
	return ""
}

func sameLanguageTool(a, b string) bool {
	groups := [][]string{{"npm", "pnpm", "yarn", "bun"}, {"pip", "poetry", "uv", "pipenv", "pdm"}, {"maven", "gradle"}}
	for _, g := range groups {
		if contains(g, a) && contains(g, b) {
			return true
		}
	}
	return false
}

// needsNewer says whether the version spec asks for more than installed
// provides, and the version it needs.
func needsNewer(lang, spec, installed string) (bool, string) {
	if lang == detect.Node {
		spec, _ = nodeSpec(spec)
	}
	if lang == detect.Java {
		spec = strings.TrimPrefix(spec, "1.")
	}
	need, ok := minimum(spec)
	if !ok {
		return false, ""
	}
	have, ok := minimum(installed)
	if !ok {
		return false, ""
	}
	asked := need.String()
	// Compare only as many parts as both name: "20" asked is met by
	// 20.5, and "20" installed (the newest 20.x) meets 20.11.0.
	if need.minor < 0 || have.minor < 0 {
		have.minor, have.patch, need.minor, need.patch = -1, -1, -1, -1
	} else if need.patch < 0 || have.patch < 0 {
		have.patch, need.patch = -1, -1
	}
	if have.less(need) {
		return true, asked
	}
	return false, ""
}

// languageImages are image repositories (or feature names) by language.
var languageImages = map[string][]string{
	detect.Go:     {"golang", "go"},
	detect.Node:   {"node", "javascript-node", "typescript-node"},
	detect.Python: {"python"},
	detect.Rust:   {"rust"},
	detect.Java:   {"java", "openjdk", "eclipse-temurin", "amazoncorretto", "maven", "gradle"},
	detect.Ruby:   {"ruby"},
}

// languageWords show a language is installed somewhere in a config or
// Dockerfile written by hand.
var languageWords = map[string][]string{
	detect.Go:     {"golang", "go1.", "/go/bin", "gotoolchain", "features/go"},
	detect.Node:   {"node", "nvm"},
	detect.Python: {"python"},
	detect.Rust:   {"rust", "cargo"},
	detect.Java:   {"jdk", "java", "temurin", "corretto"},
	detect.Ruby:   {"ruby"},
}

var imageRef = regexp.MustCompile(`(?i)(?:^|\s|")(?:FROM\s+)?([a-z0-9.\-/]+/)?([a-z0-9\-]+):([A-Za-z0-9.\-]+)`)

// handDrift checks a config written by hand: each language the repository
// uses must appear in it, at a version at least the one asked where the
// config names one (an image tag or a feature's version).
func handDrift(rep *detect.Report, in DriftInput) []Finding {
	var out []Finding
	text := strings.ToLower(in.ConfigText + "\n" + in.Dockerfile)
	if strings.Contains(text, "devcontainers/universal") {
		return nil // the universal image has every language
	}
	seen := map[string]bool{}
	for _, s := range rep.Stacks {
		if seen[s.Language] {
			continue
		}
		seen[s.Language] = true
		have := configVersion(s.Language, in)
		mentioned := have != ""
		for _, w := range languageWords[s.Language] {
			if strings.Contains(text, w) {
				mentioned = true
			}
		}
		if !mentioned {
			out = append(out, Finding{Kind: "stack", File: s.Evidence.File, Line: s.Evidence.Line,
				Message: fmt.Sprintf("%s is a %s project, and %s installs no %s", s.Evidence.File, languageNames[s.Language], in.ConfigFile, languageNames[s.Language]),
				Fix:     fmt.Sprintf("add %s to %s (an image or feature), or compare with `pitlane config . --generate`", languageNames[s.Language], in.ConfigFile)})
			continue
		}
		if s.Version == nil || have == "" {
			continue
		}
		if newer, need := needsNewer(s.Language, s.Version.Spec, have); newer {
			out = append(out, Finding{Kind: "toolchain", File: s.Version.Evidence.File, Line: s.Version.Evidence.Line,
				Message: fmt.Sprintf("%s asks for %s %s, newer than the %s %s installs", s.Version.Evidence.File, languageNames[s.Language], need, have, in.ConfigFile),
				Fix:     fmt.Sprintf("raise %s in %s to %s or later", languageNames[s.Language], in.ConfigFile, need)})
		}
	}
	return out
}

// configVersion finds the version of a language a hand-written config
// installs: a feature's "version" option or an image tag.
func configVersion(lang string, in DriftInput) string {
	if in.Config != nil {
		for ref, raw := range in.Config.Features {
			name := ref
			if i := strings.LastIndex(name, "/"); i >= 0 {
				name = name[i+1:]
			}
			name, _, _ = strings.Cut(name, ":")
			if !contains(languageImages[lang], name) {
				continue
			}
			var opts map[string]any
			if json.Unmarshal(raw, &opts) == nil {
				if v, ok := opts["version"].(string); ok && v != "" && v != "latest" && v != "lts" {
					return v
				}
			}
		}
	}
	for _, text := range []string{in.Dockerfile, in.ConfigText} {
		for _, m := range imageRef.FindAllStringSubmatch(text, -1) {
			if !contains(languageImages[lang], strings.ToLower(m[2])) {
				continue
			}
			tag := m[3]
			if dm := regexp.MustCompile(`^\d+-(\d+(?:\.\d+)*)`).FindStringSubmatch(tag); dm != nil {
				tag = dm[1] // devcontainers images: 1-1.22-bookworm
			}
			if _, ok := parseVersion(tag); ok {
				return leadingVersion.FindString(tag)
			}
		}
	}
	return ""
}
