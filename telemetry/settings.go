package telemetry

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// settingsFile is the name of the file in the config directory that holds
// the persisted choice, the optional endpoint and the install id.
const settingsFile = "telemetry.json"

// settings is the content of telemetry.json.
type settings struct {
	// Enabled is the choice made with `pitlane telemetry enable/disable`;
	// nil when the user never chose (which means off).
	Enabled *bool `json:"enabled,omitempty"`
	// ChangedAt is when Enabled was last set.
	ChangedAt time.Time `json:"changedAt,omitzero"`
	// Endpoint overrides the default OTLP/HTTP endpoint.
	Endpoint string `json:"endpoint,omitempty"`
	// InstallID is the random anonymous install id.
	InstallID string `json:"installId,omitempty"`
}

// DefaultConfigDir is Pitlane's config directory: $XDG_CONFIG_HOME/pitlane,
// or ~/.config/pitlane.
func DefaultConfigDir() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "pitlane")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".config", "pitlane")
	}
	return ""
}

func loadSettings(dir string) (settings, error) {
	var s settings
	if dir == "" {
		return s, errors.New("no config directory: set XDG_CONFIG_HOME or HOME")
	}
	b, err := os.ReadFile(filepath.Join(dir, settingsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read telemetry settings: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return settings{}, fmt.Errorf("read telemetry settings %s: %w (fix or delete the file)", filepath.Join(dir, settingsFile), err)
	}
	return s, nil
}

// saveSettings writes the file atomically (temp file and rename).
func saveSettings(dir string, s settings) error {
	if dir == "" {
		return errors.New("no config directory: set XDG_CONFIG_HOME or HOME")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, settingsFile+".*")
	if err != nil {
		return fmt.Errorf("write telemetry settings: %w", err)
	}
	_, werr := f.Write(append(b, '\n'))
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), filepath.Join(dir, settingsFile))
	}
	if werr != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write telemetry settings: %w", werr)
	}
	return nil
}

// newInstallID returns a random version 4 UUID. It uses nothing but the
// system's random source.
func newInstallID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ensureInstallID returns the stored install id, creating and storing one
// if there is none yet.
func ensureInstallID(dir string) (string, error) {
	s, err := loadSettings(dir)
	if err != nil {
		return "", err
	}
	if validUUID(s.InstallID) {
		return s.InstallID, nil
	}
	s.InstallID = newInstallID()
	return s.InstallID, saveSettings(dir, s)
}

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

func settingsPath(dir string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, settingsFile)
}
