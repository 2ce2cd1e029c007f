package main

import (
	"context"
	"sync"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/telemetry"
)

// recorders maps each app to its telemetry recorder, so the wiring stays in
// this file and app needs no field for it.
var recorders sync.Map // *app -> *telemetry.Recorder

func init() {
	setups = append(setups, setupTelemetry)
	bridgeTelemetry = func(a *app) bridge.Telemetry { return recorderOf(a) }
}

// setupTelemetry creates the process's recorder (a no-op without consent),
// feeds it the engine's events and flushes it, within its short budget,
// when the process ends.
func setupTelemetry(a *app) {
	r := telemetry.New(telemetry.Options{Client: "cli", Version: version})
	recorders.Store(a, r)
	a.observers = append(a.observers, func(ev workspace.Event) { recordEvent(r, ev) })
	a.closers = append(a.closers, func() { r.Shutdown(context.Background()) })
}

// recorderOf returns the telemetry recorder of a. The bridge calls
// SetClient and SetIDEConsent on it; the open verb calls IDEOpened.
func recorderOf(a *app) *telemetry.Recorder {
	if r, ok := recorders.Load(a); ok {
		return r.(*telemetry.Recorder)
	}
	// Not set up (a test building an app by hand): a recorder with the
	// same rules, created once.
	r, _ := recorders.LoadOrStore(a, telemetry.New(telemetry.Options{Client: "cli", Version: version}))
	return r.(*telemetry.Recorder)
}

// recordEvent translates an engine event into the recorder's calls. Only
// the kind, the config kind, the failed step and the duration are used;
// names, sources and paths in the event are never passed on.
func recordEvent(r *telemetry.Recorder, ev workspace.Event) {
	switch ev.Kind {
	case workspace.EventCreated:
		outcome := "success"
		if ev.FailedStep != "" {
			outcome = "hooks_failed"
		}
		r.WorkspaceCreated(outcome, string(ev.ConfigKind), ev.FailedStep, ev.Duration)
	case workspace.EventCreateFailed:
		r.WorkspaceCreated("failure", string(ev.ConfigKind), ev.FailedStep, ev.Duration)
	case workspace.EventStarted:
		r.WorkspaceStarted()
	case workspace.EventStopped:
		r.WorkspaceStopped()
	case workspace.EventDeleted:
		r.WorkspaceDeleted()
	}
}
