package workspace

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/pitlane/pitlane/internal/source"
)

// WatchOptions are the inputs of Manager.WatchPrebuild.
type WatchOptions struct {
	PrebuildOptions
	// Interval is how often a git branch is asked for its head (default
	// one minute), and how often a folder's key is computed again when
	// its files cannot be watched.
	Interval time.Duration
	// Settle is how long a folder must stay quiet after a change before
	// its key is computed again (default one second).
	Settle time.Duration
	// OnResult is called after every prebuild, with its result or error.
	OnResult func(*PrebuildResult, error)
}

// WatchPrebuild prebuilds a source now and again whenever an input of its
// image's key changes, until ctx ends: for a local folder when its files
// change (the key is computed again, and a changed key prebuilds), for a
// git source when its branch moves. A failed prebuild is reported and
// watching goes on.
func (m *Manager) WatchPrebuild(ctx context.Context, opts WatchOptions) error {
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	if opts.Settle <= 0 {
		opts.Settle = time.Second
	}
	if opts.OnResult == nil {
		opts.OnResult = func(*PrebuildResult, error) {}
	}
	if _, ok := m.cache(); !ok {
		return fmt.Errorf("this runtime (%s) cannot keep prebuilt images", m.rt.Host())
	}
	if opts.Push != "" {
		if err := ValidateRepository(opts.Push); err != nil {
			return err
		}
	}
	if source.IsGitURL(opts.Source) {
		return m.watchBranch(ctx, opts)
	}
	return m.watchFolder(ctx, opts)
}

// watchBranch polls the branch's head and prebuilds when it moves.
func (m *Manager) watchBranch(ctx context.Context, opts WatchOptions) error {
	last := ""
	for {
		head, err := source.RemoteHead(ctx, opts.Source, opts.Branch)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil:
			opts.OnResult(nil, err)
		case head != last:
			res, err := m.Prebuild(ctx, opts.PrebuildOptions)
			if ctx.Err() != nil {
				return nil
			}
			if err == nil {
				last = head
			}
			opts.OnResult(res, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opts.Interval):
		}
	}
}

// watchFolder watches a local folder's files (all but .git) and prebuilds
// when the key has changed once they settle.
func (m *Manager) watchFolder(ctx context.Context, opts WatchOptions) error {
	dir, err := source.LocalFolder(opts.Source)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSourceInvalid, err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	polling := false
	if err := watchTree(w, dir); err != nil {
		// Too many folders for the system's watch limit, say: compute
		// the key on a timer instead.
		polling = true
		p := opts.Progress
		if p == nil {
			p = nopProgress{}
		}
		p.Output(fmt.Sprintf("warning: cannot watch the files of %s (%v): looking for changes every %s instead", dir, err, opts.Interval))
	}
	lastKey := ""
	prebuild := func() {
		res, err := m.Prebuild(ctx, opts.PrebuildOptions)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			lastKey = res.Key
		}
		opts.OnResult(res, err)
	}
	prebuild()
	var settle <-chan time.Time
	var tick <-chan time.Time
	if polling {
		t := time.NewTicker(opts.Interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
					_ = watchTree(w, ev.Name)
				}
			}
			settle = time.After(opts.Settle)
		case err, ok := <-w.Errors:
			if ok && err != nil {
				opts.OnResult(nil, fmt.Errorf("watching %s: %w", dir, err))
			}
		case <-settle:
			settle = nil
			if key, err := m.folderKey(ctx, dir, opts.ConfigPath); err != nil || key != lastKey {
				prebuild()
			}
		case <-tick:
			if key, err := m.folderKey(ctx, dir, opts.ConfigPath); err != nil || key != lastKey {
				prebuild()
			}
		}
	}
}

// folderKey computes the key of a local folder's configuration quietly.
func (m *Manager) folderKey(ctx context.Context, dir, configPath string) (string, error) {
	r, err := m.planStep(ctx, "prebuild", dir, configPath, nopProgress{})
	if err != nil {
		return "", err
	}
	return m.imageKey(ctx, r, nopProgress{})
}

// watchTree adds dir and every folder below it (but .git) to w.
func watchTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if d.Name() == ".git" && p != dir {
			return filepath.SkipDir
		}
		return w.Add(p)
	})
}
