package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/pitlane/pitlane/internal/provider"
	"github.com/pitlane/pitlane/internal/workspace"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// commands holds the constructors of the top-level verbs. Each verb's file
// adds itself in an init function, so adding a verb touches one file.
var commands []func(*app) *cobra.Command

// setups run once per process before the command line is parsed; optional
// subsystems (telemetry) hook themselves into the app here.
var setups []func(*app)

// app is what every command shares: output streams and a lazily connected
// workspace manager.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	// observers are called for every event of the manager (telemetry hooks
	// in here).
	observers []func(workspace.Event)

	mu sync.Mutex
	// provs are the Managers of every provider (provider_engine.go).
	provs *workspace.Providers
	// closers run in reverse order when the process ends.
	cmu     sync.Mutex
	closers []func()
}

// manager is the Manager of the built-in provider, the Docker engine
// DOCKER_HOST names (or the local one), connected on first use. A failed
// connection is tried again on the next call, so a long-running bridge
// recovers once the engine is started.
func (a *app) manager(ctx context.Context) (*workspace.Manager, error) {
	return a.managerOn(ctx, provider.Local)
}

// workspace finds one workspace on whichever provider runs it; a missing
// one is an error that says so and where to look.
func (a *app) workspace(ctx context.Context, name string) (*workspace.Manager, *workspace.Workspace, error) {
	return a.findWorkspace(ctx, name)
}

// printJSON writes v to stdout as indented JSON, for scripts.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func (a *app) observe(ev workspace.Event) {
	for _, o := range a.observers {
		o(ev)
	}
}

func (a *app) close() {
	a.cmu.Lock()
	defer a.cmu.Unlock()
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// exitError carries a process exit code through cobra without printing
// anything more (used by exec to pass a command's status through).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRootCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "pitlane",
		Short: "Containerized dev workspaces, opened in your own editor",
		Long: `Pitlane turns a git repository or a local folder into a running dev
container, built from its devcontainer.json (or Dockerfile), and opens your own
editor inside it over SSH.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	for _, c := range commands {
		root.AddCommand(c(a))
	}
	return root
}

// run executes the CLI and returns the process exit code.
func run(args []string) int {
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	defer a.close()
	for _, s := range setups {
		s(a)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	root := newRootCommand(a)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(a.stderr, "pitlane: %v\n", err)
	if ctx.Err() != nil {
		return 130
	}
	return 1
}
