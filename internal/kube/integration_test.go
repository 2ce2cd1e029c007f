package kube

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// gitServer serves the bare repositories under a folder over git's smart
// HTTP protocol (git http-backend) on the node's address, which pods
// reach; it returns the base URL.
func gitServer(t *testing.T, cl *cluster, root string) string {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v", err)
	}
	h := &cgi.Handler{
		Path:   filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:    []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
		Stderr: io.Discard,
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cl.nodeIP(t), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// bareRepo makes a bare repository name.git under root with one commit
// holding files, on branch main.
func bareRepo(t *testing.T, root, name string, files map[string]string) {
	t.Helper()
	work := t.TempDir()
	git := func(dir string, args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git(work, "init", "-q", "-b", "main")
	for p, body := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(work, p)), 0o755)
		if err := os.WriteFile(filepath.Join(work, p), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(work, "add", "-A")
	git(work, "commit", "-q", "-m", "first")
	git(root, "clone", "-q", "--bare", work, name+".git")
}

func TestWorkspaceLifecycle(t *testing.T) {
	cl := testCluster(t)
	c, ns := cl.client(t, Options{})
	ctx := context.Background()

	repos := t.TempDir()
	bareRepo(t, repos, "app", map[string]string{"README.md": "hello from the repository\n", "src/main.go": "package main\n"})
	url := gitServer(t, cl, repos) + "/app.git"

	config := `{"image":"` + testImage + `","postCreateCommand":"echo 'a long value, with spaces, quotes \" and newlines\n'"}`
	spec := ContainerSpec{
		Name:       "pitlane-life",
		Image:      testImage,
		Env:        []string{"FROM_SPEC=spec value"},
		Labels:     map[string]string{"dev.pitlane.workspace": "life", "dev.pitlane.instance": "test", "dev.pitlane.source": url, "dev.pitlane.config": config},
		Entrypoint: []string{"/bin/sh", "-c"},
		Cmd:        []string{"trap 'exit 0' TERM; while sleep 86400 & wait $!; do :; done"},
		Folder:     "/workspaces/app",
		Mounts:     []Mount{{Type: "bind", Source: "/ignored/clone", Target: "/workspaces/app"}, {Type: "volume", Source: "cache", Target: "/var/cache/app"}},
		Source:     &GitSource{URL: url, Ref: "main"},
		Home:       "/root",
		Resources:  Resources{CPUs: 1, Memory: 64 << 20, Storage: 1 << 30},
	}

	evs, evErrs := c.Events(ctx, "dev.pitlane.instance=test")
	id, err := c.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, spec); !errors.Is(err, ErrConflict) {
		t.Fatalf("second Create = %v, want ErrConflict", err)
	}
	ct, err := c.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ct.Running || ct.Status != "stopped" {
		t.Fatalf("after Create: running=%v status=%s, want a stopped record", ct.Running, ct.Status)
	}
	t0 := time.Now()
	if err := c.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	t.Logf("first start (clone included) took %v", time.Since(t0))
	ct, err = c.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !ct.Running || ct.Status != "running" || ct.Image != testImage || ct.ImageID == "" {
		t.Fatalf("after Start: %+v", ct)
	}
	for k, v := range spec.Labels {
		if ct.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, ct.Labels[k], v)
		}
	}
	if len(ct.Env) != 1 || ct.Env[0] != "FROM_SPEC=spec value" {
		t.Errorf("Env = %q", ct.Env)
	}

	// The pod asks for what hostRequirements said; the claim has the size.
	pod, err := cl.cs.CoreV1().Pods(ns).Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	req := pod.Spec.Containers[0].Resources.Requests
	if req.Cpu().Cmp(resource.MustParse("1")) != 0 || req.Memory().Cmp(resource.MustParse("64Mi")) != 0 {
		t.Errorf("requests = %v", req)
	}
	pvc, err := cl.cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, id, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("claim size = %v, want 1Gi", got.String())
	}

	// The source was cloned into the workspace folder, on the branch asked.
	if got := shell(t, c, id, "cat /workspaces/app/README.md"); got != "hello from the repository" {
		t.Fatalf("README = %q", got)
	}
	if got := shell(t, c, id, "cd /workspaces/app && git rev-parse --abbrev-ref HEAD && git log --format=%s"); got != "main\nfirst" {
		t.Fatalf("git state = %q", got)
	}
	// The home folder started as the image's.
	if got := shell(t, c, id, "test -f /root/.bashrc && echo yes"); got != "yes" {
		t.Fatalf("home was not filled from the image: %q", got)
	}

	// Exec: stdin to stdout, stderr apart, the exit code.
	var out, errb bytes.Buffer
	code, err := c.Exec(ctx, id, ExecSpec{Cmd: []string{"sh", "-c", "tr a-z A-Z; echo to-stderr >&2; exit 7"}, Stdin: strings.NewReader("hello stdin\n"), Stdout: &out, Stderr: &errb})
	if err != nil || code != 7 || out.String() != "HELLO STDIN\n" || errb.String() != "to-stderr\n" {
		t.Fatalf("exec: code %d err %v stdout %q stderr %q", code, err, out.String(), errb.String())
	}
	// 4 MiB through stdin arrive whole.
	blob := make([]byte, 4<<20)
	for i := range blob {
		blob[i] = byte(i*7 + i>>9)
	}
	out.Reset()
	if code, err := c.Exec(ctx, id, ExecSpec{Cmd: []string{"sha256sum"}, Stdin: bytes.NewReader(blob), Stdout: &out}); err != nil || code != 0 {
		t.Fatalf("sha256sum: %d %v", code, err)
	}
	if want := fmt.Sprintf("%x", sha256.Sum256(blob)); !strings.HasPrefix(out.String(), want) {
		t.Fatalf("stdin arrived damaged: %q, want %s", out.String(), want)
	}
	// User, folder and environment.
	out.Reset()
	code, err = c.Exec(ctx, id, ExecSpec{Cmd: []string{"sh", "-c", `echo "$(id -un) $(pwd) $GREETING $FROM_SPEC"`}, User: "nobody", WorkingDir: "/tmp", Env: []string{"GREETING=hi there"}, Stdout: &out, Stderr: &out})
	if err != nil || code != 0 || strings.TrimSpace(out.String()) != "nobody /tmp hi there spec value" {
		t.Fatalf("exec as nobody: %d %v %q", code, err, out.String())
	}
	out.Reset()
	code, _ = c.Exec(ctx, id, ExecSpec{Cmd: []string{"true"}, User: "no-such-user", Stderr: &out})
	if code != 126 || !strings.Contains(out.String(), "no-such-user") {
		t.Fatalf("exec as a missing user: %d %q", code, out.String())
	}
	if code, err := c.Exec(ctx, id, ExecSpec{Cmd: []string{"/no/such/command"}}); err != nil || (code != 126 && code != 127) {
		t.Fatalf("missing command: code %d err %v, want 126 or 127", code, err)
	}

	// A file copied in, with its mode and owner.
	if err := c.CopyFile(ctx, id, "/workspaces/app/copied.txt", []byte("copied\n"), 0o640, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if got := shell(t, c, id, "stat -c '%a %u %g' /workspaces/app/copied.txt; cat /workspaces/app/copied.txt"); got != "640 65534 65534\ncopied" {
		t.Fatalf("copied file: %q", got)
	}
	shell(t, c, id, "echo kept > /workspaces/app/work.txt; echo cached > /var/cache/app/c; echo 'export KEPT=1' >> /root/.bashrc")

	// List finds it by label; the other instance's filter does not.
	ls, err := c.List(ctx, "dev.pitlane.workspace=life", "dev.pitlane.source="+url)
	if err != nil || len(ls) != 1 || ls[0].Name != id || !ls[0].Running {
		t.Fatalf("List = %+v, %v", ls, err)
	}
	if ls, err := c.List(ctx, "dev.pitlane.instance=other"); err != nil || len(ls) != 0 {
		t.Fatalf("List of another instance = %+v, %v", ls, err)
	}

	// Stop deletes the pod and keeps the claim; Start brings the files back
	// (and does not clone again).
	if err := c.Stop(ctx, id, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.cs.CoreV1().Pods(ns).Get(ctx, id, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the pod is still there after Stop: %v", err)
	}
	if ct, err := c.Inspect(ctx, id); err != nil || ct.Running || ct.Status != "stopped" {
		t.Fatalf("after Stop: %+v %v", ct, err)
	}
	if err := c.Stop(ctx, id, time.Second); err != nil {
		t.Fatalf("stopping a stopped workspace: %v", err)
	}
	if err := c.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx, id); err != nil {
		t.Fatalf("starting a running workspace: %v", err)
	}
	if got := shell(t, c, id, "cat /workspaces/app/work.txt /var/cache/app/c /workspaces/app/copied.txt; grep -c KEPT /root/.bashrc"); got != "kept\ncached\ncopied\n1" {
		t.Fatalf("after stop and start: %q", got)
	}

	// Remove takes both, and the volume with them.
	pvName := pvc.Spec.VolumeName
	if pvName == "" {
		pvc, _ = cl.cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, id, metav1.GetOptions{})
		pvName = pvc.Spec.VolumeName
	}
	if err := c.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Inspect(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Inspect after Remove = %v, want ErrNotFound", err)
	}
	if _, err := cl.cs.CoreV1().Pods(ns).Get(ctx, id, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("pod after Remove: %v", err)
	}
	if err := c.Remove(ctx, id); err != nil {
		t.Fatalf("removing a removed workspace: %v", err)
	}
	waitFor(t, "the volume to be deleted", func() bool {
		_, err := cl.cs.CoreV1().PersistentVolumes().Get(ctx, pvName, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})

	// The events told the story.
	want := []string{"create", "start", "die", "start", "die", "destroy"}
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < len(want) {
		select {
		case ev := <-evs:
			if ev.ID != id || ev.Labels["dev.pitlane.workspace"] != "life" {
				t.Fatalf("event %+v", ev)
			}
			got = append(got, ev.Action)
		case err := <-evErrs:
			t.Fatalf("events: %v", err)
		case <-timeout:
			t.Fatalf("events = %v, want %v", got, want)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events = %v, want %v", got, want)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestTerminal(t *testing.T) {
	cl := testCluster(t)
	c, _ := cl.client(t, Options{})
	ctx := context.Background()
	id := startPlain(t, c, "pitlane-tty")
	var out bytes.Buffer
	// A terminal's input stays open while its command runs.
	stdin, keepOpen := io.Pipe()
	defer keepOpen.Close()
	code, err := c.Exec(ctx, id, ExecSpec{
		Cmd: []string{"sh", "-c", `for i in $(seq 50); do s=$(stty size); [ "$s" = "33 101" ] && break; sleep 0.1; done; echo "size $s"; [ -t 0 ] && echo tty`},
		Tty: true, Stdin: stdin, Stdout: &out,
		Resize: func(resize func(w, h uint) error) {
			if err := resize(101, 33); err != nil {
				t.Error(err)
			}
		},
	})
	if err != nil || code != 0 {
		t.Fatalf("tty exec: %d %v %q", code, err, out.String())
	}
	if got := strings.ReplaceAll(out.String(), "\r", ""); got != "size 33 101\ntty\n" {
		t.Fatalf("tty output = %q", got)
	}
}

// TestExecOverSPDY runs exec over SPDY, which servers older than
// WebSocket exec speak and the client falls back to.
func TestExecOverSPDY(t *testing.T) {
	cl := testCluster(t)
	c, _ := cl.client(t, Options{})
	c.spdyOnly = true
	id := startPlain(t, c, "pitlane-spdy")
	var out, errb bytes.Buffer
	code, err := c.Exec(context.Background(), id, ExecSpec{Cmd: []string{"sh", "-c", "tr a-z A-Z; echo e >&2; exit 5"}, User: "nobody", Stdin: strings.NewReader("over spdy\n"), Stdout: &out, Stderr: &errb})
	if err != nil || code != 5 || out.String() != "OVER SPDY\n" || errb.String() != "e\n" {
		t.Fatalf("exec over SPDY: code %d err %v stdout %q stderr %q", code, err, out.String(), errb.String())
	}
}

// startPlain creates and starts a workspace of the test image with nothing
// to prepare.
func startPlain(t testing.TB, c *Client, name string) string {
	t.Helper()
	ctx := context.Background()
	id, err := c.Create(ctx, ContainerSpec{
		Name: name, Image: testImage, Folder: "/workspaces/plain",
		Labels:     map[string]string{"dev.pitlane.workspace": name},
		Entrypoint: []string{"sleep"}, Cmd: []string{"infinity"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestImagePullFailureShowsEvent(t *testing.T) {
	cl := testCluster(t)
	c, _ := cl.client(t, Options{})
	ctx := context.Background()
	// A localhost registry that does not exist: the pull fails at once,
	// and stays inside the test's network namespace.
	id, err := c.Create(ctx, ContainerSpec{Name: "pitlane-pull", Image: "localhost:1/pitlane/missing:1", Folder: "/w"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start(ctx, id)
	if !errors.Is(err, ErrImagePull) || !strings.Contains(err.Error(), "localhost:1/pitlane/missing:1") || !strings.Contains(err.Error(), "Failed") {
		t.Fatalf("Start = %v, want ErrImagePull naming the image and showing the event", err)
	}
	t.Log(err)
	if err := c.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func TestPendingClaim(t *testing.T) {
	cl := testCluster(t)
	c, _ := cl.client(t, Options{StorageClass: "no-such-class", StartTimeout: 30 * time.Second})
	ctx := context.Background()
	id, err := c.Create(ctx, ContainerSpec{Name: "pitlane-pending", Image: testImage, Folder: "/w"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	err = c.Start(ctx, id)
	if !errors.Is(err, ErrPending) || !strings.Contains(err.Error(), "no-such-class") || !strings.Contains(err.Error(), "--storage-class") {
		t.Fatalf("Start = %v, want ErrPending naming the storage class and what to do", err)
	}
	t.Logf("after %v: %v", time.Since(t0), err)
	if err := c.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func TestQuotaExceeded(t *testing.T) {
	cl := testCluster(t)
	c, ns := cl.client(t, Options{})
	ctx := context.Background()
	_, err := cl.cs.CoreV1().ResourceQuotas(ns).Create(ctx, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "small"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceRequestsCPU: resource.MustParse("1")}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The quota controller must have seen the quota before it is enforced.
	waitFor(t, "the quota to be counted", func() bool {
		q, err := cl.cs.CoreV1().ResourceQuotas(ns).Get(ctx, "small", metav1.GetOptions{})
		return err == nil && q.Status.Hard != nil
	})
	id, err := c.Create(ctx, ContainerSpec{Name: "pitlane-big", Image: testImage, Folder: "/w", Resources: Resources{CPUs: 2}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start(ctx, id)
	if !errors.Is(err, ErrQuota) || !strings.Contains(err.Error(), "exceeded quota") || !strings.Contains(err.Error(), "hostRequirements") {
		t.Fatalf("Start = %v, want ErrQuota", err)
	}
	t.Log(err)
}

func TestForbiddenNamesVerbAndResource(t *testing.T) {
	cl := testCluster(t)
	ctx := context.Background()
	ns := cl.namespace(t)
	// A service account that may manage claims but not pods.
	_, err := cl.cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "limited"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "claims-only"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"persistentvolumeclaims"}, Verbs: []string{"get", "list", "create", "delete"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "limited-claims"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "claims-only"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "limited", Namespace: ns}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cl.cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "limited", &authv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rc := rest.AnonymousClientConfig(cl.rest)
	rc.BearerToken = tok.Status.Token
	c, err := NewFromConfig(rc, Options{}, ns)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Create(ctx, ContainerSpec{Name: "pitlane-limited", Image: testImage, Folder: "/w"})
	if err != nil {
		t.Fatalf("creating the claim is allowed: %v", err)
	}
	err = c.Start(ctx, id)
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "you may not get pods") || !strings.Contains(err.Error(), "namespace "+ns) {
		t.Fatalf("Start = %v, want ErrForbidden naming get pods", err)
	}
	t.Log(err)
	// Another namespace: not even claims.
	other := cl.namespace(t)
	c2, _ := NewFromConfig(rc, Options{}, other)
	_, err = c2.Create(ctx, ContainerSpec{Name: "pitlane-limited", Image: testImage, Folder: "/w"})
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "you may not create persistentvolumeclaims in namespace "+other) {
		t.Fatalf("Create elsewhere = %v, want ErrForbidden naming create persistentvolumeclaims", err)
	}
	if _, err := c2.List(ctx); !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "list persistentvolumeclaims") {
		t.Fatalf("List elsewhere = %v", err)
	}
}

func TestCloneFailureShowsGitOutput(t *testing.T) {
	cl := testCluster(t)
	c, _ := cl.client(t, Options{})
	ctx := context.Background()
	url := gitServer(t, cl, t.TempDir()) + "/missing.git"
	id, err := c.Create(ctx, ContainerSpec{Name: "pitlane-noclone", Image: testImage, Folder: "/w", Source: &GitSource{URL: url}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start(ctx, id)
	if err == nil || !strings.Contains(err.Error(), "preparing workspace") || !strings.Contains(err.Error(), "repository '"+url+"/' not found") {
		t.Fatalf("Start = %v, want the clone's failure", err)
	}
	t.Log(err)
}
