// Package testenv gives tests the real parts they run against: a Docker
// engine, isolated Pitlane folders and a built pitlane binary.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pitlane/pitlane/internal/docker"
)

// Docker returns a client of the local engine. Without an engine the test
// is skipped, unless PITLANE_REQUIRE_DOCKER=1, when it fails.
func Docker(t testing.TB) *docker.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := docker.New(ctx)
	if err != nil {
		if os.Getenv("PITLANE_REQUIRE_DOCKER") == "1" {
			t.Fatalf("PITLANE_REQUIRE_DOCKER=1 but: %v", err)
		}
		t.Skipf("no Docker engine: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ID returns a short random identifier for names of test resources.
func ID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Isolate points HOME, XDG_DATA_HOME, XDG_CONFIG_HOME and PITLANE_INSTANCE
// at fresh values for this test, so it sees only its own workspaces and
// never the user's files. It returns the instance name.
func Isolate(t *testing.T) string {
	t.Helper()
	// Keep Go's caches where they were: a fresh HOME would make every
	// `go build` start from an empty module cache.
	goEnvOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
		if err == nil {
			goEnv = strings.Split(strings.TrimSpace(string(out)), "\n")
		}
	})
	for i, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		if i < len(goEnv) && goEnv[i] != "" {
			t.Setenv(k, goEnv[i])
		}
	}
	root := t.TempDir()
	inst := "test-" + ID()
	// Last of all: the images the test's workspaces left in the image
	// cache (labelled with this instance) go too.
	t.Cleanup(func() { removeInstanceImages(t, inst) })
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(root, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	t.Setenv("PITLANE_INSTANCE", inst)
	t.Setenv("DO_NOT_TRACK", "1")
	return inst
}

var (
	goEnvOnce sync.Once
	goEnv     []string

	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/pitlane once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pitlane-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "pitlane")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/pitlane")
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = &buildError{out: string(out), err: err}
		}
	})
	if buildErr != nil {
		t.Fatalf("building pitlane: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// Main runs a package's tests and then removes what Binary built. Use it
// from TestMain: os.Exit(testenv.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	return code
}

// RepoRoot is the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// removeInstanceImages removes the images labelled with a test's instance
// (those in use stay: the engine refuses).
func removeInstanceImages(tb testing.TB, instance string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := docker.New(ctx)
	if err != nil {
		return
	}
	defer d.Close()
	imgs, err := d.Images(ctx, "dev.pitlane.instance="+instance)
	if err != nil {
		tb.Logf("cleaning up the images of instance %s: %v", instance, err)
		return
	}
	for _, img := range imgs {
		for _, t := range img.Tags {
			_ = d.RemoveImage(ctx, t)
		}
		_ = d.RemoveImage(ctx, img.ID)
	}
}

// RemoveInstance removes every container of a Pitlane instance, and the
// images Pitlane built for them or cached for the instance, when the test
// ends: what a test leaves behind does not pile up on the engine.
func RemoveInstance(tb testing.TB, d *docker.Client, instance string) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cs, err := d.List(ctx, "dev.pitlane.instance="+instance)
		if err != nil {
			tb.Logf("cleaning up instance %s: %v", instance, err)
			return
		}
		for _, c := range cs {
			_ = d.Remove(ctx, c.ID)
			if img := c.Labels["dev.pitlane.built-image"]; img != "" {
				_ = d.RemoveImage(ctx, img)
			}
		}
		removeInstanceImages(tb, instance)
	})
}

// PrivateEngine is a Docker engine of a test's own, which the test may
// stop, kill and restart without disturbing anything else on the machine.
type PrivateEngine struct {
	// Host is the engine's DOCKER_HOST value.
	Host string
	root string
	cmd  *exec.Cmd
	log  *os.File
}

// StartPrivateEngine starts a second dockerd with its own socket, data and
// state folders, in a network namespace of its own (no bridge, no iptables
// changes), and
// loads the given images into it from the main engine. It needs root and
// dockerd; without them the test is skipped, unless
// PITLANE_REQUIRE_DOCKER=1, when it fails.
func StartPrivateEngine(t *testing.T, images ...string) *PrivateEngine {
	t.Helper()
	skip := func(format string, args ...any) {
		if os.Getenv("PITLANE_REQUIRE_DOCKER") == "1" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if os.Geteuid() != 0 {
		skip("a private Docker engine needs root")
	}
	for _, tool := range []string{"dockerd", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip("a private Docker engine needs %s: %v", tool, err)
		}
	}
	// Unix socket paths are short: keep the root short too.
	root, err := os.MkdirTemp("", "pe-")
	if err != nil {
		t.Fatal(err)
	}
	e := &PrivateEngine{Host: "unix://" + filepath.Join(root, "d.sock"), root: root}
	t.Cleanup(func() {
		e.Stop(t)
		// Containers' leftovers below the data root may be busy mounts.
		exec.Command("sh", "-c", "grep -o ' "+root+"[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l").Run()
		os.RemoveAll(root)
	})
	e.Start(t)
	for _, img := range images {
		save := exec.Command("docker", "save", img)
		load := exec.Command("docker", "-H", e.Host, "load", "-q")
		pipe, err := save.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		load.Stdin = pipe
		if err := save.Start(); err != nil {
			t.Fatal(err)
		}
		if out, err := load.CombinedOutput(); err != nil {
			t.Fatalf("loading %s into the private engine: %v\n%s", img, err, out)
		}
		if err := save.Wait(); err != nil {
			t.Fatalf("saving %s: %v", img, err)
		}
	}
	return e
}

// Start starts (or restarts) the engine and waits until it answers.
func (e *PrivateEngine) Start(t *testing.T) {
	t.Helper()
	log, err := os.OpenFile(filepath.Join(e.root, "dockerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	e.log = log
	// Its own network namespace: a dockerd without a bridge removes the
	// docker0 interface of the namespace it runs in, which would cut the
	// machine's main engine off its containers.
	e.cmd = exec.Command("unshare", "--net", "--", "dockerd",
		"--host", e.Host,
		"--data-root", filepath.Join(e.root, "data"),
		"--exec-root", filepath.Join(e.root, "exec"),
		"--pidfile", filepath.Join(e.root, "d.pid"),
		"--bridge", "none", "--iptables=false", "--ip-masq=false",
	)
	e.cmd.Stdout, e.cmd.Stderr = log, log
	if err := e.cmd.Start(); err != nil {
		t.Fatalf("starting dockerd: %v", err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		if exec.Command("docker", "-H", e.Host, "version").Run() == nil {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(e.root, "dockerd.log"))
			t.Fatalf("the private dockerd did not answer within a minute:\n%s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop stops the engine as a service manager would (SIGTERM, which stops
// its containers), and waits for it to exit.
func (e *PrivateEngine) Stop(t *testing.T) {
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	e.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		e.cmd.Process.Kill()
		<-done
	}
	e.cmd = nil
	e.log.Close()
}
