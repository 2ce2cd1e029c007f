package workspace

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/runtime"
	"github.com/pitlane/pitlane/internal/source"
)

// A workspace's configuration is kept twice. The container's label holds
// it with ${localEnv:...} as written (no secret of the host's environment
// in what every user of the engine can read); the data folder holds it
// resolved (0600), with the environment variables taken from the host.

// storedConfig is the resolved configuration of one container.
type storedConfig struct {
	Container string               `json:"container"`
	Config    *devcontainer.Config `json:"config"`
	// HostEnv are the container variables whose values come from this
	// machine's environment; they are given to every process run in the
	// container instead of being set on it.
	HostEnv map[string]string `json:"hostEnv,omitempty"`
}

func (m *Manager) storedPath(name string) string { return filepath.Join(m.wsDir(name), "config.json") }

// saveConfig keeps the resolved configuration of container id.
func (m *Manager) saveConfig(name, id string, cfg *devcontainer.Config, hostEnv map[string]string) error {
	b, err := json.Marshal(storedConfig{Container: id, Config: cfg, HostEnv: hostEnv})
	if err != nil {
		return err
	}
	if err := m.mkdirPrivate(m.wsDir(name)); err != nil {
		return err
	}
	return writeFileAtomic(m.storedPath(name), b, 0o600)
}

// config returns the configuration container c was made with and the
// variables it takes from the host: the data folder's copy when it
// belongs to c, otherwise the label's, with ${localEnv:...} resolved from
// this process's environment.
func (m *Manager) config(c *runtime.Container) (*devcontainer.Config, map[string]string) {
	name := c.Labels[LabelWorkspace]
	var sc storedConfig
	if b, err := os.ReadFile(m.storedPath(name)); err == nil && json.Unmarshal(b, &sc) == nil && sc.Container == c.ID && sc.Config != nil {
		return sc.Config, sc.HostEnv
	}
	record := decodeConfig(c.Labels)
	cfg, err := devcontainer.Vars{}.SubstituteConfig(record)
	if err != nil {
		cfg = record
	}
	return cfg, hostDerivedEnv(record, os.LookupEnv)
}

// hostDerivedEnv returns the container variables of a stored (unresolved)
// configuration whose values come from the host's environment:
// containerEnv values that refer to ${localEnv:...}, and runArgs -e
// entries that do or that name a variable without a value.
func hostDerivedEnv(record *devcontainer.Config, lookup func(string) (string, bool)) map[string]string {
	out := map[string]string{}
	vars := devcontainer.Vars{LookupEnv: lookup}
	for k, v := range record.ContainerEnv {
		if devcontainer.HasLocalEnv(v) {
			out[k] = vars.Substitute(v)
		}
	}
	if ra, err := devcontainer.ParseRunArgs(record.RunArgs); err == nil {
		for _, kv := range ra.Env {
			k, v, ok := strings.Cut(kv, "=")
			switch {
			case !ok:
				if v, found := lookup(k); found {
					out[k] = v
				}
			case devcontainer.HasLocalEnv(v):
				out[k] = vars.Substitute(v)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (m *Manager) setupChangesPath(name string) string {
	return filepath.Join(m.wsDir(name), "setup-changes.json")
}

// recordSetupChanges fingerprints the files a clone has uncommitted once
// its setup commands ran: what they generated (an npm install's lock file,
// say) is not the user's work, unless it changes later.
func (m *Manager) recordSetupChanges(ctx context.Context, ws *Workspace) {
	if ws.Source.Local || ws.LocalFolder == "" {
		return
	}
	fp, err := source.Fingerprint(ctx, ws.LocalFolder)
	if err != nil {
		return
	}
	if b, err := json.Marshal(fp); err == nil {
		_ = writeFileAtomic(m.setupChangesPath(ws.Name), b, 0o600)
	}
}

func (m *Manager) setupChanges(name string) map[string]string {
	var fp map[string]string
	if b, err := os.ReadFile(m.setupChangesPath(name)); err == nil {
		_ = json.Unmarshal(b, &fp)
	}
	return fp
}

// openLog opens a workspace's log for appending, readable by this user
// only (a log made by an older version is tightened).
func (m *Manager) openLog(name string) (*os.File, error) {
	f, err := os.OpenFile(m.LogPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	_ = f.Chmod(0o600)
	return f, nil
}
