package kube

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/pitlane/pitlane/internal/docker"
	"github.com/pitlane/pitlane/internal/testenv"
)

// The integration tests run against a real single-node cluster
// (scripts/k8s/cluster.sh) that TestMain starts in a network namespace of
// its own; it then runs this test binary again inside that namespace, where
// the API server answers on 127.0.0.1:6443, and stops the cluster when the
// tests end. Without root or a Docker engine the integration tests are
// skipped (they fail when PITLANE_REQUIRE_DOCKER=1); -short skips them too.
// PITLANE_KUBE_CLUSTER=NAME runs them in a running cluster instead (make
// k8s-up starts "dev"), which saves its start while working on them.
const (
	// envCluster names the cluster inside its namespace.
	envCluster = "PITLANE_KUBE_TEST_CLUSTER"
	// envNoCluster says why there is no cluster, for the skip message.
	envNoCluster = "PITLANE_KUBE_TEST_NO_CLUSTER"
	// envProxy turns the test binary into an SSH ProxyCommand (see
	// proxyMain).
	envProxy = "PITLANE_KUBE_TEST_PROXY"
)

// testImage is the image the workspaces of the tests run; the cluster's
// containerd gets it from Docker when it starts.
const testImage = "pitlane/base:bookworm"

func TestMain(m *testing.M) {
	if os.Getenv(envProxy) != "" {
		os.Exit(proxyMain(os.Args[1:]))
	}
	if os.Getenv(envCluster) != "" {
		os.Exit(testenv.Main(m))
	}
	if why := clusterUnavailable(); why != "" {
		if os.Getenv("PITLANE_REQUIRE_DOCKER") == "1" && !isShort() {
			fmt.Fprintf(os.Stderr, "PITLANE_REQUIRE_DOCKER=1 but the test cluster cannot run: %s\n", why)
			os.Exit(1)
		}
		os.Setenv(envNoCluster, why)
		os.Exit(testenv.Main(m))
	}
	os.Exit(withCluster())
}

func isShort() bool {
	for _, a := range os.Args[1:] {
		if a == "-test.short" || a == "-test.short=true" {
			return true
		}
	}
	return false
}

// clusterUnavailable says why this machine cannot run the test cluster, or
// "" when it can.
func clusterUnavailable() string {
	if isShort() {
		return "-short"
	}
	if os.Geteuid() != 0 {
		return "the test cluster needs root (network namespaces, mounts)"
	}
	for _, c := range []string{"nsenter", "ip", "containerd", "ctr", "runc", "openssl", "curl", "docker"} {
		if _, err := exec.LookPath(c); err != nil {
			return c + " is not installed (scripts/setup.sh installs what the cluster needs)"
		}
	}
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		return "the CNI plugins are not installed (scripts/setup.sh installs them)"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := docker.New(ctx)
	if err != nil {
		return err.Error()
	}
	defer d.Close()
	if ok, err := d.ImageExists(ctx, testImage); err != nil || !ok {
		return testImage + " is missing (make base-image)"
	}
	return ""
}

// withCluster starts a cluster, runs the tests inside its namespace and
// stops it, returning the tests' exit code.
func withCluster() int {
	script := filepath.Join(testenv.RepoRoot(), "scripts", "k8s", "cluster.sh")
	name := os.Getenv("PITLANE_KUBE_CLUSTER")
	if name != "" {
		return runInside(script, name)
	}
	// Clusters of test runs that were killed before they could stop
	// theirs go first.
	if out, err := exec.Command(script, "prune").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "removing test clusters left behind: %v\n%s\n", err, out)
	}
	name = "test-" + testenv.ID()
	up := exec.Command(script, "up", name)
	up.Env = append(os.Environ(), "PITLANE_K8S_IMAGES="+testImage, fmt.Sprintf("PITLANE_K8S_OWNER=%d", os.Getpid()))
	t0 := time.Now()
	if out, err := up.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "starting the test cluster: %v\n%s\n", err, out)
		return 1
	}
	fmt.Fprintf(os.Stderr, "test cluster %s started in %.1fs\n", name, time.Since(t0).Seconds())
	code := runInside(script, name)
	t0 = time.Now()
	out, err := exec.Command(script, "down", name).CombinedOutput()
	fmt.Fprintf(os.Stderr, "test cluster %s stopped in %.1fs\n", name, time.Since(t0).Seconds())
	if err != nil {
		fmt.Fprintf(os.Stderr, "stopping the test cluster: %v\n%s\n", err, out)
	}
	// The cluster's logs are kept when something failed: down says where.
	if code != 0 || err != nil {
		fmt.Fprintf(os.Stderr, "%s", out)
	} else if logs := clusterLogs(out); logs != "" {
		os.RemoveAll(logs)
	}
	return code
}

// clusterLogs finds the folder of logs in the output of `cluster.sh down`.
func clusterLogs(out []byte) string {
	const marker = "its logs are in "
	s := string(out)
	i := strings.LastIndex(s, marker)
	if i < 0 {
		return ""
	}
	p := strings.TrimSpace(s[i+len(marker):])
	if !strings.HasSuffix(p, ".logs") {
		return ""
	}
	return p
}

// runInside runs this test binary again in cluster name's namespace and
// returns its exit code.
func runInside(script, name string) int {
	args := append([]string{"run", name, os.Args[0]}, os.Args[1:]...)
	in := exec.Command(script, args...)
	in.Stdin, in.Stdout, in.Stderr = os.Stdin, os.Stdout, os.Stderr
	in.Env = append(os.Environ(), envCluster+"="+name)
	if err := in.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "running the tests in the cluster's namespace: %v\n", err)
		return 1
	}
	// An interrupt goes to the tests, and the cluster still stops.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range sigs {
			in.Process.Signal(s)
		}
	}()
	err := in.Wait()
	signal.Stop(sigs)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// cluster is the test cluster's admin access, or a skip.
type cluster struct {
	rest *rest.Config
	cs   kubernetes.Interface
}

func testCluster(t testing.TB) *cluster {
	t.Helper()
	if os.Getenv(envCluster) == "" {
		t.Skipf("no test cluster: %s", os.Getenv(envNoCluster))
	}
	rc, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{rest: rc, cs: cs}
}

// namespace makes a namespace for one test, removed when it ends, and
// waits for its default service account (pods need it).
func (cl *cluster) namespace(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	ns := "t-" + testenv.ID()
	if _, err := cl.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cl.cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := cl.cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			return ns
		}
		if !apierrors.IsNotFound(err) || time.Now().After(deadline) {
			t.Fatalf("namespace %s has no default service account: %v", ns, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// client is a Client with the admin's rights in a fresh namespace.
func (cl *cluster) client(t testing.TB, opts Options) (*Client, string) {
	t.Helper()
	ns := cl.namespace(t)
	if opts.StartTimeout == 0 {
		opts.StartTimeout = time.Minute
	}
	c, err := NewFromConfig(cl.rest, opts, ns)
	if err != nil {
		t.Fatal(err)
	}
	return c, ns
}

// nodeIP is the node's address, which pods reach (the tests' servers
// listen on it).
func (cl *cluster) nodeIP(t testing.TB) string {
	t.Helper()
	nodes, err := cl.cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		t.Fatalf("no node: %v", err)
	}
	for _, a := range nodes.Items[0].Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	t.Fatal("the node has no internal address")
	return ""
}

// shell runs a command in a running workspace and returns its output.
func shell(t testing.TB, c *Client, name, script string) string {
	t.Helper()
	var out, errb strings.Builder
	code, err := c.Exec(context.Background(), name, ExecSpec{Cmd: []string{"sh", "-c", script}, Stdout: &out, Stderr: &errb})
	if err != nil || code != 0 {
		t.Fatalf("%q: exit %d, %v\n%s%s", script, code, err, out.String(), errb.String())
	}
	return strings.TrimSpace(out.String())
}
