package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/internal/docker"
	"github.com/pitlane/pitlane/internal/workspace"
)

func init() { commands = append(commands, newBridgeCommand) }

// bridgeTelemetry and bridgeOpener, when set (by a setup), give the bridge
// its telemetry sink and its IDE registry. Without them the bridge reports
// telemetry as off and opens VS Code only.
var (
	bridgeTelemetry func(*app) bridge.Telemetry
	bridgeOpener    func(*app) bridge.Opener
)

type bridgeOptions struct {
	logFile string
	verbose bool
}

func newBridgeCommand(a *app) *cobra.Command {
	var opts bridgeOptions
	cmd := &cobra.Command{
		Use:   "bridge",
		Short: "Serve the IDE extensions over JSON-RPC on stdin/stdout",
		Long: `Serve the Pitlane bridge protocol (JSON-RPC 2.0 with LSP framing) on
standard input and output. The VS Code extension and the JetBrains plugin start
this command; it is not meant to be typed. Logs go to standard error and to
the log file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBridge(cmd.Context(), a, opts)
		},
	}
	cmd.Flags().StringVar(&opts.logFile, "log-file", filepath.Join(workspace.DefaultDataDir(), "bridge.log"), "also append the log to this file (empty: standard error only)")
	cmd.Flags().BoolVar(&opts.verbose, "verbose", false, "log every request")
	return cmd
}

func runBridge(ctx context.Context, a *app, opts bridgeOptions) error {
	var logOut io.Writer = a.stderr
	if opts.logFile != "" {
		if f, err := openLog(opts.logFile); err == nil {
			defer f.Close()
			logOut = io.MultiWriter(a.stderr, f)
		} else {
			slog.New(slog.NewTextHandler(a.stderr, nil)).Warn("cannot open the log file; logging to standard error only", "error", err)
		}
	}
	level := slog.LevelInfo
	if opts.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level})).With("pid", os.Getpid())
	bopts := bridge.Options{
		Manager: &lazyManager{ctx: ctx, a: a},
		Ports:   agentPorts(a),
		Version: version,
		Logger:  logger,
	}
	if bridgeTelemetry != nil {
		bopts.Telemetry = bridgeTelemetry(a)
	}
	if bridgeOpener != nil {
		bopts.Opener = bridgeOpener(a)
	}
	logger.Info("bridge started", "version", version)
	code := bridge.New(bopts).Serve(ctx, a.stdin, a.stdout)
	logger.Info("bridge stopped", "exitCode", code)
	if code != 0 {
		return exitError{code}
	}
	return nil
}

// maxLogSize is the size above which the bridge log is started afresh
// (the old one is kept as bridge.log.1).
const maxLogSize = 4 << 20

func openLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if st, err := os.Stat(path); err == nil && st.Size() > maxLogSize {
		_ = os.Rename(path, path+".1")
	}
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

// lazyManager connects to the Docker engine on the first request, so the
// bridge answers initialize (and reports an unreachable engine per
// request, with an actionable message) even when Docker is down.
type lazyManager struct {
	ctx context.Context
	a   *app
}

func (l *lazyManager) m() (*workspace.Manager, error) {
	m, err := l.a.manager(l.ctx)
	if err != nil {
		return nil, engineDown{err}
	}
	return m, nil
}

// engineDown marks a failure to connect as workspace.ErrEngineDown while
// keeping the connection error's message.
type engineDown struct{ err error }

func (e engineDown) Error() string { return e.err.Error() }
func (e engineDown) Unwrap() error { return e.err }
func (e engineDown) Is(target error) bool {
	return target == workspace.ErrEngineDown && errors.Is(e.err, docker.ErrUnreachable)
}

func (l *lazyManager) Create(ctx context.Context, opts workspace.CreateOptions) (*workspace.Workspace, error) {
	m, err := l.m()
	if err != nil {
		return nil, err
	}
	withDotfilesDefault(&opts)
	return m.Create(ctx, opts)
}

func (l *lazyManager) Start(ctx context.Context, name string, opts workspace.StartOptions) (*workspace.Workspace, error) {
	m, err := l.m()
	if err != nil {
		return nil, err
	}
	return m.Start(ctx, name, opts)
}

func (l *lazyManager) Stop(ctx context.Context, name string) (*workspace.Workspace, error) {
	m, err := l.m()
	if err != nil {
		return nil, err
	}
	return m.Stop(ctx, name)
}

func (l *lazyManager) Delete(ctx context.Context, name string, opts workspace.DeleteOptions) error {
	m, err := l.m()
	if err != nil {
		return err
	}
	return m.Delete(ctx, name, opts)
}

func (l *lazyManager) Rebuild(ctx context.Context, name string, opts workspace.RebuildOptions) (*workspace.Workspace, error) {
	m, err := l.m()
	if err != nil {
		return nil, err
	}
	return m.Rebuild(ctx, name, opts)
}

func (l *lazyManager) List(ctx context.Context) ([]*workspace.Workspace, error) {
	m, err := l.m()
	if err != nil {
		return nil, err
	}
	return m.List(ctx)
}

func (l *lazyManager) Get(ctx context.Context, name string) (*workspace.Workspace, error) {
	m, err := l.m()
	if err != nil {
		return nil, err
	}
	return m.Get(ctx, name)
}

func (l *lazyManager) LogPath(name string) string {
	m, err := l.m()
	if err != nil {
		return filepath.Join(workspace.DefaultDataDir(), "workspaces", name, "pitlane.log")
	}
	return m.LogPath(name)
}

func (l *lazyManager) Touch(name string) error {
	m, err := l.m()
	if err != nil {
		return err
	}
	return m.Touch(name)
}

func (l *lazyManager) Attach(ctx context.Context, name string, p workspace.Progress) (*workspace.Workspace, error) {
	m, err := l.m()
	if err != nil {
		return nil, err
	}
	return m.Attach(ctx, name, p)
}

func (l *lazyManager) Watch(ctx context.Context) (<-chan workspace.Event, error) {
	m, err := l.m()
	if err != nil {
		return nil, err
	}
	return m.Watch(ctx)
}

func (l *lazyManager) Configs(ctx context.Context, source string) ([]string, error) {
	m, err := l.m()
	if err != nil {
		return nil, err
	}
	return m.Configs(ctx, source)
}

// Detect reads files only, so it answers without the Docker engine.
func (l *lazyManager) Detect(ctx context.Context, source string) (*workspace.Detection, error) {
	return workspace.Detect(ctx, source, workspace.DefaultImage)
}
