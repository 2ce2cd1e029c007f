package devcontainer

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/tailscale/hujson"
)

// StringList is a property written as a string or an array of strings.
type StringList []string

// UnmarshalJSON accepts a string or an array of strings.
func (l *StringList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = StringList{s}
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err == nil {
		*l = a
		return nil
	}
	return &fieldError{field: "dockerComposeFile", msg: "must be a string or an array of strings"}
}

// fieldError is a top-level property with a value of the wrong shape.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return fmt.Sprintf("%q %s", e.field, e.msg) }

// memberOffset is the byte offset of the top-level member name, or 0.
func memberOffset(v hujson.Value, name string) int {
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		return 0
	}
	for _, m := range obj.Members {
		if lit, ok := m.Name.Value.(hujson.Literal); ok && lit.String() == name {
			return m.Value.StartOffset
		}
	}
	return 0
}

// Shutdown actions of a Compose config.
const (
	ShutdownStopCompose   = "stopCompose"
	ShutdownStopContainer = "stopContainer"
	ShutdownNone          = "none"
)

// IsCompose reports whether the config describes a Compose project.
func (c *Config) IsCompose() bool { return len(c.DockerComposeFile) > 0 }

// ComposeSpec is a Compose config's project, resolved.
type ComposeSpec struct {
	// Files are absolute, in the order they are given.
	Files []string
	// Service is the workspace's service; RunServices the services
	// started (empty for all of them).
	Service     string
	RunServices []string
	// StopCompose is whether stopping the workspace stops the whole
	// project (shutdownAction stopCompose, the default) or nothing
	// (none): the workspace container is stopped either way.
	StopCompose bool
}

// ComposeSpec resolves the Compose properties against configDir, the
// folder of the config file. It returns nil for a config that is not a
// Compose config.
func (c *Config) ComposeSpec(configDir string) (*ComposeSpec, error) {
	if !c.IsCompose() {
		return nil, nil
	}
	if c.Service == "" {
		return nil, fmt.Errorf("the config names Compose files (dockerComposeFile) but no service: set \"service\" to the service the workspace runs in")
	}
	spec := &ComposeSpec{Service: c.Service, RunServices: c.RunServices, StopCompose: true}
	for _, f := range c.DockerComposeFile {
		if f == "" {
			return nil, fmt.Errorf("dockerComposeFile holds an empty file name")
		}
		if !filepath.IsAbs(f) {
			f = filepath.Join(configDir, f)
		}
		spec.Files = append(spec.Files, filepath.Clean(f))
	}
	switch c.ShutdownAction {
	case "", ShutdownStopCompose:
	case ShutdownNone:
		spec.StopCompose = false
	default:
		return nil, fmt.Errorf("shutdownAction %q does not apply to a Compose config: use %q (the default) or %q", c.ShutdownAction, ShutdownStopCompose, ShutdownNone)
	}
	if c.Image != "" || c.Build != nil || c.DockerFile != "" {
		return nil, fmt.Errorf("the config names both Compose files (dockerComposeFile) and an image or a build: the image comes from the Compose service %s, so remove image and build", c.Service)
	}
	return spec, nil
}
