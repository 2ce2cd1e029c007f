package testenv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/pitlane/pitlane/internal/docker"
)

// Registry is a container registry of a test's own (Debian's
// docker-registry), listening on 127.0.0.1 only. The Docker engine talks
// plain HTTP to registries on 127.0.0.0/8 without further configuration.
type Registry struct {
	// Addr is HOST:PORT, the registry part of image references.
	Addr string
	// User and Password are set when the registry wants them.
	User, Password string

	stop func()
}

// Stop stops the registry before the test ends (to see how a client
// copes with a registry that went away). Stopping twice is harmless.
func (r *Registry) Stop() { r.stop() }

// StartRegistry starts a registry for the test and stops it when the test
// ends; with auth it accepts only User and Password (htpasswd). Without
// docker-registry the test is skipped, unless PITLANE_REQUIRE_DOCKER=1,
// when it fails.
func StartRegistry(t testing.TB, auth bool) *Registry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		if os.Getenv("PITLANE_REQUIRE_DOCKER") == "1" {
			t.Fatalf("docker-registry is missing (scripts/setup.sh installs it): %v", err)
		}
		t.Skipf("no docker-registry: %v", err)
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Registry{Addr: l.Addr().String()}
	l.Close()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), r.Addr)
	if auth {
		r.User, r.Password = "pitlane", "pw-"+ID()
		hash, err := bcrypt.GenerateFromPassword([]byte(r.Password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(r.User+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: pitlane-test\n    path: %s\n", filepath.Join(dir, "htpasswd"))
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting docker-registry: %v", err)
	}
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			cmd.Wait()
			log.Close()
		})
	}
	t.Cleanup(r.stop)
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get("http://" + r.Addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return r
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("docker-registry did not answer on %s: %v\n%s", r.Addr, err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// DockerConfig points DOCKER_CONFIG at a fresh folder whose config.json
// holds the registry's credentials (none for a registry without auth), as
// `docker login` would leave them.
func (r *Registry) DockerConfig(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	cfg := map[string]any{"auths": map[string]any{}}
	if r.User != "" {
		cfg["auths"] = map[string]any{r.Addr: map[string]string{
			"auth": base64.StdEncoding.EncodeToString([]byte(r.User + ":" + r.Password)),
		}}
	}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	return dir
}

// TinyImage builds a small image (a static busybox, about 2 MB) that
// pushes and pulls in a moment, labelled with the instance so that
// RemoveInstance removes it. Without busybox the test is skipped, unless
// PITLANE_REQUIRE_DOCKER=1, when it fails.
func TinyImage(t testing.TB, d *docker.Client, instance string) string {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		if os.Getenv("PITLANE_REQUIRE_DOCKER") == "1" {
			t.Fatalf("busybox is missing (scripts/setup.sh installs busybox-static): %v", err)
		}
		t.Skipf("no busybox: %v", err)
	}
	if out, _ := exec.Command("file", "-L", bb).Output(); len(out) > 0 && !strings.Contains(string(out), "statically linked") {
		t.Skipf("%s is not statically linked (install busybox-static)", bb)
	}
	dir := t.TempDir()
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "busybox"), data, 0o755)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(`FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "mkdir", "-p", "/usr/bin", "/sbin", "/usr/sbin", "/etc", "/root", "/tmp"]
RUN ["/bin/busybox", "--install", "-s"]
RUN echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'root:x:0:' > /etc/group && chmod 1777 /tmp
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["sh"]
`), 0o644)
	tag := "pitlane-test/tiny:" + ID()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out strings.Builder
	err = d.Build(ctx, docker.BuildSpec{Context: dir, Dockerfile: "Dockerfile", Tag: tag, Labels: map[string]string{"dev.pitlane.instance": instance}}, func(l string) { out.WriteString(l + "\n") })
	if err != nil {
		t.Fatalf("building the tiny image: %v\n%s", err, out.String())
	}
	return tag
}
