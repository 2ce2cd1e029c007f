package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/testenv"
	"github.com/pitlane/pitlane/telemetry"
	"github.com/pitlane/pitlane/telemetry/telemetrytest"
)

// BenchmarkTelemetryCommand times `pitlane start NAME` of a stopped
// workspace (the built binary, the real engine) with telemetry on and a
// receiver, a refused port, an endpoint that never answers and one that
// answers after 5 s, against the same command with telemetry off
// (DO_NOT_TRACK=1) in the same iterations. It reports the medians, their
// ratio and the added milliseconds, which the flush budget bounds.
//
//	go test ./cmd/pitlane -run '^$' -bench TelemetryCommand -benchtime 5x
func BenchmarkTelemetryCommand(b *testing.B) {
	testenv.Docker(b)
	bin := testenv.Binary(b)
	root := b.TempDir()
	env := append(os.Environ(),
		"HOME="+filepath.Join(root, "home"),
		"XDG_DATA_HOME="+filepath.Join(root, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(root, "config"),
		"PITLANE_INSTANCE=bench-"+testenv.ID(),
		"PITLANE_TELEMETRY=",
	)
	run := func(extra ...string) time.Duration {
		b.Helper()
		cmd := exec.Command(bin, extra[1:]...)
		cmd.Env = append(append([]string(nil), env...), extra[0])
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("pitlane %v: %v\n%s", extra[1:], err, out)
		}
		return time.Since(start)
	}
	src := filepath.Join(root, "src")
	os.MkdirAll(filepath.Join(src, ".devcontainer"), 0o755)
	cfg, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "image", ".devcontainer", "devcontainer.json"))
	if err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, ".devcontainer", "devcontainer.json"), cfg, 0o644)
	name := "bench-" + testenv.ID()
	run("DO_NOT_TRACK=1", "telemetry", "enable")
	run("DO_NOT_TRACK=1", "create", "-q", src, "--name", name)
	b.Cleanup(func() { run("DO_NOT_TRACK=1", "delete", "--force", name) })

	for _, ep := range []struct {
		name string
		url  func(testing.TB) string
	}{
		{"receiver", func(tb testing.TB) string { return telemetrytest.Start(tb, 0).URL }},
		{"refused", telemetrytest.RefusedEndpoint},
		{"no-answer", telemetrytest.SilentEndpoint},
		{"slow-5s", func(tb testing.TB) string { return telemetrytest.Start(tb, 5*time.Second).URL }},
	} {
		b.Run(ep.name, func(b *testing.B) {
			on := "PITLANE_TELEMETRY_ENDPOINT=" + ep.url(b)
			var offs, ons []time.Duration
			for i := 0; i < b.N; i++ {
				run("DO_NOT_TRACK=1", "stop", name)
				offs = append(offs, run("DO_NOT_TRACK=1", "start", name))
				run("DO_NOT_TRACK=1", "stop", name)
				ons = append(ons, run(on, "start", name))
			}
			// Medians: a container start varies by more than the budget on
			// a shared machine, and a mean would follow the outliers.
			off, onM := testenv.Median(offs), testenv.Median(ons)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(off), "off-median-ms")
			b.ReportMetric(ms(onM), "on-median-ms")
			b.ReportMetric(float64(onM)/float64(off), "on/off")
			b.ReportMetric(ms(onM-off), "added-ms")
			b.ReportMetric(ms(telemetry.FlushBudget), "budget-ms")
		})
	}
}
