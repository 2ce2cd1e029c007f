package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/client-go/rest"

	"github.com/pitlane/pitlane/internal/runtime"
	"github.com/pitlane/pitlane/internal/testenv"
)

// listenInMachineNamespace listens on addr in the machine's own network
// namespace, from a test that runs in the cluster's: the socket is made on
// a thread that visits that namespace, and keeps it. The machine's
// namespace is the parent's: TestMain runs the tests from there.
func listenInMachineNamespace(addr string) (net.Listener, error) {
	goruntime.LockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		goruntime.UnlockOSThread()
		return nil, err
	}
	defer self.Close()
	machine, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", os.Getppid()))
	if err != nil {
		goruntime.UnlockOSThread()
		return nil, err
	}
	defer machine.Close()
	if err := unix.Setns(int(machine.Fd()), unix.CLONE_NEWNET); err != nil {
		goruntime.UnlockOSThread()
		return nil, err
	}
	ln, lerr := net.Listen("tcp", addr)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked, so it ends with this goroutine
		// instead of running others in the wrong namespace.
		if ln != nil {
			ln.Close()
		}
		return nil, err
	}
	goruntime.UnlockOSThread()
	return ln, lerr
}

// sharedRegistry runs Debian's docker-registry in the cluster's network
// namespace, where the cluster's containerd pulls from it, and forwards
// the same address in the machine's namespace to it, where the Docker
// engine pushes. Both see it as 127.0.0.1:PORT, so an image has one name.
func sharedRegistry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		if os.Getenv("PITLANE_REQUIRE_DOCKER") == "1" {
			t.Fatal("docker-registry is not installed (scripts/setup.sh installs it)")
		}
		t.Skip("docker-registry is not installed")
	}
	var host string
	var outside net.Listener
	for attempt := 0; attempt < 20 && outside == nil; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		host = l.Addr().String()
		l.Close()
		var lerr error
		outside, lerr = listenInMachineNamespace(host) // the same port may be taken there
		if lerr != nil {
			t.Logf("listening on %s in the machine's namespace: %v", host, lerr)
		}
	}
	if outside == nil {
		t.Fatal("no port free in both network namespaces")
	}
	t.Cleanup(func() { outside.Close() })
	go func() {
		for {
			conn, err := outside.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				in, err := net.Dial("tcp", host)
				if err != nil {
					return
				}
				defer in.Close()
				go io.Copy(in, conn)
				io.Copy(conn, in)
			}()
		}
	}()

	dir := t.TempDir()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "storage"), host)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	logs, _ := os.Create(filepath.Join(dir, "registry.log"))
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logs.Close() })
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return host
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("docker-registry did not answer on %s: %v\n%s", host, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBuiltImageGoesThroughRegistry builds a Dockerfile with the local
// Docker engine, as a Dockerfile config is built, and runs it on the
// cluster: Create pushes it to the provider's registry and the pod pulls
// it from there. The image is small (the cluster's static pause binary)
// so the push is quick.
func TestBuiltImageGoesThroughRegistry(t *testing.T) {
	cl := testCluster(t)
	d := testenv.Docker(t)
	host := sharedRegistry(t)
	c, _ := cl.client(t, Options{ImageRegistry: host + "/pitlane-test"})
	rt := NewRuntime(c, d)
	ctx := context.Background()

	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatal(err)
	}
	pause, err := os.ReadFile(filepath.Join(filepath.Dir(kubectl), "pause"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pause"), pause, 0o755)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY pause /pause\nENTRYPOINT [\"/pause\"]\n"), 0o644)
	tag := "pitlane-kube-" + testenv.ID() + ":latest"
	t.Cleanup(func() { d.RemoveImage(context.Background(), tag) })
	if err := rt.Build(ctx, runtime.BuildSpec{Context: dir, Dockerfile: "Dockerfile", Tag: tag}, func(string) {}); err != nil {
		t.Fatal(err)
	}
	img, err := d.InspectImage(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := c.RegistryRef(tag, img.ID)
	t0 := time.Now()
	id, err := rt.Create(ctx, ContainerSpec{Name: "pitlane-built", Image: tag, Folder: "/w"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pushed in %v", time.Since(t0))
	// The registry's name is not left behind on the local engine.
	if ok, _ := d.ImageExists(ctx, want); ok {
		d.RemoveImage(ctx, want)
		t.Errorf("the local engine keeps the pushed name %s", want)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	ct, err := rt.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ct.Image != want {
		t.Fatalf("the workspace runs %s, want the registry's %s", ct.Image, want)
	}
	// The pod runs what the registry holds under that name.
	repo, tagged, _ := strings.Cut(strings.TrimPrefix(want, host+"/"), ":")
	req, _ := http.NewRequest(http.MethodHead, "http://"+host+"/v2/"+repo+"/manifests/"+tagged, nil)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	digest := resp.Header.Get("Docker-Content-Digest")
	if digest == "" || !strings.HasSuffix(ct.ImageID, "@"+digest) {
		t.Fatalf("the pod runs %s; the registry holds %s as %q", ct.ImageID, want, digest)
	}
}

// TestBuildWithoutRegistryFailsFirst: without a registry, a config that
// builds is refused before anything is built.
func TestBuildWithoutRegistryFailsFirst(t *testing.T) {
	c, err := NewFromConfig(&rest.Config{Host: "https://127.0.0.1:1"}, Options{}, "ws")
	if err != nil {
		t.Fatal(err)
	}
	rt := NewRuntime(c, refusingImages{t})
	err = rt.Build(context.Background(), runtime.BuildSpec{Context: t.TempDir(), Dockerfile: "Dockerfile", Tag: "pitlane-x:latest"}, func(string) {})
	if !errors.Is(err, ErrNoRegistry) || !strings.Contains(err.Error(), "--image-registry") {
		t.Fatalf("Build without a registry = %v", err)
	}
	_, err = NewRuntime(c, nil).ImageExists(context.Background(), "img")
	if err == nil || !strings.Contains(err.Error(), "local Docker engine") {
		t.Fatalf("images without a local engine: %v", err)
	}
}

// refusingImages fails the test on any use.
type refusingImages struct{ t *testing.T }

func (r refusingImages) fail() error { r.t.Fatal("the local engine was used"); return nil }
func (r refusingImages) ImageExists(context.Context, string) (bool, error) {
	return false, r.fail()
}
func (r refusingImages) InspectImage(context.Context, string) (*runtime.ImageConfig, error) {
	return nil, r.fail()
}
func (r refusingImages) RemoveImage(context.Context, string) error { return r.fail() }
func (r refusingImages) Build(context.Context, runtime.BuildSpec, func(string)) error {
	return r.fail()
}
func (r refusingImages) Pull(context.Context, string, func(string)) error { return r.fail() }
func (r refusingImages) Tag(context.Context, string, string) error        { return r.fail() }
func (r refusingImages) Push(context.Context, string, func(string)) error { return r.fail() }
