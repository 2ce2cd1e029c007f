package detect

import (
	"strings"

	"github.com/BurntSushi/toml"
)

// detectRust finds a Cargo project: its toolchain from
// rust-toolchain(.toml), else Cargo.toml's rust-version.
func detectRust(t *tree, dir string) *Stack {
	rel := join(dir, "Cargo.toml")
	data, ok := t.read(rel)
	if !ok {
		return nil
	}
	var ct struct {
		Package struct {
			RustVersion any `toml:"rust-version"`
		} `toml:"package"`
		Workspace *struct {
			Members []string `toml:"members"`
		} `toml:"workspace"`
		Dependencies    map[string]any `toml:"dependencies"`
		DevDependencies map[string]any `toml:"dev-dependencies"`
	}
	_, _ = toml.Decode(string(data), &ct)
	s := &Stack{Language: Rust, Dir: dir, Evidence: Evidence{File: rel}, covers: ct.Workspace != nil}
	for d := dir; ; d = parentDir(d) {
		if v := rustToolchain(t, d); v != nil {
			s.Version = v
			break
		}
		if d == "." {
			break
		}
	}
	if s.Version == nil {
		if rv, ok := ct.Package.RustVersion.(string); ok && rv != "" {
			s.Version = &Version{Spec: rv, Evidence: find(rel, data, "rust-version")}
		}
	}
	for k := range ct.Dependencies {
		s.Deps = append(s.Deps, k)
	}
	for k := range ct.DevDependencies {
		s.Deps = append(s.Deps, k)
	}
	tool := Tool{Name: "cargo", Evidence: Evidence{File: rel}}
	if t.exists(join(dir, "Cargo.lock")) {
		tool.Lockfile = join(dir, "Cargo.lock")
		tool.Evidence = Evidence{File: tool.Lockfile}
	}
	s.Tools = []Tool{tool}
	if len(ct.Dependencies)+len(ct.DevDependencies) > 0 || ct.Workspace != nil {
		s.Install = &Command{Run: "cargo fetch", Origin: "default", Evidence: tool.Evidence}
	}
	s.Test = testFor(t, dir, &Command{Run: "cargo test", Origin: "default", Evidence: s.Evidence})
	return s
}

// rustToolchain reads rust-toolchain.toml ([toolchain] channel) or the
// older one-line rust-toolchain file.
func rustToolchain(t *tree, dir string) *Version {
	rel := join(dir, "rust-toolchain.toml")
	if data, ok := t.read(rel); ok {
		var rt struct {
			Toolchain struct {
				Channel string `toml:"channel"`
			} `toml:"toolchain"`
		}
		if _, err := toml.Decode(string(data), &rt); err == nil && rt.Toolchain.Channel != "" {
			return &Version{Spec: rt.Toolchain.Channel, Evidence: find(rel, data, "channel")}
		}
	}
	rel = join(dir, "rust-toolchain")
	if data, ok := t.read(rel); ok {
		if strings.Contains(string(data), "[toolchain]") {
			var rt struct {
				Toolchain struct {
					Channel string `toml:"channel"`
				} `toml:"toolchain"`
			}
			if _, err := toml.Decode(string(data), &rt); err == nil && rt.Toolchain.Channel != "" {
				return &Version{Spec: rt.Toolchain.Channel, Evidence: find(rel, data, "channel")}
			}
			return nil
		}
		return versionFile(t, rel)
	}
	return nil
}
