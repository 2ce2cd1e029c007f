package devcontainer

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Vars are the values that ${...} references in a devcontainer.json resolve
// to. Host-side values are known before the container exists;
// ContainerEnv only once it runs.
type Vars struct {
	// LocalWorkspaceFolder is the source folder on the host.
	LocalWorkspaceFolder string
	// ContainerWorkspaceFolder is the workspace folder in the container.
	ContainerWorkspaceFolder string
	// DevcontainerID is stable for a workspace across rebuilds.
	DevcontainerID string
	// LookupEnv reads the host environment; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// ContainerEnv is the environment of the running container. While it
	// is nil, ${containerEnv:...} stays as written.
	ContainerEnv map[string]string
	// ContainerOnly substitutes ${containerEnv:...} alone, leaving every
	// other reference as written (the second pass, once the container
	// exists).
	ContainerOnly bool
	// KeepLocalEnv leaves ${localEnv:...} as written: the form of a
	// configuration that may be stored where others can read it.
	KeepLocalEnv bool
}

// HasLocalEnv reports whether s refers to the host's environment.
func HasLocalEnv(s string) bool {
	return strings.Contains(s, "${localEnv:") || strings.Contains(s, "${env:")
}

var varRE = regexp.MustCompile(`\$\{([^}]*)\}`)

// Substitute replaces the variables it knows in s. Unknown variables stay
// as written. ${localEnv:NAME:default} and ${containerEnv:NAME:default}
// give default (everything after the second colon) when NAME is unset.
func (v Vars) Substitute(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	lookup := v.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return varRE.ReplaceAllStringFunc(s, func(m string) string {
		inner := m[2 : len(m)-1]
		kind, arg, hasArg := strings.Cut(inner, ":")
		if v.ContainerOnly && kind != "containerEnv" {
			return m
		}
		switch kind {
		case "localEnv", "env":
			if !hasArg || v.KeepLocalEnv {
				return m
			}
			name, def, _ := strings.Cut(arg, ":")
			if val, ok := lookup(name); ok {
				return val
			}
			return def
		case "containerEnv":
			if !hasArg || v.ContainerEnv == nil {
				return m
			}
			name, def, _ := strings.Cut(arg, ":")
			if val, ok := v.ContainerEnv[name]; ok {
				return val
			}
			return def
		case "localWorkspaceFolder":
			return v.LocalWorkspaceFolder
		case "localWorkspaceFolderBasename":
			return filepath.Base(v.LocalWorkspaceFolder)
		case "containerWorkspaceFolder":
			return v.ContainerWorkspaceFolder
		case "containerWorkspaceFolderBasename":
			return path.Base(v.ContainerWorkspaceFolder)
		case "devcontainerId":
			return v.DevcontainerID
		}
		return m
	})
}

// EnvMap turns KEY=VALUE entries into a map; later entries win.
func EnvMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// SubstituteConfig returns a copy of cfg with Substitute applied to every
// string value.
func (v Vars) SubstituteConfig(cfg *Config) (*Config, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return nil, err
	}
	tree = v.walk(tree)
	b, err = json.Marshal(tree)
	if err != nil {
		return nil, err
	}
	var out Config
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (v Vars) walk(x any) any {
	switch t := x.(type) {
	case string:
		return v.Substitute(t)
	case []any:
		for i := range t {
			t[i] = v.walk(t[i])
		}
	case map[string]any:
		for k, e := range t {
			t[k] = v.walk(e)
		}
	}
	return x
}

// DefaultWorkspaceFolder is where a source is mounted in the container when
// the config does not say: /workspaces/<basename of the local folder>.
func DefaultWorkspaceFolder(localFolder string) string {
	return path.Join("/workspaces", filepath.Base(localFolder))
}

// Ports returns the container ports of forwardPorts that are plain numbers
// or "host:port" strings whose host is localhost.
func (c *Config) Ports() []int {
	var ports []int
	for _, raw := range c.ForwardPorts {
		var n int
		if err := json.Unmarshal(raw, &n); err == nil {
			ports = append(ports, n)
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			_, p, ok := strings.Cut(s, ":")
			if !ok {
				p = s
			}
			if n, err := strconv.Atoi(p); err == nil {
				ports = append(ports, n)
			}
		}
	}
	return ports
}

// BuildSpec is a resolved image build: absolute paths and the arguments to
// pass to the builder.
type BuildSpec struct {
	// Context is the absolute build context folder.
	Context string
	// Dockerfile is the Dockerfile path relative to Context when it lies
	// inside it, else absolute.
	Dockerfile string
	Args       map[string]string
	Target     string
}

// BuildSpec resolves the build section (or the deprecated top-level
// dockerFile/context) against configDir, the folder of the config file.
// It returns nil when the config names an image instead.
func (c *Config) BuildSpec(configDir string) (*BuildSpec, error) {
	dockerfile, context := c.DockerFile, c.Context
	var args map[string]string
	var target string
	if c.Build != nil {
		if c.Build.Dockerfile != "" {
			dockerfile = c.Build.Dockerfile
		}
		if c.Build.Context != "" {
			context = c.Build.Context
		}
		args, target = c.Build.Args, c.Build.Target
	}
	if dockerfile == "" {
		if c.Image == "" {
			return nil, fmt.Errorf("the config names neither an image nor a build.dockerfile: add one of them")
		}
		return nil, nil
	}
	if context == "" {
		context = "."
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(configDir, p)
	}
	spec := &BuildSpec{Context: abs(context), Dockerfile: abs(dockerfile), Args: args, Target: target}
	if rel, err := filepath.Rel(spec.Context, spec.Dockerfile); err == nil && !strings.HasPrefix(rel, "..") {
		spec.Dockerfile = filepath.ToSlash(rel)
	}
	return spec, nil
}

// AllPorts returns the container ports of forwardPorts followed by those
// of appPort (a number, a "host:container" string, or a list of those),
// without repeats.
func (c *Config) AllPorts() []int {
	ports := c.Ports()
	var app []json.RawMessage
	if len(c.AppPort) > 0 {
		if err := json.Unmarshal(c.AppPort, &app); err != nil {
			app = []json.RawMessage{c.AppPort}
		}
	}
	for _, p := range (&Config{ForwardPorts: app}).Ports() {
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports
}
