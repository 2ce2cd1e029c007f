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

// Config is the part of a devcontainer.json that Pitlane understands.
type Config struct {
	Name  string `json:"name,omitempty"`
	Image string `json:"image,omitempty"`
	Build *Build `json:"build,omitempty"`
	// DockerFile is the deprecated top-level spelling of build.dockerfile.
	DockerFile string `json:"dockerFile,omitempty"`
	// Context is the deprecated top-level spelling of build.context.
	Context string `json:"context,omitempty"`

	ContainerEnv    map[string]string `json:"containerEnv,omitempty"`
	RemoteEnv       map[string]string `json:"remoteEnv,omitempty"`
	ContainerUser   string            `json:"containerUser,omitempty"`
	RemoteUser      string            `json:"remoteUser,omitempty"`
	WorkspaceFolder string            `json:"workspaceFolder,omitempty"`
	WorkspaceMount  string            `json:"workspaceMount,omitempty"`
	OverrideCommand *bool             `json:"overrideCommand,omitempty"`
	ForwardPorts    []json.RawMessage `json:"forwardPorts,omitempty"`

	OnCreateCommand   *Command `json:"onCreateCommand,omitempty"`
	PostCreateCommand *Command `json:"postCreateCommand,omitempty"`
	PostStartCommand  *Command `json:"postStartCommand,omitempty"`
}

// Build is the "build" section: an image built from a Dockerfile.
type Build struct {
	Dockerfile string            `json:"dockerfile,omitempty"`
	Context    string            `json:"context,omitempty"`
	Args       map[string]string `json:"args,omitempty"`
	Target     string            `json:"target,omitempty"`
}

// Command is a lifecycle command in one of the spec's forms: a string run by
// a shell, or an array run without one.
type Command struct {
	// Shell is the string form, run with /bin/sh -c.
	Shell string
	// Args is the array form, run directly.
	Args []string
}

// UnmarshalJSON accepts the string and array forms.
func (c *Command) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = Command{Shell: s}
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err == nil {
		*c = Command{Args: a}
		return nil
	}
	return errors.New("a lifecycle command must be a string or an array of strings")
}

// MarshalJSON writes the form the command was given in.
func (c Command) MarshalJSON() ([]byte, error) {
	if c.Args != nil {
		return json.Marshal(c.Args)
	}
	return json.Marshal(c.Shell)
}

// Argv returns the process to run for the command.
func (c *Command) Argv() []string {
	if c == nil {
		return nil
	}
	if c.Args != nil {
		return c.Args
	}
	if strings.TrimSpace(c.Shell) == "" {
		return nil
	}
	return []string{"/bin/sh", "-c", c.Shell}
}

// Empty reports whether there is nothing to run.
func (c *Command) Empty() bool { return len(c.Argv()) == 0 }

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
		} else if msg := err.Error(); strings.Contains(msg, "lifecycle command") {
			se.Msg = msg
		}
		return nil, se
	}
	return &cfg, nil
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
