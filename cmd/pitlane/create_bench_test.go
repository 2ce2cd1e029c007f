package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/testenv"
	"github.com/pitlane/pitlane/internal/workspace"
)

// BenchmarkCreateToExec measures `pitlane create` of a local folder on a
// cached image until the first `pitlane exec NAME -- true` succeeds, against
// the floor measured in the same iterations: `docker run -d` of the same
// image plus `docker exec CONTAINER true`. It reports both medians and their
// ratio (target: at most 1.3). With DEVCONTAINER_BIN naming the reference
// Dev Containers CLI, it measures `devcontainer up` + `devcontainer exec
// true` in the same iterations too, as a ratio to the same floor.
func BenchmarkCreateToExec(b *testing.B) {
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
	src := filepath.Join(root, "proj")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, ".devcontainer.json"), []byte(`{"image":"`+workspace.DefaultImage+`"}`), 0o644)

	run := func(name string, args ...string) {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	// Warm up both paths once (page cache, first-create set-up).
	run(bin, "create", src, "--name", "bench-warm", "-q")
	run(bin, "delete", "--force", "bench-warm")

	ref := os.Getenv("DEVCONTAINER_BIN")
	refUp := func(id string) time.Duration {
		dir := filepath.Join(root, "ref-"+id)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, ".devcontainer.json"), []byte(`{"image":"`+workspace.DefaultImage+`"}`), 0o644)
		label := "dev.pitlane.instance=" + inst
		t0 := time.Now()
		run(ref, "up", "--workspace-folder", dir, "--id-label", label, "--id-label", "bench.run="+id)
		run(ref, "exec", "--workspace-folder", dir, "--id-label", label, "--id-label", "bench.run="+id, "true")
		return time.Since(t0)
	}
	if ref != "" {
		d := refUp("warm")
		b.Logf("reference warm-up: %v", d)
	}

	var floor, pit, refs []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := testenv.ID()
		if ref != "" {
			refs = append(refs, refUp(id))
		}
		t0 := time.Now()
		run("docker", "run", "-d", "--label", "dev.pitlane.instance="+inst, "--name", "bench-floor-"+id, workspace.DefaultImage, "sleep", "infinity")
		run("docker", "exec", "bench-floor-"+id, "true")
		floor = append(floor, time.Since(t0))

		name := "bench-" + id
		t0 = time.Now()
		run(bin, "create", src, "--name", name, "-q")
		run(bin, "exec", name, "--", "true")
		pit = append(pit, time.Since(t0))

		b.StopTimer()
		run("docker", "rm", "-f", "bench-floor-"+id)
		run(bin, "delete", "--force", name)
		b.StartTimer()
	}
	f, p := testenv.Median(floor), testenv.Median(pit)
	b.ReportMetric(float64(f.Milliseconds()), "floor-ms")
	b.ReportMetric(float64(p.Milliseconds()), "pitlane-ms")
	b.ReportMetric(float64(p)/float64(f), "ratio")
	if ref != "" {
		r := testenv.Median(refs)
		b.ReportMetric(float64(r.Milliseconds()), "reference-ms")
		b.ReportMetric(float64(r)/float64(f), "reference-ratio")
	}
}
