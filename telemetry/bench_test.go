package telemetry

import (
	"context"
	"testing"
	"time"

	"github.com/pitlane/pitlane/telemetry/telemetrytest"
)

// BenchmarkFlush measures what telemetry adds to a command's run: the
// command's telemetry work (set up, record a creation and a start, shut
// down) with consent and a given endpoint, against the same work without
// consent, measured in the same iterations. It reports the mean and the
// worst added time; the worst must stay within FlushBudget plus a few
// milliseconds.
func BenchmarkFlush(b *testing.B) {
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
			b.Setenv(EnvDoNotTrack, "")
			b.Setenv(EnvTelemetry, "")
			b.Setenv(EnvEndpoint, ep.url(b))
			onDir, offDir := b.TempDir(), b.TempDir()
			if err := New(Options{ConfigDir: onDir}).Enable(""); err != nil {
				b.Fatal(err)
			}
			command := func(dir string) time.Duration {
				start := time.Now()
				r := New(Options{ConfigDir: dir, Version: "1.0.0"})
				r.WorkspaceCreated("success", "devcontainer", "", 3*time.Second)
				r.WorkspaceStarted()
				r.Shutdown(context.Background())
				return time.Since(start)
			}
			var off, on, worst time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				o := command(offDir)
				n := command(onDir)
				off += o
				on += n
				worst = max(worst, n-o)
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(off)/float64(b.N), "off-ms/op")
			b.ReportMetric(ms(on)/float64(b.N), "on-ms/op")
			b.ReportMetric(ms(on-off)/float64(b.N), "added-ms/op")
			b.ReportMetric(ms(worst), "max-added-ms")
			b.ReportMetric(ms(FlushBudget), "budget-ms")
		})
	}
}
