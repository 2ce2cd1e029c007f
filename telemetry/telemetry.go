// Package telemetry records Pitlane's opt-in, anonymous usage metrics with
// OpenTelemetry and exports them over OTLP/HTTP. It is a no-op unless the
// user consented; docs/telemetry.md lists everything it can ever send.
package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// DefaultEndpoint is where metrics go when neither the settings file nor
// PITLANE_TELEMETRY_ENDPOINT names another OTLP/HTTP metrics endpoint.
const DefaultEndpoint = "https://telemetry.pitlane.dev/v1/metrics"

// FlushBudget is the most time Shutdown spends sending what is left, so a
// command never waits on the network for longer.
const FlushBudget = 80 * time.Millisecond

// Environment variables that govern telemetry.
const (
	EnvDoNotTrack = "DO_NOT_TRACK"               // any value but "", "0", "false": off
	EnvTelemetry  = "PITLANE_TELEMETRY"          // "off" (or 0, false, no): off
	EnvEndpoint   = "PITLANE_TELEMETRY_ENDPOINT" // OTLP/HTTP metrics endpoint URL
)

// Options configure a Recorder.
type Options struct {
	// ConfigDir holds telemetry.json (the persisted choice, the endpoint and
	// the install id). Default: DefaultConfigDir().
	ConfigDir string
	// Version is Pitlane's version; only plain release versions are sent.
	Version string
	// Client is the front end: "cli" (the default), "vscode" or
	// "jetbrains".
	Client string
	// Endpoint is the OTLP/HTTP metrics URL used when neither the settings
	// file nor the environment names one. Default: DefaultEndpoint.
	Endpoint string
	// Logger receives export failures at debug level. Default:
	// slog.Default().
	Logger *slog.Logger
	// Interval is how often a long-running process (the bridge) sends what
	// it recorded. Default: 15 minutes.
	Interval time.Duration
}

// Recorder records usage metrics. All methods are safe for concurrent use
// and do nothing unless telemetry is on.
type Recorder struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	client   string
	ide      *ideConsent
	loaded   bool
	settings settings
	loadErr  error
	pipe     *pipeline
	pipeErr  error
	closed   bool
}

type ideConsent struct{ setting, global bool }

// New returns a Recorder. It reads nothing, writes nothing and opens no
// connection; the export pipeline is built on the first recording made
// with consent.
func New(opts Options) *Recorder {
	if opts.ConfigDir == "" {
		opts.ConfigDir = DefaultConfigDir()
	}
	if opts.Endpoint == "" {
		opts.Endpoint = DefaultEndpoint
	}
	if opts.Interval <= 0 {
		opts.Interval = 15 * time.Minute
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	silenceOTel(log)
	if opts.Client == "" {
		opts.Client = "cli"
	}
	return &Recorder{opts: opts, log: log, client: normalizeClient(opts.Client)}
}

// SetClient names the front end driving this process: "cli", "vscode",
// "jetbrains"; anything else is reported as "other". Any client but "cli"
// is governed by SetIDEConsent: nothing is recorded until the IDE has
// reported its settings. Call it before anything is recorded.
func (r *Recorder) SetClient(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.client = normalizeClient(name)
}

// SetIDEConsent applies the consent an IDE reports: settingEnabled is the
// IDE's Pitlane telemetry setting, ideTelemetryEnabled the IDE's global
// telemetry switch. For the rest of this process telemetry is on only if
// both are true (and the environment does not force it off). The persisted
// choice of `pitlane telemetry enable/disable` is neither used nor changed:
// it governs the command line, the IDE setting governs the IDE's session.
// Data recorded but not yet sent is dropped when consent goes off. The
// error reports a failure to store the install id; telemetry then stays
// off.
func (r *Recorder) SetIDEConsent(settingEnabled, ideTelemetryEnabled bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ide = &ideConsent{setting: settingEnabled, global: ideTelemetryEnabled}
	if on, _ := r.stateLocked(); !on {
		return nil
	}
	if _, err := ensureInstallID(r.opts.ConfigDir); err != nil {
		r.pipeErr = err
		return fmt.Errorf("telemetry stays off: cannot store the install id: %w", err)
	}
	return nil
}

// WorkspaceCreated records a creation. outcome is "success",
// "hooks_failed" or "failure"; configKind "devcontainer", "dockerfile", "detected",
// "image" or "default"; failedStep "" or one of "source", "config",
// "build", "container", "hooks". Other values are recorded as "other".
func (r *Recorder) WorkspaceCreated(outcome, configKind, failedStep string, d time.Duration) {
	r.record(func(p *pipeline) {
		p.created(allowed(keyOutcome, outcome), allowed(keyConfigKind, configKind), normalizeFailedStep(failedStep), d)
	})
}

// WorkspaceStarted records a start.
func (r *Recorder) WorkspaceStarted() { r.record(func(p *pipeline) { p.count(instStarts) }) }

// WorkspaceStopped records a stop.
func (r *Recorder) WorkspaceStopped() { r.record(func(p *pipeline) { p.count(instStops) }) }

// WorkspaceDeleted records a delete.
func (r *Recorder) WorkspaceDeleted() { r.record(func(p *pipeline) { p.count(instDeletions) }) }

// IDEOpened records that a workspace was opened in the editor ide (an id
// from the fixed list in docs/telemetry.md; others are sent as "other").
func (r *Recorder) IDEOpened(ide string) {
	r.record(func(p *pipeline) { p.ideOpened(normalizeIDE(ide)) })
}

// Shutdown sends what is left and stops the pipeline. It runs on a fresh
// context derived from ctx without its cancellation, limited to
// FlushBudget, so an interrupted command still gets a short flush and no
// command waits longer. The error is for debug logs only: telemetry
// failures are never shown to users.
func (r *Recorder) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	p := r.pipe
	r.pipe = nil
	r.closed = true
	r.mu.Unlock()
	if p == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), FlushBudget)
	defer cancel()
	err := p.shutdown(ctx)
	if err != nil {
		r.log.Debug("telemetry: final export failed", "err", err)
	}
	return err
}

func (r *Recorder) record(f func(*pipeline)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if on, _ := r.stateLocked(); !on {
		return
	}
	if r.pipe == nil {
		if r.pipeErr != nil {
			return
		}
		id, err := ensureInstallID(r.opts.ConfigDir)
		if err != nil {
			r.pipeErr = err
			r.log.Debug("telemetry: off, cannot store the install id", "err", err)
			return
		}
		r.pipe, r.pipeErr = newPipeline(pipelineConfig{
			endpoint: r.endpointLocked(),
			resource: resourceValues{installID: id, client: r.client, version: r.opts.Version},
			gate:     r.enabled,
			interval: r.opts.Interval,
			timeout:  10 * time.Second,
		})
		if r.pipeErr != nil {
			r.log.Debug("telemetry: off, cannot set up the exporter", "err", r.pipeErr)
			return
		}
	}
	f(r.pipe)
}

// Enabled reports whether telemetry is on in this process now: consent
// given and not overridden by the environment or the IDE.
func (r *Recorder) Enabled() bool { return r.enabled() }

// enabled reports whether data may be sent now; the exporter asks it
// before each export.
func (r *Recorder) enabled() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	on, _ := r.stateLocked()
	return on
}

// Status says whether telemetry is on in this process, why, and where it
// would send.
type Status struct {
	Enabled bool
	// Reason explains Enabled in a sentence.
	Reason string
	// Endpoint is where data goes, and EndpointFrom where that came from
	// ("environment", "settings", "default").
	Endpoint     string
	EndpointFrom string
	// InstallID is empty until telemetry is first used.
	InstallID string
	// SettingsFile is the file holding the persisted choice.
	SettingsFile string
	Client       string
}

// Status reports the current state.
func (r *Recorder) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	on, why := r.stateLocked()
	st := Status{Enabled: on, Reason: why, Client: r.client, InstallID: r.settings.InstallID,
		SettingsFile: settingsPath(r.opts.ConfigDir)}
	st.Endpoint, st.EndpointFrom = r.endpointSourceLocked()
	return st
}

// stateLocked decides consent. Order: the environment, then (for IDE
// clients) the IDE's report, then (for the command line) the persisted
// choice. Off is the default everywhere.
func (r *Recorder) stateLocked() (bool, string) {
	if off, why := envForcesOff(); off {
		return false, why
	}
	if r.client != "cli" {
		switch {
		case r.ide == nil:
			return false, "off: waiting for the IDE to report its telemetry settings"
		case !r.ide.global:
			return false, "off: the IDE's own telemetry is turned off"
		case !r.ide.setting:
			return false, "off: not enabled in the IDE's Pitlane settings"
		default:
			return true, "on: enabled in the IDE's Pitlane settings"
		}
	}
	r.loadLocked()
	if r.loadErr != nil {
		return false, "off: " + r.loadErr.Error()
	}
	s := r.settings
	switch {
	case s.Enabled == nil:
		return false, "off: never enabled (telemetry is off by default; turn it on with `pitlane telemetry enable`)"
	case *s.Enabled:
		return true, "on: enabled with `pitlane telemetry enable`" + since(s.ChangedAt)
	default:
		return false, "off: disabled with `pitlane telemetry disable`" + since(s.ChangedAt)
	}
}

func since(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " on " + t.Local().Format("2006-01-02")
}

func (r *Recorder) loadLocked() {
	if r.loaded {
		return
	}
	r.loaded = true
	r.settings, r.loadErr = loadSettings(r.opts.ConfigDir)
}

func (r *Recorder) endpointLocked() string {
	e, _ := r.endpointSourceLocked()
	return e
}

func (r *Recorder) endpointSourceLocked() (string, string) {
	if e := strings.TrimSpace(os.Getenv(EnvEndpoint)); e != "" {
		return e, "environment (" + EnvEndpoint + ")"
	}
	r.loadLocked()
	if r.settings.Endpoint != "" {
		return r.settings.Endpoint, "settings file"
	}
	if r.opts.Endpoint != DefaultEndpoint {
		return r.opts.Endpoint, "build"
	}
	return DefaultEndpoint, "default"
}

// envForcesOff reports whether DO_NOT_TRACK or PITLANE_TELEMETRY turn
// telemetry off, whatever else says.
func envForcesOff() (bool, string) {
	if v := strings.TrimSpace(os.Getenv(EnvDoNotTrack)); v != "" && v != "0" && !strings.EqualFold(v, "false") {
		return true, "off: " + EnvDoNotTrack + " is set in the environment"
	}
	switch strings.ToLower(strings.TrimSpace(os.Getenv(EnvTelemetry))) {
	case "off", "0", "false", "no", "disable", "disabled":
		return true, "off: " + EnvTelemetry + "=off is set in the environment"
	}
	return false, ""
}

// Enable stores the command line's consent in the settings file and makes
// sure an install id exists. endpoint, if not empty, is stored as the
// endpoint.
func (r *Recorder) Enable(endpoint string) error {
	if endpoint != "" {
		if _, err := metricsURL(endpoint); err != nil {
			return err
		}
	}
	return r.update(func(s *settings) {
		on := true
		s.Enabled, s.ChangedAt = &on, time.Now().UTC()
		if endpoint != "" {
			s.Endpoint = endpoint
		}
		if !validUUID(s.InstallID) {
			s.InstallID = newInstallID()
		}
	})
}

// Disable stores the command line's refusal in the settings file. The
// install id is kept so that enabling again does not count as a new
// install; ResetID replaces it.
func (r *Recorder) Disable() error {
	return r.update(func(s *settings) {
		off := false
		s.Enabled, s.ChangedAt = &off, time.Now().UTC()
	})
}

// ResetID replaces the install id with a new random one and returns it.
func (r *Recorder) ResetID() (string, error) {
	var id string
	err := r.update(func(s *settings) {
		id = newInstallID()
		s.InstallID = id
	})
	return id, err
}

// update changes the settings file and the cached copy.
func (r *Recorder) update(f func(*settings)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, err := loadSettings(r.opts.ConfigDir)
	if err != nil {
		return err
	}
	f(&s)
	if err := saveSettings(r.opts.ConfigDir, s); err != nil {
		return err
	}
	r.settings, r.loadErr, r.loaded = s, nil, true
	return nil
}

// silenceOTel routes OpenTelemetry's own error reports to the debug log, so
// that a failed export never prints anything to the user.
var silenceOnce sync.Once

func silenceOTel(log *slog.Logger) {
	silenceOnce.Do(func() { setOTelErrorSink(log) })
}
