package workspace

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Phases of a workspace that Docker cannot know: set while Pitlane sets a
// container up, and after a setup hook failed.
const (
	phaseReady    = ""
	phaseCreating = "creating"
	phaseError    = "error"
)

// marker is Pitlane's local record of a workspace, beside the container.
type marker struct {
	Phase    string    `json:"phase,omitempty"`
	Error    string    `json:"error,omitempty"`
	LastUsed time.Time `json:"lastUsed,omitzero"`
}

func (m *Manager) markerPath(name string) string { return filepath.Join(m.wsDir(name), "state.json") }

func (m *Manager) readMarker(name string) marker {
	var mk marker
	b, err := os.ReadFile(m.markerPath(name))
	if err == nil {
		_ = json.Unmarshal(b, &mk)
	}
	return mk
}

// updateMarker changes the marker atomically (temp file and rename).
// Concurrent writers are serialised by a lock on the marker's own lock file.
func (m *Manager) updateMarker(name string, f func(*marker)) error {
	unlock, err := m.flock(name+".marker", true)
	if err != nil {
		return err
	}
	defer unlock()
	mk := m.readMarker(name)
	f(&mk)
	b, err := json.MarshalIndent(mk, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.wsDir(name), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(m.markerPath(name), b, 0o644)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Operations that hold a workspace's lock.
const (
	opCreate = "create"
	opDelete = "delete"
)

func (m *Manager) lockPath(key string) string {
	return filepath.Join(m.opts.DataDir, "locks", key+".lock")
}

// flock takes an exclusive lock on a lock file. The kernel drops it when the
// process dies, so a crashed Pitlane never leaves a workspace locked.
func (m *Manager) flock(key string, wait bool) (func(), error) {
	p := m.lockPath(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

var errLocked = errors.New("locked")

// lock takes the workspace's operation lock without waiting, recording the
// operation in the lock file so other processes can tell what is going on.
func (m *Manager) lock(name, op string) (func(), error) {
	unlock, err := m.flock(name, false)
	if errors.Is(err, errLocked) {
		what := m.lockOp(name)
		if what == "" {
			what = "change"
		}
		return nil, fmt.Errorf("%w: a %s of %s is under way; wait for it to finish", ErrBusy, what, name)
	}
	if err != nil {
		return nil, err
	}
	_ = os.WriteFile(m.lockPath(name)+".op", []byte(op), 0o644)
	return func() {
		os.Remove(m.lockPath(name) + ".op")
		unlock()
	}, nil
}

func (m *Manager) lockOp(name string) string {
	b, _ := os.ReadFile(m.lockPath(name) + ".op")
	return string(b)
}

// locked reports whether another holder has the workspace's lock.
func (m *Manager) locked(name string) bool {
	unlock, err := m.flock(name, false)
	if err != nil {
		return errors.Is(err, errLocked)
	}
	unlock()
	return false
}

func (m *Manager) lockedFor(name, op string) bool {
	return m.lockOp(name) == op && m.locked(name)
}
