package bridge_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/protocol"
)

// BenchmarkListRoundTrip measures a workspace/list round trip with 100
// workspaces through the whole bridge layer (framing, dispatch, encoding)
// in process. The engine is the in-memory fake, so this measures the bridge,
// not Docker. The baseline, measured in the same run, is the round trip of
// telemetry/setConsent, which does no work: "x-baseline" is the ratio.
func BenchmarkListRoundTrip(b *testing.B) {
	fm := newFakeManager(b.TempDir())
	for i := range 100 {
		_, err := fm.Create(context.Background(), workspace.CreateOptions{Source: "/src/project", Name: fmt.Sprintf("ws-%03d", i)})
		must(b, err)
	}
	c := newClient(b, inProcessConn(b, bridge.Options{Manager: fm}))
	initialize(b, c)
	ctx := context.Background()
	rtt := func(method string, params any, n int) []time.Duration {
		d := make([]time.Duration, n)
		for i := range n {
			start := time.Now()
			var res protocol.ListResult
			must(b, c.conn.Call(ctx, method, params, &res))
			d[i] = time.Since(start)
		}
		slices.Sort(d)
		return d
	}
	base := rtt(protocol.MethodTelemetrySetConsent, protocol.SetConsentParams{}, 200)
	b.ResetTimer()
	d := rtt(protocol.MethodWorkspaceList, nil, b.N)
	b.StopTimer()
	p := func(d []time.Duration, q float64) float64 {
		return float64(d[int(q*float64(len(d)-1))].Microseconds())
	}
	b.ReportMetric(p(d, 0.50), "p50-µs")
	b.ReportMetric(p(d, 0.99), "p99-µs")
	b.ReportMetric(p(base, 0.50), "baseline-p50-µs")
	if p(base, 0.5) > 0 {
		b.ReportMetric(p(d, 0.50)/p(base, 0.50), "x-baseline")
	}
}

// BenchmarkStartToInitialize measures from spawning `pitlane bridge` to
// the initialize result. The baseline, measured in the same run, is
// spawning `pitlane --version` until it exits (process start of the same
// binary): "x-baseline" is the ratio.
func BenchmarkStartToInitialize(b *testing.B) {
	bin := pitlaneBinary(b)
	env := newEngineEnv(b)
	var base time.Duration
	const baseRuns = 10
	for range baseRuns {
		start := time.Now()
		cmd := exec.Command(bin, "--version")
		cmd.Env = env.environ()
		must(b, cmd.Run())
		base += time.Since(start)
	}
	base /= baseRuns
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		start := time.Now()
		tr, cmd := startBinary(b, env)
		c := newClient(b, pipeRWC{chanReader(tr.msgs), tr.in})
		initialize(b, c)
		total += time.Since(start)
		b.StopTimer()
		c.conn.Close()
		tr.in.Close()
		tr.wait()
		_ = cmd
		b.StartTimer()
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/init")
	b.ReportMetric(float64(base.Microseconds())/1000, "baseline-ms")
	b.ReportMetric(float64(per)/float64(base), "x-baseline")
}

// BenchmarkIdleRSS reports the resident memory of an initialized, idle
// `pitlane bridge` (following Docker events if an engine answers), next to
// that of `pitlane --help` paused on its output pipe as a baseline.
func BenchmarkIdleRSS(b *testing.B) {
	bin := pitlaneBinary(b)
	env := newEngineEnv(b)
	var rss float64
	for range b.N {
		tr, cmd := startBinary(b, env)
		c := newClient(b, pipeRWC{chanReader(tr.msgs), tr.in})
		initialize(b, c)
		time.Sleep(time.Second)
		rss = vmRSS(b, cmd.Process.Pid)
		c.conn.Close()
		tr.in.Close()
		tr.wait()
	}
	b.ReportMetric(rss/1024, "RSS-MiB")
	// Baseline: the same binary blocked in a trivial command's output.
	cmd := exec.Command(bin, "bridge", "--log-file=")
	cmd.Env = env.environ()
	stdin, err := cmd.StdinPipe()
	must(b, err)
	must(b, cmd.Start())
	time.Sleep(500 * time.Millisecond)
	base := vmRSS(b, cmd.Process.Pid)
	stdin.Close()
	cmd.Wait()
	b.ReportMetric(base/1024, "uninitialized-RSS-MiB")
	b.ReportMetric(rss/base, "x-uninitialized")
}

// vmRSS reads a process's resident set size in KiB from /proc.
func vmRSS(b *testing.B, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("cannot read process memory: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			must(b, err)
			return v
		}
	}
	b.Fatal("no VmRSS in /proc status")
	return 0
}
