package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/testenv"
)

// BenchmarkKubernetesCreateToExec measures `pitlane create --provider` of
// a git source on a real cluster (a volume claim, an init container that
// clones the source, the setup) until the first `pitlane exec NAME --
// true` succeeds, against the floor measured in the same iterations:
// `kubectl run` of a bare pod of the same image, `kubectl wait` until it
// is ready and `kubectl exec POD -- true`. It reports both medians and
// their ratio (target: at most 1.5).
func BenchmarkKubernetesCreateToExec(b *testing.B) {
	testenv.Docker(b)
	bin := testenv.Binary(b)
	root := b.TempDir()
	b.Setenv("HOME", filepath.Join(root, "home"))
	b.Setenv("XDG_DATA_HOME", filepath.Join(root, "data"))
	b.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	b.Setenv("PITLANE_INSTANCE", "bench-"+testenv.ID())
	b.Setenv("DO_NOT_TRACK", "1")
	repo, image := kubeSource(b, b.TempDir(), `{"image": "IMAGE"}`)
	cluster, _ := testCluster(b, image)
	// Both sides run straight in the cluster's namespace, without
	// cluster.sh's own start-up in the measurement.
	dir := filepath.Join(testenv.RepoRoot(), "scripts", "k8s")
	kubeconfig, err := exec.Command(filepath.Join(dir, "cluster.sh"), "kubeconfig", cluster).Output()
	if err != nil {
		b.Fatal(err)
	}
	kbin, err := exec.Command(filepath.Join(dir, "build.sh"), "--print").Output()
	if err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "KUBECONFIG="+strings.TrimSpace(string(kubeconfig)), "PATH="+strings.TrimSpace(string(kbin))+string(os.PathListSeparator)+os.Getenv("PATH"))
	must := func(name string, args ...string) {
		b.Helper()
		cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/pitlane-k8s-" + cluster, name}, args...)...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	must(bin, "provider", "add", "k", "kubernetes", "--namespace", "default")
	floorRun := func(name string) time.Duration {
		t0 := time.Now()
		must("kubectl", "run", name, "--image="+image, "--restart=Never", "--command", "--", "sleep", "infinity")
		must("kubectl", "wait", "--for=condition=Ready", "pod/"+name, "--timeout=120s")
		must("kubectl", "exec", name, "--", "true")
		return time.Since(t0)
	}
	pitlaneRun := func(name string) time.Duration {
		t0 := time.Now()
		must(bin, "create", "file://"+repo, "--provider", "k", "--name", name, "-q")
		must(bin, "exec", name, "--", "true")
		return time.Since(t0)
	}
	cleanup := func(name string) {
		must("kubectl", "delete", "pod", name, "--grace-period=1", "--wait=true")
		must(bin, "delete", "--force", "--discard-changes", "p-"+name)
	}
	floorRun("warm")
	pitlaneRun("p-warm")
	cleanup("warm")
	testenv.AgainstFloor(b, floorRun, func(id string) time.Duration { return pitlaneRun("p-" + id) }, cleanup)
}
