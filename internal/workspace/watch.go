package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Container actions that can change what a workspace looks like. Exec
// events (exec_create, exec_die, ...) arrive in droves and are ignored.
var watchedActions = map[string]bool{
	"create": true, "start": true, "restart": true, "die": true, "stop": true, "kill": false,
	"destroy": true, "pause": true, "unpause": true, "rename": true, "oom": true,
}

// Watch reports every change to this instance's workspaces, whoever makes
// it: Docker's container events tell about containers, and the data
// folder's markers tell about setup phases (creating, error) that Docker
// cannot see. Only real changes are sent: an event whose workspace looks
// the same as before is dropped. The channel closes when ctx ends.
func (m *Manager) Watch(ctx context.Context) (<-chan Event, error) {
	initial, err := m.List(ctx)
	if err != nil {
		return nil, err
	}
	last := make(map[string]string, len(initial))
	for _, ws := range initial {
		last[ws.Name] = fingerprint(ws)
	}
	fsw, err := m.watchFiles()
	if err != nil {
		return nil, err
	}
	out := make(chan Event, 64)
	go func() {
		defer close(out)
		defer fsw.Close()
		for {
			if err := m.follow(ctx, fsw, last, out); err == nil || ctx.Err() != nil {
				return
			}
			// The engine went away (restart, network): try again.
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	return out, nil
}

func (m *Manager) follow(ctx context.Context, fsw *fsnotify.Watcher, last map[string]string, out chan<- Event) error {
	evs, errs := m.rt.Events(ctx, LabelInstance+"="+m.opts.Instance)
	// Changes missed while not following are caught up here.
	if ws, err := m.List(ctx); err == nil {
		seen := map[string]bool{}
		for _, w := range ws {
			seen[w.Name] = true
			m.check(ctx, w.Name, last, out)
		}
		for name := range last {
			if !seen[name] {
				m.check(ctx, name, last, out)
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-evs:
			if !ok {
				return errors.New("event stream ended")
			}
			if name := ev.Labels[LabelWorkspace]; name != "" && watchedActions[ev.Action] {
				m.check(ctx, name, last, out)
			}
		case err := <-errs:
			return err
		case fe, ok := <-fsw.Events:
			if !ok {
				return nil
			}
			if name := m.nameOfPath(fe.Name); name != "" {
				if fe.Op&fsnotify.Create != 0 {
					if st, err := os.Stat(fe.Name); err == nil && st.IsDir() {
						_ = fsw.Add(fe.Name)
					}
				}
				m.check(ctx, name, last, out)
			}
		case <-fsw.Errors:
		}
	}
}

// check sends an event if the workspace changed since last seen.
func (m *Manager) check(ctx context.Context, name string, last map[string]string, out chan<- Event) {
	if ValidateName(name) != nil {
		return
	}
	ws, err := m.Get(ctx, name)
	if errors.Is(err, ErrNotFound) {
		// A rebuild sets the old container aside before the new one
		// exists: the workspace is not gone.
		if m.lockedFor(name, opRebuild) {
			return
		}
		if _, known := last[name]; known {
			delete(last, name)
			send(ctx, out, Event{Kind: EventDeleted, Name: name})
		}
		return
	}
	if err != nil {
		return
	}
	fp := fingerprint(ws)
	prev, known := last[name]
	if known && prev == fp {
		return
	}
	last[name] = fp
	kind := EventChanged
	switch {
	case !known:
		kind = EventCreated
	case ws.State == StateRunning && !strings.HasPrefix(prev, string(StateRunning)+"|"):
		kind = EventStarted
	case ws.State == StateStopped:
		kind = EventStopped
	}
	send(ctx, out, Event{Kind: kind, Name: name, Workspace: ws})
}

func send(ctx context.Context, out chan<- Event, ev Event) {
	select {
	case out <- ev:
	case <-ctx.Done():
	}
}

func fingerprint(ws *Workspace) string {
	return fmt.Sprintf("%s|%s|%s|%d", ws.State, ws.ContainerID, ws.LastError, ws.LastUsedAt.Unix())
}

// watchFiles watches the folders where markers and locks live.
func (m *Manager) watchFiles() (*fsnotify.Watcher, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	wsRoot := filepath.Join(m.opts.DataDir, "workspaces")
	locks := filepath.Join(m.opts.DataDir, "locks")
	for _, d := range []string{wsRoot, locks} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fsw.Close()
			return nil, err
		}
		if err := fsw.Add(d); err != nil {
			fsw.Close()
			return nil, err
		}
	}
	entries, _ := os.ReadDir(wsRoot)
	for _, e := range entries {
		if e.IsDir() {
			_ = fsw.Add(filepath.Join(wsRoot, e.Name()))
		}
	}
	return fsw, nil
}

// nameOfPath maps a marker or lock path to its workspace name.
func (m *Manager) nameOfPath(p string) string {
	rel, err := filepath.Rel(m.opts.DataDir, p)
	if err != nil {
		return ""
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "workspaces":
		if len(parts) == 3 && parts[2] != "state.json" {
			return ""
		}
		return parts[1]
	case len(parts) == 2 && parts[0] == "locks" && strings.HasSuffix(parts[1], ".lock.op"):
		return strings.TrimSuffix(parts[1], ".lock.op")
	}
	return ""
}
