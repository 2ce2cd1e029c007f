package telemetry

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"github.com/pitlane/pitlane/telemetry/telemetrytest"
)

// cleanEnv removes every variable that governs telemetry, so the host's
// environment cannot change a test's outcome.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{EnvDoNotTrack, EnvTelemetry, EnvEndpoint} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// newRecorder returns a recorder for client with its own config dir,
// sending to rc.
func newRecorder(t *testing.T, rc *telemetrytest.Receiver, client string) *Recorder {
	t.Helper()
	return New(Options{ConfigDir: t.TempDir(), Version: "1.2.3", Client: client, Endpoint: rc.URL})
}

// recordAll records at least one data point of every instrument, some with
// values outside the documented sets.
func recordAll(r *Recorder) {
	r.WorkspaceCreated("success", "devcontainer", "", 42*time.Second)
	r.WorkspaceCreated("failure", "dockerfile", "build", 3*time.Second)
	r.WorkspaceCreated("hooks_failed", "image", "hooks", 9*time.Second)
	r.WorkspaceCreated("weird outcome", "something/else", "a step nobody knows", time.Second)
	r.WorkspaceStarted()
	r.WorkspaceStarted()
	r.WorkspaceStopped()
	r.WorkspaceDeleted()
	r.IDEOpened("code")
	r.IDEOpened("goland")
	r.IDEOpened("my private editor")
}

func shutdown(t *testing.T, r *Recorder) {
	t.Helper()
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func attrMap(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.GetStringValue()
	}
	return m
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func attrDoc(key string) (Attribute, bool) {
	for _, a := range append(slices.Clone(DataPointAttributes), ResourceAttributes...) {
		if a.Key == key {
			return a, true
		}
	}
	return Attribute{}, false
}

// checkPayload verifies that reqs hold exactly the documented instruments,
// attribute keys and values, and returns the data points' values by
// instrument and attribute set.
func checkPayload(t *testing.T, reqs []*colmetricpb.ExportMetricsServiceRequest, wantClient string) map[string]float64 {
	t.Helper()
	got := map[string]float64{}
	seen := map[string]bool{}
	for _, req := range reqs {
		for _, rm := range req.ResourceMetrics {
			res := attrMap(rm.Resource.GetAttributes())
			var docKeys []string
			for _, a := range ResourceAttributes {
				docKeys = append(docKeys, a.Key)
			}
			if !slices.Equal(keys(res), sorted(docKeys)) {
				t.Errorf("resource attribute keys = %v, documented %v", keys(res), sorted(docKeys))
			}
			for k, v := range res {
				checkValue(t, k, v)
			}
			if res[keyClient] != wantClient {
				t.Errorf("client = %q, want %q", res[keyClient], wantClient)
			}
			for _, sm := range rm.ScopeMetrics {
				if sm.Scope.GetName() != ScopeName {
					t.Errorf("scope = %q, want %q", sm.Scope.GetName(), ScopeName)
				}
				if len(sm.Scope.GetAttributes()) != 0 || sm.SchemaUrl != "" {
					t.Errorf("scope carries undocumented data: %v %q", sm.Scope.GetAttributes(), sm.SchemaUrl)
				}
				for _, m := range sm.Metrics {
					seen[m.Name] = true
					checkMetric(t, m, got)
				}
			}
		}
	}
	var names, want []string
	for n := range seen {
		names = append(names, n)
	}
	for _, in := range Instruments {
		want = append(want, in.Name)
	}
	if !slices.Equal(sorted(names), sorted(want)) {
		t.Errorf("instruments exported = %v, documented %v", sorted(names), sorted(want))
	}
	return got
}

func checkValue(t *testing.T, key, v string) {
	t.Helper()
	a, ok := attrDoc(key)
	if !ok {
		t.Errorf("undocumented attribute %q=%q", key, v)
		return
	}
	switch {
	case a.Values != nil:
		if !slices.Contains(a.Values, v) {
			t.Errorf("attribute %s=%q is not one of %v", key, v, a.Values)
		}
	case key == keyInstallID:
		if !validUUID(v) {
			t.Errorf("install id %q is not a UUID", v)
		}
	case key == keyServiceVersion:
		if v != "dev" && normalizeVersion(v) != v {
			t.Errorf("version %q is not a release version", v)
		}
	default:
		t.Errorf("no check for attribute %s", key)
	}
}

func checkMetric(t *testing.T, m *metricpb.Metric, got map[string]float64) {
	t.Helper()
	var in *Instrument
	for i := range Instruments {
		if Instruments[i].Name == m.Name {
			in = &Instruments[i]
		}
	}
	if in == nil {
		t.Errorf("undocumented instrument %q", m.Name)
		return
	}
	if m.Unit != in.Unit {
		t.Errorf("%s: unit %q, documented %q", m.Name, m.Unit, in.Unit)
	}
	check := func(attrs []*commonpb.KeyValue, v float64, exemplars int) {
		am := attrMap(attrs)
		if !slices.Equal(keys(am), sorted(in.Attributes)) {
			t.Errorf("%s: attribute keys %v, documented %v", m.Name, keys(am), sorted(in.Attributes))
		}
		if exemplars != 0 {
			t.Errorf("%s: %d exemplars exported", m.Name, exemplars)
		}
		var parts []string
		for _, k := range keys(am) {
			checkValue(t, k, am[k])
			parts = append(parts, k+"="+am[k])
		}
		got[m.Name+"{"+strings.Join(parts, ",")+"}"] += v
	}
	switch d := m.Data.(type) {
	case *metricpb.Metric_Sum:
		if in.Kind != "counter" {
			t.Errorf("%s: exported as a sum, documented as %s", m.Name, in.Kind)
		}
		for _, dp := range d.Sum.DataPoints {
			check(dp.Attributes, float64(dp.GetAsInt()), len(dp.Exemplars))
		}
	case *metricpb.Metric_Histogram:
		if in.Kind != "histogram" {
			t.Errorf("%s: exported as a histogram, documented as %s", m.Name, in.Kind)
		}
		for _, dp := range d.Histogram.DataPoints {
			check(dp.Attributes, float64(dp.Count), len(dp.Exemplars))
		}
	default:
		t.Errorf("%s: unexpected data type %T", m.Name, m.Data)
	}
}

func TestExportWithConsent(t *testing.T) {
	cleanEnv(t)
	rc := telemetrytest.Start(t, 0)
	r := newRecorder(t, rc, "cli")
	if err := r.Enable(""); err != nil {
		t.Fatal(err)
	}
	recordAll(r)
	shutdown(t, r)

	reqs := rc.Requests(t)
	if len(reqs) == 0 {
		t.Fatal("nothing arrived at the receiver")
	}
	got := checkPayload(t, reqs, "cli")
	want := map[string]float64{
		"pitlane.workspace.creations{config_kind=devcontainer,failed_step=none,outcome=success}": 1,
		"pitlane.workspace.creations{config_kind=dockerfile,failed_step=build,outcome=failure}":  1,
		"pitlane.workspace.creations{config_kind=image,failed_step=hooks,outcome=hooks_failed}":  1,
		"pitlane.workspace.creations{config_kind=other,failed_step=other,outcome=other}":         1,
		"pitlane.workspace.creation.duration{config_kind=devcontainer,outcome=success}":          1,
		"pitlane.workspace.creation.duration{config_kind=dockerfile,outcome=failure}":            1,
		"pitlane.workspace.creation.duration{config_kind=image,outcome=hooks_failed}":            1,
		"pitlane.workspace.creation.duration{config_kind=other,outcome=other}":                   1,
		"pitlane.workspace.starts{}":    2,
		"pitlane.workspace.stops{}":     1,
		"pitlane.workspace.deletions{}": 1,
		"pitlane.ide.opens{ide=vscode}": 1,
		"pitlane.ide.opens{ide=goland}": 1,
		"pitlane.ide.opens{ide=other}":  1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d series, want %d: %v", len(got), len(want), got)
	}

	// The install id sent is the stored one.
	st := r.Status()
	res := attrMap(reqs[0].ResourceMetrics[0].Resource.Attributes)
	if res[keyInstallID] != st.InstallID || st.InstallID == "" {
		t.Errorf("install id sent %q, stored %q", res[keyInstallID], st.InstallID)
	}
	if res[keyServiceVersion] != "1.2.3" {
		t.Errorf("version = %q", res[keyServiceVersion])
	}
}

func TestNothingArrives(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		setup func(t *testing.T, r *Recorder)
	}{
		{name: "never enabled"},
		{name: "disabled", setup: func(t *testing.T, r *Recorder) { must(t, r.Disable()) }},
		{name: "enabled then disabled", setup: func(t *testing.T, r *Recorder) { must(t, r.Enable("")); must(t, r.Disable()) }},
		{name: "DO_NOT_TRACK=1", env: map[string]string{EnvDoNotTrack: "1"}, setup: enable},
		{name: "DO_NOT_TRACK=true", env: map[string]string{EnvDoNotTrack: "true"}, setup: enable},
		{name: "PITLANE_TELEMETRY=off", env: map[string]string{EnvTelemetry: "off"}, setup: enable},
		{name: "IDE without consent report", setup: func(t *testing.T, r *Recorder) { enable(t, r); r.SetClient("vscode") }},
		{name: "IDE telemetry off", setup: func(t *testing.T, r *Recorder) {
			enable(t, r)
			r.SetClient("vscode")
			must(t, r.SetIDEConsent(true, false))
		}},
		{name: "IDE setting off", setup: func(t *testing.T, r *Recorder) {
			enable(t, r)
			r.SetClient("jetbrains")
			must(t, r.SetIDEConsent(false, true))
		}},
		{name: "IDE consent on with DO_NOT_TRACK", env: map[string]string{EnvDoNotTrack: "1"}, setup: func(t *testing.T, r *Recorder) {
			r.SetClient("vscode")
			must(t, r.SetIDEConsent(true, true))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			rc := telemetrytest.Start(t, 0)
			r := newRecorder(t, rc, "cli")
			if tc.setup != nil {
				tc.setup(t, r)
			}
			recordAll(r)
			shutdown(t, r)
			if n := rc.Count(); n != 0 {
				t.Errorf("%d requests arrived, want none", n)
			}
			if st := r.Status(); st.Enabled || !strings.HasPrefix(st.Reason, "off: ") {
				t.Errorf("status = %+v, want off with a reason", st)
			}
		})
	}
}

func TestIDEConsentGoesOffDropsPending(t *testing.T) {
	cleanEnv(t)
	rc := telemetrytest.Start(t, 0)
	r := newRecorder(t, rc, "cli")
	r.SetClient("vscode")
	must(t, r.SetIDEConsent(true, true))
	recordAll(r)
	must(t, r.SetIDEConsent(true, false))
	shutdown(t, r)
	if n := rc.Count(); n != 0 {
		t.Errorf("%d requests arrived after the IDE turned telemetry off, want none", n)
	}
}

func TestIDEConsentIndependentOfCommandLine(t *testing.T) {
	cleanEnv(t)
	rc := telemetrytest.Start(t, 0)
	r := newRecorder(t, rc, "cli")
	must(t, r.Disable()) // the command line said no; the IDE setting governs the IDE's session
	r.SetClient("vscode")
	must(t, r.SetIDEConsent(true, true))
	recordAll(r)
	shutdown(t, r)
	checkPayload(t, rc.Requests(t), "vscode")
	if rc.Count() == 0 {
		t.Fatal("nothing arrived with the IDE's consent")
	}
	s, err := loadSettings(r.opts.ConfigDir)
	must(t, err)
	if s.Enabled == nil || *s.Enabled {
		t.Errorf("IDE consent changed the persisted choice: %+v", s)
	}
}

func TestNothingRecordedNothingSent(t *testing.T) {
	cleanEnv(t)
	rc := telemetrytest.Start(t, 0)
	r := newRecorder(t, rc, "cli")
	enable(t, r)
	shutdown(t, r)
	if n := rc.Count(); n != 0 {
		t.Errorf("%d requests for a process that recorded nothing", n)
	}
}

func TestEndpointPrecedence(t *testing.T) {
	cleanEnv(t)
	fromEnv, fromFile, fromOpts := telemetrytest.Start(t, 0), telemetrytest.Start(t, 0), telemetrytest.Start(t, 0)

	run := func(setEnv bool, file string) {
		if setEnv {
			t.Setenv(EnvEndpoint, fromEnv.URL)
		} else {
			os.Unsetenv(EnvEndpoint)
		}
		r := newRecorder(t, fromOpts, "cli")
		must(t, r.Enable(file))
		r.WorkspaceStarted()
		shutdown(t, r)
	}
	run(true, fromFile.URL)
	run(false, fromFile.URL)
	run(false, "")
	if fromEnv.Count() != 1 || fromFile.Count() != 1 || fromOpts.Count() != 1 {
		t.Errorf("requests: env %d, settings %d, options %d; want 1 each", fromEnv.Count(), fromFile.Count(), fromOpts.Count())
	}
}

func TestEndpointWithoutPath(t *testing.T) {
	cleanEnv(t)
	rc := telemetrytest.Start(t, 0)
	t.Setenv(EnvEndpoint, strings.TrimSuffix(rc.URL, "/v1/metrics"))
	r := newRecorder(t, rc, "cli")
	enable(t, r)
	r.WorkspaceStopped()
	shutdown(t, r)
	if rc.Count() != 1 {
		t.Errorf("requests = %d, want 1 at /v1/metrics", rc.Count())
	}
	if err := r.Enable("ftp://nowhere"); err == nil {
		t.Error("Enable accepted an endpoint that is not http(s)")
	}
}

func TestOTelEnvironmentAddsNothing(t *testing.T) {
	cleanEnv(t)
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "host.name=leaky-host,user=leaky-user")
	t.Setenv("OTEL_SERVICE_NAME", "leaky-service")
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-leak=leaky-header")
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://127.0.0.1:1/v1/metrics")
	rc := telemetrytest.Start(t, 0)
	r := newRecorder(t, rc, "cli")
	enable(t, r)
	recordAll(r)
	shutdown(t, r)
	checkPayload(t, rc.Requests(t), "cli")
	for _, b := range rc.Raw() {
		if strings.Contains(string(b), "leaky") {
			t.Errorf("payload carries a value from OTEL_* variables")
		}
	}
	if rc.Count() == 0 {
		t.Error("nothing arrived")
	}
}

func TestResetIDAndDisableKeepsID(t *testing.T) {
	cleanEnv(t)
	r := New(Options{ConfigDir: t.TempDir()})
	enable(t, r)
	id1 := r.Status().InstallID
	must(t, r.Disable())
	if id := r.Status().InstallID; id != id1 {
		t.Errorf("disable changed the id: %q -> %q", id1, id)
	}
	id2, err := r.ResetID()
	must(t, err)
	if id2 == id1 || !validUUID(id2) || r.Status().InstallID != id2 {
		t.Errorf("reset-id: %q -> %q (status %q)", id1, id2, r.Status().InstallID)
	}
	// A fresh recorder reads what was stored.
	r2 := New(Options{ConfigDir: r.opts.ConfigDir})
	if r2.Status().InstallID != id2 || r2.Status().Enabled {
		t.Errorf("fresh recorder: %+v", r2.Status())
	}
}

func TestNoFilesWhileOff(t *testing.T) {
	cleanEnv(t)
	dir := filepath.Join(t.TempDir(), "pitlane")
	r := New(Options{ConfigDir: dir})
	recordAll(r)
	r.Status()
	shutdown(t, r)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("config dir created while telemetry is off: %v", err)
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct{ got, want string }{
		{normalizeIDE("Code"), "vscode"},
		{normalizeIDE("idea"), "intellij"},
		{normalizeIDE("cursor"), "cursor"},
		{normalizeIDE("/home/alice/bin/editor"), Other},
		{normalizeClient("vscode"), "vscode"},
		{normalizeClient("emacs"), Other},
		{normalizeFailedStep(""), "none"},
		{normalizeFailedStep("build"), "build"},
		{normalizeFailedStep("clone of git@corp:secret.git failed"), Other},
		{normalizeVersion("v1.4.0"), "1.4.0"},
		{normalizeVersion("1.5.0-rc.1"), "1.5.0-rc.1"},
		{normalizeVersion("1.4.0-3-gdeadbee-dirty"), "dev"},
		{normalizeVersion("1.4.0-alice"), "dev"},
		{normalizeVersion("dev"), "dev"},
		{allowed(keyConfigKind, "devcontainer"), "devcontainer"},
		{allowed("no.such.key", "x"), Other},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q, want %q", i, c.got, c.want)
		}
	}
	if id := newInstallID(); !validUUID(id) || id[14] != '4' {
		t.Errorf("install id %q is not a version 4 UUID", id)
	}
}

func enable(t *testing.T, r *Recorder) { must(t, r.Enable("")) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestShutdownDoesNotHang: with an endpoint that accepts connections and
// never answers, Shutdown still returns (the flush budget itself is
// measured in BenchmarkFlush). Its error is for the debug log; the CLI
// never shows it.
func TestShutdownDoesNotHang(t *testing.T) {
	cleanEnv(t)
	r := New(Options{ConfigDir: t.TempDir(), Version: "1.2.3", Client: "cli", Endpoint: telemetrytest.SilentEndpoint(t)})
	if err := r.Enable(""); err != nil {
		t.Fatal(err)
	}
	recordAll(r)
	done := make(chan error, 1)
	go func() { done <- r.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		t.Logf("Shutdown returned: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return within 5 s against an endpoint that never answers")
	}
}
