// Package devcontainer finds, parses and resolves devcontainer.json files:
// JSON with comments, variable substitution, defaults and the lifecycle
// command model. It is pure: it never talks to Docker.
package devcontainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tailscale/hujson"
)

// Config is the part of a devcontainer.json that Pitlane understands. The
// same type holds one entry of an image's devcontainer.metadata label and,
// after Merge, the merged result (whose lifecycle lists are filled).
type Config struct {
	Name  string `json:"name,omitempty"`
	Image string `json:"image,omitempty"`
	Build *Build `json:"build,omitempty"`
	// DockerFile is the deprecated top-level spelling of build.dockerfile.
	DockerFile string `json:"dockerFile,omitempty"`
	// Context is the deprecated top-level spelling of build.context.
	Context string `json:"context,omitempty"`

	ContainerEnv        map[string]string `json:"containerEnv,omitempty"`
	RemoteEnv           map[string]string `json:"remoteEnv,omitempty"`
	ContainerUser       string            `json:"containerUser,omitempty"`
	RemoteUser          string            `json:"remoteUser,omitempty"`
	UpdateRemoteUserUID *bool             `json:"updateRemoteUserUID,omitempty"`
	UserEnvProbe        string            `json:"userEnvProbe,omitempty"`
	WorkspaceFolder     string            `json:"workspaceFolder,omitempty"`
	WorkspaceMount      string            `json:"workspaceMount,omitempty"`
	Mounts              []Mount           `json:"mounts,omitempty"`
	RunArgs             []string          `json:"runArgs,omitempty"`
	Privileged          *bool             `json:"privileged,omitempty"`
	CapAdd              []string          `json:"capAdd,omitempty"`
	SecurityOpt         []string          `json:"securityOpt,omitempty"`
	Init                *bool             `json:"init,omitempty"`
	OverrideCommand     *bool             `json:"overrideCommand,omitempty"`
	ShutdownAction      string            `json:"shutdownAction,omitempty"`

	// DockerComposeFile names the Compose files of a Compose config,
	// relative to the devcontainer.json; later files override earlier
	// ones. Service is the workspace's service, RunServices the services
	// started with it (default: all).
	DockerComposeFile StringList `json:"dockerComposeFile,omitempty"`
	Service           string     `json:"service,omitempty"`
	RunServices       []string   `json:"runServices,omitempty"`

	ForwardPorts         []json.RawMessage          `json:"forwardPorts,omitempty"`
	PortsAttributes      map[string]json.RawMessage `json:"portsAttributes,omitempty"`
	OtherPortsAttributes json.RawMessage            `json:"otherPortsAttributes,omitempty"`
	AppPort              json.RawMessage            `json:"appPort,omitempty"`
	Customizations       map[string]json.RawMessage `json:"customizations,omitempty"`
	HostRequirements     *HostRequirements          `json:"hostRequirements,omitempty"`

	// Features maps a feature reference ("./local-folder", or an OCI id)
	// to its options (an object, or a version string).
	Features                    map[string]json.RawMessage `json:"features,omitempty"`
	OverrideFeatureInstallOrder []string                   `json:"overrideFeatureInstallOrder,omitempty"`

	InitializeCommand    *Command `json:"initializeCommand,omitempty"`
	OnCreateCommand      *Command `json:"onCreateCommand,omitempty"`
	UpdateContentCommand *Command `json:"updateContentCommand,omitempty"`
	PostCreateCommand    *Command `json:"postCreateCommand,omitempty"`
	PostStartCommand     *Command `json:"postStartCommand,omitempty"`
	PostAttachCommand    *Command `json:"postAttachCommand,omitempty"`
	WaitFor              string   `json:"waitFor,omitempty"`

	// ID and Entrypoint only appear in image metadata entries written for
	// features.
	ID         string `json:"id,omitempty"`
	Entrypoint string `json:"entrypoint,omitempty"`

	// The fields below are set by Merge: every lifecycle command of the
	// image metadata, the features and the config, in the order they run.
	OnCreateCommands      []Hook   `json:"onCreateCommands,omitempty"`
	UpdateContentCommands []Hook   `json:"updateContentCommands,omitempty"`
	PostCreateCommands    []Hook   `json:"postCreateCommands,omitempty"`
	PostStartCommands     []Hook   `json:"postStartCommands,omitempty"`
	PostAttachCommands    []Hook   `json:"postAttachCommands,omitempty"`
	Entrypoints           []string `json:"entrypoints,omitempty"`
	// MergedCustomizations collects each tool's customizations from every
	// source, in order.
	MergedCustomizations map[string][]json.RawMessage `json:"mergedCustomizations,omitempty"`
}

// Build is the "build" section: an image built from a Dockerfile.
type Build struct {
	Dockerfile string            `json:"dockerfile,omitempty"`
	Context    string            `json:"context,omitempty"`
	Args       map[string]string `json:"args,omitempty"`
	Target     string            `json:"target,omitempty"`
	// Options are extra arguments for the image builder (docker build).
	Options []string `json:"options,omitempty"`
}

// HostRequirements are the minimum host resources a config asks for.
type HostRequirements struct {
	CPUs    int             `json:"cpus,omitempty"`
	Memory  string          `json:"memory,omitempty"`
	Storage string          `json:"storage,omitempty"`
	GPU     json.RawMessage `json:"gpu,omitempty"`
}

// Hook is one lifecycle command of a merged config, with where it came from
// (a feature id, or "devcontainer.json").
type Hook struct {
	Origin  string   `json:"origin,omitempty"`
	Command *Command `json:"command"`
}

// Lifecycle phases, in the order they run.
const (
	PhaseInitialize    = "initializeCommand"
	PhaseOnCreate      = "onCreateCommand"
	PhaseUpdateContent = "updateContentCommand"
	PhasePostCreate    = "postCreateCommand"
	PhasePostStart     = "postStartCommand"
	PhasePostAttach    = "postAttachCommand"
)

// Hooks returns the commands of a lifecycle phase in the order they run:
// the merged list when the config was merged, else the config's own
// command.
func (c *Config) Hooks(phase string) []Hook {
	var list []Hook
	var own *Command
	switch phase {
	case PhaseInitialize:
		own = c.InitializeCommand
	case PhaseOnCreate:
		list, own = c.OnCreateCommands, c.OnCreateCommand
	case PhaseUpdateContent:
		list, own = c.UpdateContentCommands, c.UpdateContentCommand
	case PhasePostCreate:
		list, own = c.PostCreateCommands, c.PostCreateCommand
	case PhasePostStart:
		list, own = c.PostStartCommands, c.PostStartCommand
	case PhasePostAttach:
		list, own = c.PostAttachCommands, c.PostAttachCommand
	}
	if list != nil {
		return list
	}
	if own.Empty() {
		return nil
	}
	return []Hook{{Origin: "devcontainer.json", Command: own}}
}

// Mount is an entry of "mounts": either the Docker --mount string form or
// the object form.
type Mount struct {
	// Spec is the string form, as written (type=bind,source=...,target=...).
	Spec   string `json:"-"`
	Type   string `json:"type,omitempty"`
	Source string `json:"source,omitempty"`
	Target string `json:"target,omitempty"`
}

// UnmarshalJSON accepts the string and object forms.
func (m *Mount) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = Mount{Spec: s}
		return nil
	}
	type plain Mount
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return errors.New("a mount must be a string (type=bind,source=...,target=...) or an object with type, source and target")
	}
	*m = Mount(p)
	return nil
}

// MarshalJSON writes the form the mount was given in.
func (m Mount) MarshalJSON() ([]byte, error) {
	if m.Spec != "" {
		return json.Marshal(m.Spec)
	}
	type plain Mount
	return json.Marshal(plain(m))
}

// TargetPath is the mount's path in the container.
func (m Mount) TargetPath() string {
	if m.Spec == "" {
		return m.Target
	}
	for _, part := range strings.Split(m.Spec, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "target", "destination", "dst":
			return v
		}
	}
	return ""
}

// Command is a lifecycle command in one of the spec's forms: a string run by
// a shell, an array run without one, or an object whose entries (each a
// string or an array) run in parallel.
type Command struct {
	// Shell is the string form, run with /bin/sh -c.
	Shell string
	// Args is the array form, run directly.
	Args []string
	// Parallel is the object form: named commands run at the same time.
	Parallel map[string]*Command
}

// UnmarshalJSON accepts the string, array and object forms.
func (c *Command) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = Command{Shell: s}
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err == nil {
		if a == nil {
			a = []string{}
		}
		*c = Command{Args: a}
		return nil
	}
	var o map[string]json.RawMessage
	if err := json.Unmarshal(b, &o); err == nil && o != nil {
		p := make(map[string]*Command, len(o))
		for k, raw := range o {
			var sub Command
			if err := sub.UnmarshalJSON(raw); err != nil || sub.Parallel != nil {
				return fmt.Errorf("the lifecycle command entry %q must be a string or an array of strings", k)
			}
			p[k] = &sub
		}
		*c = Command{Parallel: p}
		return nil
	}
	return errors.New("a lifecycle command must be a string, an array of strings or an object of those")
}

// MarshalJSON writes the form the command was given in.
func (c Command) MarshalJSON() ([]byte, error) {
	if c.Parallel != nil {
		return json.Marshal(c.Parallel)
	}
	if c.Args != nil {
		return json.Marshal(c.Args)
	}
	return json.Marshal(c.Shell)
}

// Argv returns the process to run for a string or array command; nil for
// the object form (see Entries).
func (c *Command) Argv() []string {
	if c == nil || c.Parallel != nil {
		return nil
	}
	if c.Args != nil {
		if len(c.Args) == 0 {
			return nil
		}
		return c.Args
	}
	if strings.TrimSpace(c.Shell) == "" {
		return nil
	}
	return []string{"/bin/sh", "-c", c.Shell}
}

// Entry is one process of a command: its name (the object key, or empty
// for the string and array forms) and its argv.
type Entry struct {
	Name string
	Argv []string
}

// Entries returns the processes of a command, sorted by name for the object
// form. They run in parallel when there are several.
func (c *Command) Entries() []Entry {
	if c == nil {
		return nil
	}
	if c.Parallel == nil {
		if argv := c.Argv(); argv != nil {
			return []Entry{{Argv: argv}}
		}
		return nil
	}
	keys := make([]string, 0, len(c.Parallel))
	for k := range c.Parallel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Entry
	for _, k := range keys {
		if argv := c.Parallel[k].Argv(); argv != nil {
			out = append(out, Entry{Name: k, Argv: argv})
		}
	}
	return out
}

// Empty reports whether there is nothing to run.
func (c *Command) Empty() bool { return len(c.Entries()) == 0 }

// SyntaxError is a devcontainer.json that cannot be read, with the position
// of the problem.
type SyntaxError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

var hujsonPos = regexp.MustCompile(`line (\d+), column (\d+): (.*)$`)

// Parse reads a devcontainer.json from data. file names it in errors.
// Comments and trailing commas are accepted; anything else that is not JSON,
// or a value of the wrong type, is a *SyntaxError.
func Parse(file string, data []byte) (*Config, error) {
	v, err := hujson.Parse(data)
	if err != nil {
		se := &SyntaxError{File: file, Line: 1, Column: 1, Msg: err.Error()}
		if m := hujsonPos.FindStringSubmatch(err.Error()); m != nil {
			se.Line, _ = strconv.Atoi(m[1])
			se.Column, _ = strconv.Atoi(m[2])
			se.Msg = m[3]
		}
		return nil, se
	}
	// Standardize keeps every byte offset: comments and trailing commas
	// become spaces, so decoder offsets point into the original text.
	v.Standardize()
	std := v.Pack()
	if t := bytes.TrimSpace(std); len(t) == 0 || t[0] != '{' {
		return nil, &SyntaxError{File: file, Line: 1, Column: 1, Msg: "the file must hold a JSON object"}
	}
	var cfg Config
	if err := json.Unmarshal(std, &cfg); err != nil {
		se := &SyntaxError{File: file, Line: 1, Column: 1, Msg: err.Error()}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			se.Line, se.Column = position(data, int(te.Offset))
			se.Msg = fmt.Sprintf("%q must not be a %s", te.Field, te.Value)
		} else if msg := err.Error(); strings.Contains(msg, "lifecycle command") || strings.Contains(msg, "a mount must") {
			se.Msg = msg
		} else if fe := (*fieldError)(nil); errors.As(err, &fe) {
			se.Line, se.Column = position(data, memberOffset(v, fe.field))
			se.Msg = fe.Error()
		}
		return nil, se
	}
	return &cfg, nil
}

func parseHuJSON(data []byte) ([]byte, error) {
	v, err := hujson.Parse(data)
	if err != nil {
		return nil, err
	}
	v.Standardize()
	return v.Pack(), nil
}

// Load reads and parses the devcontainer.json at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, off int) (line, col int) {
	if off > len(data) {
		off = len(data)
	}
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// Find returns the devcontainer.json files of the source tree at root, as
// paths relative to root, in the order the specification looks for them:
// .devcontainer/devcontainer.json, .devcontainer.json, then
// .devcontainer/<folder>/devcontainer.json sorted by folder.
func Find(root string) ([]string, error) {
	var found []string
	for _, p := range []string{filepath.Join(".devcontainer", "devcontainer.json"), ".devcontainer.json"} {
		if fileExists(filepath.Join(root, p)) {
			found = append(found, p)
		}
	}
	entries, err := os.ReadDir(filepath.Join(root, ".devcontainer"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var sub []string
	for _, e := range entries {
		p := filepath.Join(".devcontainer", e.Name(), "devcontainer.json")
		if e.IsDir() && fileExists(filepath.Join(root, p)) {
			sub = append(sub, p)
		}
	}
	sort.Strings(sub)
	return append(found, sub...), nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
