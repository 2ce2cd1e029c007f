package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// Phases of a workspace that Docker cannot know: set while Pitlane works on
// it (creating, rebuilding, deleting), and after a setup hook failed. A
// working phase whose lock is free was interrupted: its process died.
const (
	phaseReady      = ""
	phaseCreating   = "creating"
	phaseRebuilding = "rebuilding"
	phaseDeleting   = "deleting"
	phaseError      = "error"
)

// marker is Pitlane's local record of a workspace, beside the container.
type marker struct {
	Phase string `json:"phase,omitempty"`
	Error string `json:"error,omitempty"`
	// Container is the container the setup record (Done) is about.
	Container string `json:"container,omitempty"`
	// Done are the create-time lifecycle phases (onCreateCommand,
	// updateContentCommand, postCreateCommand) finished in Container, so
	// an interrupted setup goes on where it stopped.
	Done []string `json:"done,omitempty"`
	// Before and BeforeError are the phase a rebuild started from; they
	// come back when the rebuild is undone.
	Before      string    `json:"before,omitempty"`
	BeforeError string    `json:"beforeError,omitempty"`
	LastUsed    time.Time `json:"lastUsed,omitzero"`
}

// working reports whether the phase is one that a running operation sets.
func (mk marker) working() bool {
	return mk.Phase == phaseCreating || mk.Phase == phaseRebuilding || mk.Phase == phaseDeleting
}

// done reports whether a create-time phase has finished in container id.
func (mk marker) done(id, phase string) bool {
	return mk.Container == id && slices.Contains(mk.Done, phase)
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
	if err := m.mkdirPrivate(m.wsDir(name)); err != nil {
		return err
	}
	return writeFileAtomic(m.markerPath(name), b, 0o600)
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
	opCreate  = "create"
	opRebuild = "rebuild"
	opStart   = "start"
	opDelete  = "delete"
)

// mkdirPrivate makes dir and its missing parents up to the data folder,
// readable by this user only (0700); the data folder holds clones, logs
// and environments. Folders made by older versions are tightened.
func (m *Manager) mkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o077 != 0 {
			_ = os.Chmod(d, st.Mode().Perm()&0o700)
		}
		if d == m.opts.DataDir || d == filepath.Dir(d) || !strings.HasPrefix(d, m.opts.DataDir) {
			return nil
		}
	}
}

// lockWait takes the workspace's operation lock, waiting while another
// process holds it for one of the operations in waitFor (two IDE
// connections starting the same workspace take turns); any other holder
// gives ErrBusy at once.
func (m *Manager) lockWait(ctx context.Context, name, op string, waitFor ...string) (func(), error) {
	for {
		unlock, err := m.lock(name, op)
		if !errors.Is(err, ErrBusy) {
			return unlock, err
		}
		// An empty operation: the holder is just finishing.
		if held := m.lockOp(name); held != "" && !slices.Contains(waitFor, held) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (m *Manager) lockPath(key string) string {
	return filepath.Join(m.opts.DataDir, "locks", key+".lock")
}

// flock takes an exclusive lock on a lock file. The kernel drops it when the
// process dies, so a crashed Pitlane never leaves a workspace locked.
func (m *Manager) flock(key string, wait bool) (func(), error) {
	p := m.lockPath(key)
	if err := m.mkdirPrivate(filepath.Dir(p)); err != nil {
		return nil, err
	}
	fl := flock.New(p)
	if wait {
		if err := fl.Lock(); err != nil {
			return nil, err
		}
	} else if ok, err := fl.TryLock(); err != nil {
		return nil, err
	} else if !ok {
		return nil, errLocked
	}
	return func() { fl.Unlock() }, nil
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
	_ = os.WriteFile(m.lockPath(name)+".op", []byte(op), 0o600)
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
