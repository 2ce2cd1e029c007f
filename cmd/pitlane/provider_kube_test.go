package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/internal/testenv"
	"github.com/pitlane/pitlane/protocol"
)

// testCluster starts a single-node Kubernetes cluster of the test's own
// (scripts/k8s/cluster.sh), with the given Docker images copied into it,
// and stops it when the test ends. It returns the cluster's name and a
// function that runs a command in its network namespace with KUBECONFIG
// set. The
// cluster's binaries must have been built (make k8s-build; scripts/setup.sh
// does it): a test does not wait ten minutes for them.
func testCluster(t testing.TB, images ...string) (string, func(env []string, name string, args ...string) (string, string, int)) {
	t.Helper()
	skip := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("PITLANE_REQUIRE_DOCKER") == "1" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if testing.Short() {
		t.Skip("-short: no test cluster")
	}
	if os.Geteuid() != 0 {
		skip("the test cluster needs root")
	}
	for _, c := range []string{"nsenter", "ip", "containerd", "ctr", "runc", "openssl", "curl"} {
		if _, err := exec.LookPath(c); err != nil {
			skip("%s is missing (scripts/setup.sh installs it)", c)
		}
	}
	// The binaries' cache is the user's, not the test's fresh HOME.
	t.Setenv("PITLANE_K8S_CACHE", k8sCache)
	dir := filepath.Join(testenv.RepoRoot(), "scripts", "k8s")
	if exec.Command(filepath.Join(dir, "build.sh"), "--check").Run() != nil {
		skip("the test cluster's binaries are not built: make k8s-build (about ten minutes, once per machine)")
	}
	script := filepath.Join(dir, "cluster.sh")
	exec.Command(script, "prune").Run()
	name := "cli-" + testenv.ID()
	up := exec.Command(script, "up", name)
	up.Env = append(os.Environ(), "PITLANE_K8S_IMAGES="+strings.Join(images, " "), fmt.Sprintf("PITLANE_K8S_OWNER=%d", os.Getpid()))
	began := time.Now()
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("starting the test cluster: %v\n%s", err, out)
	}
	t.Logf("cluster %s up in %s", name, time.Since(began).Round(time.Second))
	t.Cleanup(func() {
		out, err := exec.Command(script, "down", name).CombinedOutput()
		if err != nil || t.Failed() {
			// down keeps the cluster's logs and says where.
			t.Logf("cluster down: %v\n%s", err, out)
			return
		}
		const marker = "its logs are in "
		if i := strings.LastIndex(string(out), marker); i >= 0 {
			if logs := strings.TrimSpace(string(out[i+len(marker):])); strings.HasSuffix(logs, ".logs") {
				os.RemoveAll(logs)
			}
		}
	})
	run := func(env []string, cmdName string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(script, append([]string{"run", name, cmdName}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		return runCmd(t, cmd)
	}
	// Pods need the namespace's default service account.
	for deadline := time.Now().Add(60 * time.Second); ; {
		if _, _, code := run(nil, "kubectl", "get", "serviceaccount", "default"); code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the default service account did not appear")
		}
		time.Sleep(500 * time.Millisecond)
	}
	return name, run
}

// k8sCache is where scripts/k8s/build.sh keeps the cluster's binaries,
// read before a test points HOME elsewhere.
var k8sCache = func() string {
	if d := os.Getenv("PITLANE_K8S_CACHE"); d != "" {
		return d
	}
	d := os.Getenv("XDG_CACHE_HOME")
	if d == "" {
		home, _ := os.UserHomeDir()
		d = filepath.Join(home, ".cache")
	}
	return filepath.Join(d, "pitlane", "k8s")
}()

// TestKubernetesProvider creates, uses and deletes a workspace on a real
// cluster through `pitlane create --provider`, beside one on the local
// Docker engine, and lists both from the CLI and the bridge.
func TestKubernetesProvider(t *testing.T) {
	c := newCLI(t)
	base := t.TempDir()
	repo, image := kubeSource(t, base, `{"image": "IMAGE", "postCreateCommand": "echo created > /tmp/hook", "postStartCommand": "date >> /tmp/starts", "hostRequirements": {"memory": "64mb"}}`)
	work := filepath.Join(base, "work")
	cluster, run := testCluster(t, "pitlane/base:bookworm", image)
	pitlane := func(args ...string) (string, string, int) { return run(nil, c.bin, args...) }
	if out, errOut, code := pitlane("provider", "add", "k", "kubernetes", "--namespace", "default"); code != 0 {
		t.Fatalf("provider add: %s\n%s", out, errOut)
	}

	var errOut string
	var code int
	// A workspace on the local engine, beside.
	local := writeLocalSource(t)
	if _, errOut, code := pitlane("create", local, "--name", "here-"+testenv.ID()[:4]); code != 0 {
		t.Fatalf("create on docker: %s", errOut)
	}

	// Local folders and configs to build are refused with what to do.
	_, errOut, code = pitlane("create", work, "--provider", "k", "--name", "nope")
	t.Logf("local folder: %s", errOut)
	if code == 0 || !strings.Contains(errOut, "folder on this machine") {
		t.Errorf("create of a local folder on kubernetes: exit %d\n%s", code, errOut)
	}
	dockerfileRepo := filepath.Join(base, "df.git")
	mustGitCLI(t, base, "init", "-q", "--bare", "-b", "main", dockerfileRepo)
	dfWork := filepath.Join(base, "df")
	os.MkdirAll(dfWork, 0o755)
	os.WriteFile(filepath.Join(dfWork, "Dockerfile"), []byte("FROM pitlane/base:bookworm\n"), 0o644)
	mustGitCLI(t, dfWork, "init", "-q", "-b", "main")
	mustGitCLI(t, dfWork, "add", ".")
	mustGitCLI(t, dfWork, "commit", "-q", "-m", "df")
	mustGitCLI(t, dfWork, "push", "-q", dockerfileRepo, "main")
	_, errOut, code = pitlane("create", "file://"+dockerfileRepo, "--provider", "k", "--name", "df")
	t.Logf("no registry: %s", errOut)
	if code == 0 || !strings.Contains(errOut, "--image-registry") {
		t.Errorf("create of a Dockerfile config without a registry: exit %d\n%s", code, errOut)
	}

	// Errors a user can act on: a claim that stays pending names the
	// storage class; RBAC names the verb and the resource.
	if _, errOut, code := pitlane("provider", "add", "nosc", "kubernetes", "--namespace", "default", "--storage-class", "no-such-class"); code != 0 {
		t.Fatalf("provider add: %s", errOut)
	}
	_, errOut, code = pitlane("create", "file://"+repo, "--provider", "nosc", "--name", "pending")
	t.Logf("pending claim: %s", errOut)
	if code == 0 || !strings.Contains(errOut, "no-such-class") {
		t.Errorf("create with a storage class that does not exist: exit %d\n%s", code, errOut)
	}
	limited := filepath.Join(base, "limited.kubeconfig")
	script := `set -e
kubectl create serviceaccount limited >/dev/null
cp "$KUBECONFIG" "$1"
kubectl --kubeconfig "$1" config set-credentials limited --token="$(kubectl create token limited)" >/dev/null
kubectl --kubeconfig "$1" config set-context limited --cluster="$(kubectl config view -o jsonpath='{.clusters[0].name}')" --user=limited --namespace=default >/dev/null`
	if out, errOut, code := run(nil, "sh", "-c", script, "sh", limited); code != 0 {
		t.Fatalf("making a limited kubeconfig: %s\n%s", out, errOut)
	}
	if _, errOut, code := pitlane("provider", "add", "limited", "kubernetes", "--kubeconfig", limited, "--context", "limited"); code != 0 {
		t.Fatalf("provider add limited: %s", errOut)
	}
	_, errOut, code = pitlane("create", "file://"+repo, "--provider", "limited", "--name", "forbidden")
	t.Logf("forbidden: %s", errOut)
	if code == 0 || !strings.Contains(errOut, "persistentvolumeclaims") || !strings.Contains(errOut, "default") {
		t.Errorf("create without the rights: exit %d\n%s", code, errOut)
	}
	for _, p := range []string{"nosc", "limited"} {
		pitlane("provider", "remove", p)
	}

	name := "kw-" + testenv.ID()
	out, errOut, code := pitlane("create", "file://"+repo, "--provider", "k", "--name", name)
	if code != 0 {
		t.Fatalf("create --provider k: exit %d\n%s\n%s", code, out, errOut)
	}
	if out, errOut, code := pitlane("exec", name, "--", "sh", "-c", "cat README /tmp/hook"); code != 0 || out != "cloned in the pod\ncreated\n" {
		t.Errorf("exec: exit %d, %q\n%s", code, out, errOut)
	}
	if out, _, _ := run(nil, "kubectl", "get", "pod", "pitlane-"+name, "-o", "jsonpath={.spec.containers[0].resources.requests.memory}"); out != "64Mi" {
		t.Errorf("the pod requests memory %q, want 64Mi from hostRequirements", out)
	}

	list, errOut, code := pitlane("list")
	if code != 0 || !strings.Contains(list, "PROVIDER") || !regexpLine(list, name, "k") || !regexpLine(list, "here-", "docker") {
		t.Errorf("list: exit %d\n%s\n%s", code, list, errOut)
	}

	// The bridge lists both providers and both workspaces.
	providers, workspaces := bridgeLists(t, cluster, c.bin)
	if len(providers) != 2 || providers[0].Name != "docker" || !providers[0].Default || providers[1].Name != "k" || providers[1].Kind != protocol.ProviderKubernetes {
		t.Errorf("provider/list = %+v", providers)
	}
	got := map[string]string{}
	for _, ws := range workspaces {
		got[ws.Name] = ws.Provider
	}
	if got[name] != "k" || len(got) != 2 {
		t.Errorf("workspace/list providers = %v", got)
	}

	// Real OpenSSH through Pitlane's ProxyCommand and the exec stream.
	cfg := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "pitlane", "ssh_config")
	if out, errOut, code := run(nil, "ssh", "-F", cfg, name+".pitlane", "cat README; echo kept > notes.txt"); code != 0 || out != "cloned in the pod\n" {
		t.Errorf("ssh %s.pitlane: exit %d, %q\n%s", name, code, out, errOut)
	}

	// Stop deletes the pod, start makes it again on the same claim.
	if _, errOut, code := pitlane("stop", name); code != 0 {
		t.Fatalf("stop: %s", errOut)
	}
	if out, _, _ := run(nil, "kubectl", "get", "pods", "-o", "name"); strings.Contains(out, name) {
		t.Errorf("the pod is still there after stop: %s", out)
	}
	if _, errOut, code := pitlane("delete", "--force", name); code == 0 || !strings.Contains(errOut, "pitlane start "+name) {
		t.Errorf("delete of a stopped workspace without --discard-changes: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := pitlane("start", name); code != 0 {
		t.Fatalf("start: %s", errOut)
	}
	if out, errOut, code := pitlane("exec", name, "--", "sh", "-c", "cat notes.txt; wc -l < /tmp/starts"); code != 0 || !strings.HasPrefix(out, "kept\n") {
		t.Errorf("after stop and start: exit %d, %q\n%s", code, out, errOut)
	}

	// Unsaved work stops the delete; then everything goes.
	if _, errOut, code := pitlane("delete", "--force", name); code == 0 || !strings.Contains(errOut, "notes.txt") {
		t.Errorf("delete with unsaved work: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := pitlane("delete", "--force", "--discard-changes", name); code != 0 {
		t.Fatalf("delete: %s", errOut)
	}
	if out, _, _ := run(nil, "kubectl", "get", "pods,pvc", "-o", "name"); strings.Contains(out, name) {
		t.Errorf("left on the cluster: %s", out)
	}
	if _, errOut, code := pitlane("exec", name, "--", "true"); code == 0 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("exec after delete: exit %d\n%s", code, errOut)
	}
}

// kubeSource makes a git repository holding a README and a
// devcontainer.json (config, with IMAGE standing for the image's name) and
// an image, made from the base image, that holds the repository at the
// same path as here: a pod's init container clones it with file:// (pods
// here have no route to this machine's servers), while the configuration
// is read from the one here. The image is removed when the test ends.
func kubeSource(t testing.TB, base, config string) (repo, image string) {
	t.Helper()
	repo = filepath.Join(base, "repo.git")
	work := filepath.Join(base, "work")
	os.MkdirAll(filepath.Join(work, ".devcontainer"), 0o755)
	image = "pitlane-kube-src:" + testenv.ID()
	os.WriteFile(filepath.Join(work, ".devcontainer", "devcontainer.json"), []byte(strings.ReplaceAll(config, "IMAGE", image)), 0o644)
	os.WriteFile(filepath.Join(work, "README"), []byte("cloned in the pod\n"), 0o644)
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"commit", "-q", "-m", "init"}, {"clone", "-q", "--bare", ".", repo}} {
		mustGitCLI(t, work, args...)
	}
	os.WriteFile(filepath.Join(base, "Dockerfile"), []byte("FROM pitlane/base:bookworm\nCOPY repo.git "+repo+"\n"), 0o644)
	build := exec.Command("docker", "build", "-q", "-t", image, base)
	build.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the source image: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", image).Run() })
	return repo, image
}

// writeLocalSource is a folder whose config runs the base image.
func writeLocalSource(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".devcontainer.json"), []byte(`{"image": "pitlane/base:bookworm"}`), 0o644)
	return dir
}

func mustGitCLI(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// regexpLine reports whether a line of out starts with name and has
// provider as its third column.
func regexpLine(out, name, provider string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && strings.HasPrefix(f[0], name) && f[2] == provider {
			return true
		}
	}
	return false
}

// bridgeLists runs `pitlane bridge` in cluster's namespace and asks it
// for provider/list and workspace/list.
func bridgeLists(t *testing.T, cluster, bin string) ([]protocol.Provider, []protocol.Workspace) {
	t.Helper()
	script := filepath.Join(testenv.RepoRoot(), "scripts", "k8s", "cluster.sh")
	cmd := exec.Command(script, "run", cluster, bin, "bridge", "--log-file=")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
		if t.Failed() {
			t.Logf("bridge stderr:\n%s", stderr.String())
		}
	}()
	rwc := struct {
		io.Reader
		io.WriteCloser
	}{stdout, stdin}
	conn := jsonrpc2.NewConn(context.Background(), bridge.NewStream(rwc, rwc, rwc), jsonrpc2.HandlerWithError(func(context.Context, *jsonrpc2.Conn, *jsonrpc2.Request) (any, error) {
		return nil, nil
	}))
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var init protocol.InitializeResult
	if err := conn.Call(ctx, protocol.MethodInitialize, protocol.InitializeParams{ProtocolVersion: protocol.Version, ClientInfo: protocol.ClientInfo{Name: "test"}}, &init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	var pl protocol.ProviderListResult
	if err := conn.Call(ctx, protocol.MethodProviderList, nil, &pl); err != nil {
		t.Fatalf("provider/list: %v", err)
	}
	var wl protocol.ListResult
	if err := conn.Call(ctx, protocol.MethodWorkspaceList, nil, &wl); err != nil {
		t.Fatalf("workspace/list: %v", err)
	}
	return pl.Providers, wl.Workspaces
}
