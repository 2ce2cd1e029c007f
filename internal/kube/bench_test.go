package kube

import (
	"context"
	"os/exec"
	"sort"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/testenv"
)

// BenchmarkCreateToExec measures a workspace on the cluster from Create
// (its claim) through Start (its pod running) to the first Exec of `true`,
// against the floor measured in the same iterations: `kubectl run` of a
// bare pod of the same image, `kubectl wait` until it is ready and
// `kubectl exec POD -- true`. It reports both medians and their ratio
// (target: at most 1.5). The workspace has what every workspace has on
// Kubernetes: a volume claim, provisioned and mounted, for its folder.
func BenchmarkCreateToExec(b *testing.B) {
	cl := testCluster(b)
	c, ns := cl.client(b, Options{})
	ctx := context.Background()
	kubectl := func(args ...string) {
		b.Helper()
		if out, err := exec.Command("kubectl", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			b.Fatalf("kubectl %v: %v\n%s", args, err, out)
		}
	}
	floorRun := func(name string) time.Duration {
		t0 := time.Now()
		kubectl("run", name, "--image="+testImage, "--restart=Never", "--command", "--", "sleep", "infinity")
		kubectl("wait", "--for=condition=Ready", "pod/"+name, "--timeout=120s")
		kubectl("exec", name, "--", "true")
		return time.Since(t0)
	}
	pitlaneRun := func(name string) time.Duration {
		t0 := time.Now()
		id, err := c.Create(ctx, ContainerSpec{
			Name: name, Image: testImage, Folder: "/workspaces/bench",
			Labels:     map[string]string{"dev.pitlane.workspace": name},
			Entrypoint: []string{"sleep"}, Cmd: []string{"infinity"},
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Start(ctx, id); err != nil {
			b.Fatal(err)
		}
		if code, err := c.Exec(ctx, id, ExecSpec{Cmd: []string{"true"}}); err != nil || code != 0 {
			b.Fatalf("exec true: %d %v", code, err)
		}
		return time.Since(t0)
	}
	cleanup := func(name string) {
		kubectl("delete", "pod", name, "--grace-period=1", "--wait=true")
		if err := c.Remove(ctx, "pitlane-"+name); err != nil {
			b.Fatal(err)
		}
	}
	// Warm up both paths once.
	floorRun("warm")
	pitlaneRun("pitlane-warm")
	cleanup("warm")

	var floor, pit []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := "b-" + testenv.ID()
		floor = append(floor, floorRun(name))
		pit = append(pit, pitlaneRun("pitlane-"+name))
		b.StopTimer()
		cleanup(name)
		b.StartTimer()
	}
	f, p := median(floor), median(pit)
	b.ReportMetric(float64(f.Milliseconds()), "floor-ms")
	b.ReportMetric(float64(p.Milliseconds()), "pitlane-ms")
	b.ReportMetric(float64(p)/float64(f), "ratio")
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
