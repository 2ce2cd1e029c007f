package kube

import (
	"context"
	"os/exec"
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
	testenv.AgainstFloor(b, floorRun, func(id string) time.Duration { return pitlaneRun("pitlane-" + id) }, cleanup)
}
