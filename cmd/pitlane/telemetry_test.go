package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pitlane/pitlane/internal/testenv"
	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/telemetry/telemetrytest"
)

// telemetryOn isolates the test and turns telemetry on for the command
// line, sending to a fresh receiver.
func telemetryOn(t *testing.T) *telemetrytest.Receiver {
	t.Helper()
	testenv.Isolate(t)
	t.Setenv("DO_NOT_TRACK", "")
	t.Setenv("PITLANE_TELEMETRY", "")
	rc := telemetrytest.Start(t, 0)
	t.Setenv("PITLANE_TELEMETRY_ENDPOINT", rc.URL)
	return rc
}

// pitlane runs the built binary and returns its stdout; a failure is
// returned with stderr.
func pitlane(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("pitlane %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func mustPitlane(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := pitlane(t, bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTelemetryObserver drives the CLI's wiring with engine events whose
// names, sources, folders and branches carry marker strings: the payload
// counts the events and carries none of the markers.
func TestTelemetryObserver(t *testing.T) {
	rc := telemetryOn(t)
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	setupTelemetry(a)
	if err := recorderOf(a).Enable(""); err != nil {
		t.Fatal(err)
	}
	m := newMarkers()
	ws := &workspace.Workspace{
		Name:        m.name,
		Source:      workspace.Source{URL: "https://git.example/" + m.url + ".git", Ref: m.branch},
		LocalFolder: "/home/" + m.folder,
		Folder:      "/workspaces/" + m.folder,
		SSHHost:     m.name + ".pitlane",
		LastError:   "clone failed: " + m.url,
	}
	for _, ev := range []workspace.Event{
		{Kind: workspace.EventCreated, Name: m.name, Workspace: ws, Duration: 3 * time.Second, ConfigKind: workspace.KindDevcontainer},
		{Kind: workspace.EventCreated, Name: m.name, Workspace: ws, Duration: 4 * time.Second, ConfigKind: workspace.KindDockerfile, FailedStep: "hooks"},
		{Kind: workspace.EventCreateFailed, Name: m.name, Duration: time.Second, ConfigKind: workspace.KindDefault, FailedStep: "source"},
		{Kind: workspace.EventStarted, Name: m.name, Workspace: ws},
		{Kind: workspace.EventStopped, Name: m.name, Workspace: ws},
		{Kind: workspace.EventChanged, Name: m.name, Workspace: ws},
		{Kind: workspace.EventDeleted, Name: m.name},
	} {
		a.observe(ev)
	}
	a.close()

	got := series(rc.Requests(t))
	want := map[string]int64{
		"pitlane.workspace.creations{config_kind=devcontainer,failed_step=none,outcome=success}":     1,
		"pitlane.workspace.creations{config_kind=dockerfile,failed_step=hooks,outcome=hooks_failed}": 1,
		"pitlane.workspace.creations{config_kind=default,failed_step=source,outcome=failure}":        1,
		"pitlane.workspace.starts{}":    1,
		"pitlane.workspace.stops{}":     1,
		"pitlane.workspace.deletions{}": 1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d (got %v)", k, got[k], v, got)
		}
	}
	m.assertAbsent(t, rc)
}

// TestTelemetryCommands runs the telemetry verbs of the built binary.
func TestTelemetryCommands(t *testing.T) {
	bin := testenv.Binary(t) // before telemetryOn: the build needs the real HOME and Go caches
	rc := telemetryOn(t)

	out := mustPitlane(t, bin, "telemetry", "status")
	if !strings.Contains(out, "Telemetry:  off") || !strings.Contains(out, "never enabled") || !strings.Contains(out, "(none yet)") {
		t.Errorf("status before enabling:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "pitlane")); !os.IsNotExist(err) {
		t.Errorf("status created the config dir while telemetry is off")
	}

	mustPitlane(t, bin, "telemetry", "enable")
	out = mustPitlane(t, bin, "telemetry", "status")
	if !strings.Contains(out, "Telemetry:  on") || !strings.Contains(out, rc.URL) || strings.Contains(out, "(none yet)") {
		t.Errorf("status after enabling:\n%s", out)
	}

	t.Setenv("DO_NOT_TRACK", "1")
	out = mustPitlane(t, bin, "telemetry", "status")
	if !strings.Contains(out, "Telemetry:  off") || !strings.Contains(out, "DO_NOT_TRACK") {
		t.Errorf("status with DO_NOT_TRACK=1:\n%s", out)
	}
	t.Setenv("DO_NOT_TRACK", "")
	t.Setenv("PITLANE_TELEMETRY", "off")
	out = mustPitlane(t, bin, "telemetry", "status")
	if !strings.Contains(out, "Telemetry:  off") || !strings.Contains(out, "PITLANE_TELEMETRY") {
		t.Errorf("status with PITLANE_TELEMETRY=off:\n%s", out)
	}
	t.Setenv("PITLANE_TELEMETRY", "")

	idBefore := installID(t)
	out = mustPitlane(t, bin, "telemetry", "reset-id")
	if idAfter := installID(t); idAfter == idBefore || !strings.Contains(out, idAfter) {
		t.Errorf("reset-id: %q -> %q, printed %q", idBefore, idAfter, out)
	}

	out = mustPitlane(t, bin, "telemetry", "preview")
	var req colmetricpb.ExportMetricsServiceRequest
	if err := protojson.Unmarshal([]byte(out), &req); err != nil {
		t.Fatalf("preview is not one OTLP JSON request: %v\n%s", err, out)
	}
	if !strings.Contains(out, installID(t)) || !strings.Contains(out, "pitlane.workspace.creations") {
		t.Errorf("preview lacks the install id or the instruments:\n%s", out)
	}
	if rc.Count() != 0 {
		t.Errorf("the telemetry verbs sent %d requests; they record nothing", rc.Count())
	}

	mustPitlane(t, bin, "telemetry", "disable")
	out = mustPitlane(t, bin, "telemetry", "status")
	if !strings.Contains(out, "Telemetry:  off") || !strings.Contains(out, "disabled with") {
		t.Errorf("status after disabling:\n%s", out)
	}
}

func installID(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "pitlane", "telemetry.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ InstallID string }
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s.InstallID
}

// markers are unique strings put into everything a user could consider
// private.
type markers struct{ url, folder, branch, name string }

func newMarkers() markers {
	id := testenv.ID()
	return markers{
		url:    "urlmark" + id,
		folder: "foldermark" + id,
		branch: "branchmark" + id,
		name:   "namemark" + id,
	}
}

// assertAbsent checks that no payload carries a marker, the host name, the
// user name or the home folder, and that something did arrive.
func (m markers) assertAbsent(t *testing.T, rc *telemetrytest.Receiver) {
	t.Helper()
	raw := rc.Raw()
	if len(raw) == 0 {
		t.Fatal("nothing arrived at the receiver: the privacy check would be empty")
	}
	long := []string{m.url, m.folder, m.branch, m.name, os.Getenv("HOME")}
	var short []string
	for _, s := range identities(t) {
		if len(s) >= 6 {
			long = append(long, s)
		} else {
			short = append(short, s)
		}
	}
	for i, b := range raw {
		for _, s := range long {
			if s != "" && bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(s))) {
				t.Errorf("payload %d contains %q", i, s)
			}
		}
	}
	// Names too short for a byte search (they could occur by chance in
	// binary fields) must not occur in any string of the payload.
	for _, req := range rc.Requests(t) {
		for _, str := range strings_(req.ProtoReflect()) {
			for _, s := range short {
				for _, w := range strings.FieldsFunc(strings.ToLower(str), func(r rune) bool {
					return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
				}) {
					if w == strings.ToLower(s) {
						t.Errorf("payload string %q contains the name %q", str, s)
					}
				}
			}
		}
	}
}

// identities are the host and user names of this machine.
func identities(t *testing.T) []string {
	var ids []string
	if h, err := os.Hostname(); err == nil && h != "" {
		ids = append(ids, h)
	}
	if u, err := user.Current(); err == nil {
		ids = append(ids, u.Username)
		if u.Name != "" {
			ids = append(ids, u.Name)
		}
	}
	if len(ids) == 0 {
		t.Fatal("cannot learn the host and user names")
	}
	return ids
}

// strings_ returns every string field of a message, recursively.
func strings_(m protoreflect.Message) []string {
	var out []string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				if fd.Kind() == protoreflect.MessageKind {
					out = append(out, strings_(l.Get(i).Message())...)
				} else if fd.Kind() == protoreflect.StringKind {
					out = append(out, l.Get(i).String())
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			out = append(out, strings_(v.Message())...)
		case fd.Kind() == protoreflect.StringKind:
			out = append(out, v.String())
		}
		return true
	})
	return out
}

// series sums the data points of reqs by instrument and attributes
// (counters: the value; histograms: the count).
func series(reqs []*colmetricpb.ExportMetricsServiceRequest) map[string]int64 {
	got := map[string]int64{}
	key := func(name string, attrs []*commonpb.KeyValue) string {
		var parts []string
		for _, kv := range attrs {
			parts = append(parts, kv.Key+"="+kv.Value.GetStringValue())
		}
		return name + "{" + strings.Join(sortedStrings(parts), ",") + "}"
	}
	for _, req := range reqs {
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					if s := m.GetSum(); s != nil {
						for _, dp := range s.DataPoints {
							got[key(m.Name, dp.Attributes)] += dp.GetAsInt()
						}
					}
					if h := m.GetHistogram(); h != nil {
						for _, dp := range h.DataPoints {
							got[key(m.Name+"#count", dp.Attributes)] += int64(dp.Count)
						}
					}
				}
			}
		}
	}
	return got
}

func sortedStrings(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

// TestTelemetryPrivacyCreate runs real creates, a stop, a start and deletes
// through the built binary against the Docker engine, from a repository
// whose URL, folder, branch and workspace names carry marker strings, and
// checks that the exported payloads count what happened and carry none of
// the markers, nor the host or user names.
func TestTelemetryPrivacyCreate(t *testing.T) {
	testenv.Docker(t)
	bin := testenv.Binary(t) // before telemetryOn: the build needs the real HOME and Go caches
	rc := telemetryOn(t)
	m := newMarkers()

	repo := filepath.Join(t.TempDir(), m.url, m.folder)
	if err := os.MkdirAll(filepath.Join(repo, ".devcontainer"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "image", ".devcontainer", "devcontainer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, ".devcontainer", "devcontainer.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "."},
		{"-c", "user.name=" + m.name, "-c", "user.email=" + m.name + "@example.invalid", "commit", "-qm", "init " + m.branch},
		{"branch", m.branch},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	url := "file://" + repo
	fromGit, fromFolder, failing := m.name+"-git", m.name+"-dir", m.name+"-bad"
	t.Cleanup(func() {
		for _, n := range []string{fromGit, fromFolder, failing} {
			pitlane(t, bin, "delete", "--force", n)
		}
	})

	mustPitlane(t, bin, "telemetry", "enable")
	mustPitlane(t, bin, "create", "-q", url, "--branch", m.branch, "--name", fromGit)
	if _, err := pitlane(t, bin, "create", "-q", url, "--branch", m.branch+"-missing", "--name", failing); err == nil {
		t.Fatal("create from a missing branch succeeded")
	} else if !strings.Contains(err.Error(), m.branch) {
		t.Logf("the failure message does not name the branch (fine, but the check below is weaker): %v", err)
	}
	mustPitlane(t, bin, "create", "-q", repo, "--name", fromFolder)
	mustPitlane(t, bin, "stop", fromGit)
	mustPitlane(t, bin, "start", fromGit)
	mustPitlane(t, bin, "delete", "--force", fromGit)
	mustPitlane(t, bin, "delete", "--force", fromFolder)

	got := series(rc.Requests(t))
	want := map[string]int64{
		"pitlane.workspace.creations{config_kind=devcontainer,failed_step=none,outcome=success}": 2,
		"pitlane.workspace.stops{}":     1,
		"pitlane.workspace.deletions{}": 2,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	var failures int64
	for k, v := range got {
		if strings.HasPrefix(k, "pitlane.workspace.creations{") && strings.Contains(k, "outcome=failure") {
			failures += v
		}
	}
	if failures != 1 || got["pitlane.workspace.starts{}"] < 1 {
		t.Errorf("want one failed creation and a start: %v", got)
	}
	m.assertAbsent(t, rc)
}
