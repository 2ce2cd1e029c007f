// Package settings keeps the user's defaults that both the CLI and the
// bridge apply: settings.json in Pitlane's config folder.
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const file = "settings.json"

// Settings are the user's defaults. The zero value is the default of each.
type Settings struct {
	// ForwardAgent makes SSH connections to workspaces (ssh NAME.pitlane,
	// pitlane ssh, IDEs) forward the user's ssh-agent.
	ForwardAgent bool `json:"forwardAgent,omitempty"`
	// Dotfiles is the dotfiles repository installed in new workspaces.
	Dotfiles string `json:"dotfiles,omitempty"`
	// DotfilesScript is the install script in that repository.
	DotfilesScript string `json:"dotfilesScript,omitempty"`
}

// Key describes one setting for `pitlane settings`.
type Key struct {
	Name string
	Help string
	get  func(*Settings) string
	set  func(*Settings, string) error
}

// Keys are the settings a user can see and change, by name.
var Keys = []Key{
	{
		Name: "forward-agent",
		Help: "forward your ssh-agent on every SSH connection to a workspace (ssh NAME.pitlane, pitlane ssh, IDEs): true or false",
		get:  func(s *Settings) string { return strconv.FormatBool(s.ForwardAgent) },
		set: func(s *Settings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("forward-agent is true or false, not %q", v)
			}
			s.ForwardAgent = b
			return nil
		},
	},
	{
		Name: "dotfiles",
		Help: "dotfiles repository installed in every new workspace (git URL, local repository or GitHub OWNER/REPO)",
		get:  func(s *Settings) string { return s.Dotfiles },
		set:  func(s *Settings, v string) error { s.Dotfiles = strings.TrimSpace(v); return nil },
	},
	{
		Name: "dotfiles-script",
		Help: "install script in the dotfiles repository (default: install.sh, bootstrap.sh, setup.sh, ... or else link the dotfiles)",
		get:  func(s *Settings) string { return s.DotfilesScript },
		set:  func(s *Settings, v string) error { s.DotfilesScript = strings.TrimSpace(v); return nil },
	},
}

// Lookup finds a key by name.
func Lookup(name string) (*Key, error) {
	for i := range Keys {
		if Keys[i].Name == name {
			return &Keys[i], nil
		}
	}
	names := make([]string, len(Keys))
	for i, k := range Keys {
		names[i] = k.Name
	}
	sort.Strings(names)
	return nil, fmt.Errorf("there is no setting %q; the settings are %s", name, strings.Join(names, ", "))
}

// Get returns the key's value in s.
func (k *Key) Get(s *Settings) string { return k.get(s) }

// Set parses v into s; "" sets the default.
func (k *Key) Set(s *Settings, v string) error {
	if v == "" {
		return k.set(s, zeroOf(k))
	}
	return k.set(s, v)
}

func zeroOf(k *Key) string {
	if k.Name == "forward-agent" {
		return "false"
	}
	return ""
}

// DefaultDir is $XDG_CONFIG_HOME/pitlane, or ~/.config/pitlane.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "pitlane"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home folder: %w; set HOME", err)
	}
	return filepath.Join(home, ".config", "pitlane"), nil
}

// Load reads the settings in dir; a missing file holds the defaults.
func Load(dir string) (Settings, error) {
	var s Settings
	path := filepath.Join(dir, file)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Settings{}, fmt.Errorf("reading %s: %w (fix or delete the file)", path, err)
	}
	return s, nil
}

// LoadDefault reads the settings in DefaultDir; what cannot be read counts
// as the defaults.
func LoadDefault() Settings {
	dir, err := DefaultDir()
	if err != nil {
		return Settings{}
	}
	s, _ := Load(dir)
	return s
}

// Save writes the settings to dir atomically.
func Save(dir string, s Settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+file+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, file))
}
