package devcontainer

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Feature is a dev container feature to install into the image: a folder
// with devcontainer-feature.json and install.sh.
type Feature struct {
	// Ref is how the config names the feature ("./my-feature").
	Ref string
	// Dir is the feature's folder on the host.
	Dir string
	// Meta is devcontainer-feature.json: the properties a feature adds to
	// the container (containerEnv, mounts, lifecycle commands, ...) use the
	// same names as a config.
	Meta *Config
	// Version, Options, DependsOn and InstallsAfter come from
	// devcontainer-feature.json.
	Version       string
	Options       map[string]FeatureOption
	DependsOn     map[string]json.RawMessage
	InstallsAfter []string
	// Values are the option values after defaults, as the install script's
	// environment (NAME=value, NAME as the specification derives it).
	Values []string
}

// FeatureOption is one option a feature declares.
type FeatureOption struct {
	Type    string          `json:"type"`
	Default json.RawMessage `json:"default"`
}

type featureFile struct {
	ID            string                     `json:"id"`
	Version       string                     `json:"version"`
	Options       map[string]FeatureOption   `json:"options"`
	DependsOn     map[string]json.RawMessage `json:"dependsOn"`
	InstallsAfter []string                   `json:"installsAfter"`
}

// IsLocalFeature reports whether ref names a folder beside the config
// ("./x" or "../x") rather than a feature in a registry.
func IsLocalFeature(ref string) bool {
	return strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../")
}

// FetchFeature returns the folder of a feature that a registry holds,
// fetching it when needed; FeatureFetcher.Fetch is one.
type FetchFeature func(ctx context.Context, ref string) (dir string, err error)

// LoadFeatures reads the features a config asks for. configDir is the
// folder of the devcontainer.json, against which local references resolve;
// fetch brings features named by registry reference (nil refuses them).
func LoadFeatures(ctx context.Context, cfg *Config, configDir string, fetch FetchFeature) ([]*Feature, error) {
	refs := make([]string, 0, len(cfg.Features))
	for ref := range cfg.Features {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	var out []*Feature
	for _, ref := range refs {
		f, err := loadAnyFeature(ctx, ref, configDir, cfg.Features[ref], fetch)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	// A feature's dependsOn may name registry features the config does
	// not list: they are fetched too, with the options dependsOn gives.
	for i := 0; i < len(out); i++ {
		deps := make([]string, 0, len(out[i].DependsOn))
		for d := range out[i].DependsOn {
			deps = append(deps, d)
		}
		sort.Strings(deps)
		for _, d := range deps {
			if IsLocalFeature(d) || findFeature(out, d) != nil {
				continue
			}
			f, err := loadAnyFeature(ctx, d, configDir, out[i].DependsOn[d], fetch)
			if err != nil {
				return nil, fmt.Errorf("feature %q depends on it: %w", out[i].Ref, err)
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// loadAnyFeature loads a local feature from its folder or a registry
// feature through fetch.
func loadAnyFeature(ctx context.Context, ref, configDir string, given json.RawMessage, fetch FetchFeature) (*Feature, error) {
	dir := filepath.Join(configDir, filepath.FromSlash(ref))
	if !IsLocalFeature(ref) {
		if _, err := ParseFeatureRef(ref); err != nil {
			return nil, err
		}
		if fetch == nil {
			return nil, fmt.Errorf("feature %q: features from registries cannot be fetched here", ref)
		}
		var err error
		if dir, err = fetch(ctx, ref); err != nil {
			return nil, err
		}
	}
	return loadFeature(ref, dir, given)
}

func loadFeature(ref, dir string, given json.RawMessage) (*Feature, error) {
	file := filepath.Join(dir, "devcontainer-feature.json")
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("feature %q: %w (a feature folder holds devcontainer-feature.json and install.sh)", ref, err)
	}
	meta, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	var ff featureFile
	if err := json.Unmarshal(standardize(data), &ff); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if ff.ID == "" {
		return nil, fmt.Errorf("%s: the feature has no \"id\"", file)
	}
	if _, err := os.Stat(filepath.Join(dir, "install.sh")); err != nil {
		return nil, fmt.Errorf("feature %q has no install.sh in %s", ref, dir)
	}
	meta.ID = ff.ID
	f := &Feature{Ref: ref, Dir: dir, Meta: meta, Version: ff.Version, Options: ff.Options, DependsOn: ff.DependsOn, InstallsAfter: ff.InstallsAfter}
	chosen := map[string]json.RawMessage{}
	if len(given) > 0 {
		var s string
		if json.Unmarshal(given, &s) == nil {
			chosen["version"] = given
		} else if err := json.Unmarshal(given, &chosen); err != nil {
			return nil, fmt.Errorf("feature %q: its options must be an object (or a version string)", ref)
		}
	}
	names := make(map[string]bool)
	for k := range ff.Options {
		names[k] = true
	}
	for k := range chosen {
		names[k] = true
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		raw, ok := chosen[k]
		if !ok {
			raw = ff.Options[k].Default
		}
		if len(raw) == 0 {
			continue
		}
		f.Values = append(f.Values, OptionEnvName(k)+"="+optionValue(raw))
	}
	return f, nil
}

// standardize strips comments and trailing commas from JSONC.
func standardize(data []byte) []byte {
	v, err := parseHuJSON(data)
	if err != nil {
		return data
	}
	return v
}

func optionValue(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return strconv.FormatBool(b)
	}
	return strings.TrimSpace(string(raw))
}

var (
	nonWord       = regexp.MustCompile(`[^\w_]`)
	leadingDigits = regexp.MustCompile(`^[\d_]+`)
)

// OptionEnvName is the environment variable an option becomes in the
// install script, as the specification defines it: characters other than
// letters, digits and '_' become '_', leading digits and underscores
// collapse into one '_', and the result is upper case.
func OptionEnvName(option string) string {
	s := nonWord.ReplaceAllString(option, "_")
	s = leadingDigits.ReplaceAllString(s, "_")
	return strings.ToUpper(s)
}

// featureKey is how dependsOn, installsAfter and
// overrideFeatureInstallOrder name a feature: its reference, or its id.
func (f *Feature) matches(name string) bool {
	name = strings.TrimSuffix(name, "/")
	if name == f.Ref || name == f.Meta.ID {
		return true
	}
	// A registry reference without its version tag names the same id.
	base := name
	if i := strings.LastIndex(base, "/"); i >= 0 {
		base = base[i+1:]
	}
	if j := strings.IndexAny(base, ":@"); j >= 0 {
		base = base[:j]
	}
	return !IsLocalFeature(name) && base == f.Meta.ID
}

func findFeature(fs []*Feature, name string) *Feature {
	for _, f := range fs {
		if f.matches(name) {
			return f
		}
	}
	return nil
}

// OrderFeatures returns the features in the order they install: a feature
// comes after those it dependsOn (which must be present) and after those
// of its installsAfter that are present. Among the features free to go
// next, those named in override (overrideFeatureInstallOrder) go first, in
// its order; the rest by reference. A cycle is an error that names the
// features in it.
func OrderFeatures(fs []*Feature, override []string) ([]*Feature, error) {
	after := make(map[*Feature][]*Feature, len(fs))
	for _, f := range fs {
		deps := make([]string, 0, len(f.DependsOn))
		for d := range f.DependsOn {
			deps = append(deps, d)
		}
		sort.Strings(deps)
		for _, d := range deps {
			g := findFeature(fs, d)
			if g == nil {
				return nil, fmt.Errorf("feature %q depends on %q, which the config does not list: add it to \"features\"", f.Ref, d)
			}
			if g != f {
				after[f] = append(after[f], g)
			}
		}
		for _, d := range f.InstallsAfter {
			if g := findFeature(fs, d); g != nil && g != f {
				after[f] = append(after[f], g)
			}
		}
	}
	priority := func(f *Feature) int {
		for i, name := range override {
			if f.matches(name) {
				return len(override) - i
			}
		}
		return 0
	}
	for _, name := range override {
		if findFeature(fs, name) == nil {
			return nil, fmt.Errorf("overrideFeatureInstallOrder names %q, which is not among the features", name)
		}
	}
	done := make(map[*Feature]bool, len(fs))
	var out []*Feature
	for len(out) < len(fs) {
		var ready []*Feature
		for _, f := range fs {
			if done[f] {
				continue
			}
			ok := true
			for _, g := range after[f] {
				if !done[g] {
					ok = false
					break
				}
			}
			if ok {
				ready = append(ready, f)
			}
		}
		if len(ready) == 0 {
			var stuck []string
			for _, f := range fs {
				if !done[f] {
					stuck = append(stuck, f.Ref)
				}
			}
			return nil, fmt.Errorf("the features %s depend on each other in a cycle (dependsOn/installsAfter): break the cycle", strings.Join(stuck, ", "))
		}
		top := 0
		for _, f := range ready {
			top = max(top, priority(f))
		}
		var round []*Feature
		for _, f := range ready {
			if priority(f) == top {
				round = append(round, f)
			}
		}
		sort.SliceStable(round, func(i, j int) bool { return round[i].Ref < round[j].Ref })
		for _, f := range round {
			done[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}
