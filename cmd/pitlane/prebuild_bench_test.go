package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/testenv"
)

// BenchmarkPrebuiltCreateToExec measures `pitlane create` + the first
// `pitlane exec NAME -- true` of a configuration whose image takes over 20
// seconds to build, with the image prebuilt (`pitlane prebuild`), against
// the floor in the same iterations: `docker run -d` of the prebuilt image
// plus `docker exec CONTAINER true` (target: at most 1.5x). It also reports,
// in the same run, the same create without a prebuild (a build every time)
// and with the prebuilt image pulled from a loopback registry (after
// removing it here), each as a ratio to the floor.
func BenchmarkPrebuiltCreateToExec(b *testing.B) {
	if probeRun(b) {
		return
	}
	d := testenv.Docker(b)
	bin := testenv.Binary(b)
	root := b.TempDir()
	inst := "bench-" + testenv.ID()
	testenv.RemoveInstance(b, d, inst)
	b.Setenv("HOME", filepath.Join(root, "home"))
	b.Setenv("XDG_DATA_HOME", filepath.Join(root, "data"))
	b.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	b.Setenv("PITLANE_INSTANCE", inst)
	b.Setenv("DO_NOT_TRACK", "1")

	run := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			b.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	// A source whose build takes 20 s; id keeps Docker's layer cache from
	// ending a build early.
	project := func(id string) string {
		src := filepath.Join(root, "proj-"+id)
		os.MkdirAll(filepath.Join(src, ".devcontainer"), 0o755)
		os.WriteFile(filepath.Join(src, ".devcontainer", "Dockerfile"), []byte("FROM pitlane/base:bookworm\nRUN echo "+id+" && sleep 20\n"), 0o644)
		os.WriteFile(filepath.Join(src, ".devcontainer", "devcontainer.json"), []byte(`{"build": {"dockerfile": "Dockerfile"}, "onCreateCommand": "echo baked > /tmp/baked", "postCreateCommand": "echo ready > /tmp/ready"}`), 0o644)
		return src
	}
	createExec := func(src, name string, extra ...string) time.Duration {
		t0 := time.Now()
		run(bin, append([]string{"create", src, "--name", name, "-q"}, extra...)...)
		run(bin, "exec", name, "--", "true")
		return time.Since(t0)
	}

	src := project(testenv.ID())
	t0 := time.Now()
	key := strings.TrimSpace(run(bin, "prebuild", src, "-q", "--json"))
	b.Logf("prebuild: %v", time.Since(t0).Round(time.Millisecond))
	image := ""
	for _, line := range strings.Split(key, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), `"image": "`); ok {
			image = strings.TrimSuffix(v, `",`)
		}
	}
	if image == "" {
		b.Fatalf("prebuild printed no image:\n%s", key)
	}
	// Warm up both paths once.
	createExec(src, "bench-warm")
	run(bin, "delete", "--force", "bench-warm")

	var floor, pre []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := testenv.ID()
		t0 := time.Now()
		run("docker", "run", "-d", "--label", "dev.pitlane.instance="+inst, "--name", "bench-floor-"+id, image, "sleep", "infinity")
		run("docker", "exec", "bench-floor-"+id, "true")
		floor = append(floor, time.Since(t0))
		pre = append(pre, createExec(src, "bench-"+id))
		b.StopTimer()
		run("docker", "rm", "-f", "bench-floor-"+id)
		run(bin, "delete", "--force", "bench-"+id)
		b.StartTimer()
	}
	b.StopTimer()

	// Without a prebuild: a build every time (twice, it is slow).
	var cold []time.Duration
	for i := 0; i < 2; i++ {
		id := testenv.ID()
		cold = append(cold, createExec(project(id), "bench-cold-"+id))
		run(bin, "delete", "--force", "bench-cold-"+id)
	}

	// Pulled from a loopback registry after removing the image here.
	reg := testenv.StartRegistry(b, false)
	reg.DockerConfig(b)
	repo := reg.Addr + "/bench/app"
	t0 = time.Now()
	run(bin, "prebuild", src, "-q", "--push", repo)
	b.Logf("push: %v", time.Since(t0).Round(time.Millisecond))
	var pulled []time.Duration
	for i := 0; i < 2; i++ {
		run(bin, "images", "prune")
		id := testenv.ID()
		pulled = append(pulled, createExec(src, "bench-pull-"+id, "--cache-from", repo))
		run(bin, "delete", "--force", "bench-pull-"+id)
	}

	f, p, c, l := testenv.Median(floor), testenv.Median(pre), testenv.Median(cold), testenv.Median(pulled)
	b.ReportMetric(float64(f.Milliseconds()), "floor-ms")
	b.ReportMetric(float64(p.Milliseconds()), "prebuilt-ms")
	b.ReportMetric(float64(p)/float64(f), "ratio")
	b.ReportMetric(float64(c.Milliseconds()), "no-prebuild-ms")
	b.ReportMetric(float64(c)/float64(f), "no-prebuild-ratio")
	b.ReportMetric(float64(l.Milliseconds()), "pulled-ms")
	b.ReportMetric(float64(l)/float64(f), "pulled-ratio")
}

// probeRun reports whether this call is the testing package's first,
// one-iteration run that a -benchtime of Nx (N > 1) discards: a benchmark
// whose set-up takes minutes skips it.
func probeRun(b *testing.B) bool {
	if b.N != 1 {
		return false
	}
	f := flag.Lookup("test.benchtime")
	if f == nil {
		return false
	}
	n, ok := strings.CutSuffix(f.Value.String(), "x")
	return ok && n != "1"
}
