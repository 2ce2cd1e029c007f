package workspace_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/pitlane/pitlane/internal/devcontainer"
	"github.com/pitlane/pitlane/internal/testenv"
	"github.com/pitlane/pitlane/internal/workspace"
)

// pushFeature publishes a feature made of files as repo:tag, the way
// features are published: an OCI manifest with one tar layer of the
// feature's folder.
func pushFeature(t *testing.T, host, repo, tag string, files map[string]string) digest.Digest {
	t.Helper()
	ctx := context.Background()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: "./" + name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := remote.NewRepository(host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	config := []byte("{}")
	configDesc := ocispec.Descriptor{MediaType: "application/vnd.devcontainers", Digest: digest.FromBytes(config), Size: int64(len(config))}
	layerDesc := ocispec.Descriptor{MediaType: devcontainer.FeatureLayerMediaType, Digest: digest.FromBytes(buf.Bytes()), Size: int64(buf.Len()),
		Annotations: map[string]string{ocispec.AnnotationTitle: "feature.tgz"}}
	for _, b := range []struct {
		d    ocispec.Descriptor
		data []byte
	}{{configDesc, config}, {layerDesc, buf.Bytes()}} {
		if err := r.Push(ctx, b.d, bytes.NewReader(b.data)); err != nil {
			t.Fatalf("pushing a blob: %v", err)
		}
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: configDesc, Layers: []ocispec.Descriptor{layerDesc}}
	m.SchemaVersion = 2
	raw, _ := json.Marshal(m)
	md := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	if err := r.PushReference(ctx, md, bytes.NewReader(raw), tag); err != nil {
		t.Fatalf("pushing the manifest: %v", err)
	}
	return md.Digest
}

var registryFeature = map[string]string{
	"devcontainer-feature.json": `{"id": "hello", "version": "1.0.0",
		"options": {"greeting": {"type": "string", "default": "hi"}, "loud": {"type": "boolean", "default": false}},
		"containerEnv": {"HELLO_FEATURE": "installed"}}`,
	"install.sh": "#!/bin/sh\nset -e\nmkdir -p /usr/local/share\nprintf '%s|%s|%s\\n' \"$GREETING\" \"$LOUD\" \"$_REMOTE_USER\" > /usr/local/share/hello-marker\n",
}

// A feature named by its registry reference is fetched from a real
// registry, installed like a local one, and reused from the cache when
// the registry is gone.
func TestFeatureFromRegistry(t *testing.T) {
	reg := testenv.StartRegistry(t, false)
	host, stopRegistry := reg.Addr, reg.Stop
	m, _ := newManager(t)
	ctx := context.Background()
	pushFeature(t, host, "features/hello", "1", registryFeature)
	ref := host + "/features/hello:1"
	src := writeFiles(t, map[string]string{
		".devcontainer/devcontainer.json": fmt.Sprintf(`{"image": "pitlane/base:bookworm",
			"features": {%q: {"greeting": "from the registry", "loud": true}}}`, ref),
	})

	check := func(name string, rec *recorder, wantLog, wantStep string) {
		t.Helper()
		ws, err := m.Create(ctx, workspace.CreateOptions{Source: src, Name: name, Progress: rec})
		if err != nil {
			t.Fatalf("Create: %v\n%s", err, strings.Join(rec.lines, "\n"))
		}
		if out, code := execOut(t, m, name, "sh", "-c", "cat /usr/local/share/hello-marker; echo $HELLO_FEATURE"); code != 0 || out != "from the registry|true|"+ws.RemoteUser+"\ninstalled\n" {
			t.Errorf("%s: inside (code %d): %q", name, code, out)
		}
		if lines := strings.Join(rec.lines, "\n"); !strings.Contains(lines, wantLog) || !strings.Contains(lines+"\n"+strings.Join(rec.steps, "\n"), wantStep) {
			t.Errorf("%s: progress lacks %q or %q:\n%s\n%s", name, wantLog, wantStep, lines, strings.Join(rec.steps, "\n"))
		}
	}
	check("oci-"+testenv.ID(), &recorder{}, "Fetching feature "+ref, "Installing feature "+ref)
	layers, _ := filepath.Glob(filepath.Join(m.DataDir(), "features", "layers", "sha256", "*", "install.sh"))
	if len(layers) != 1 {
		t.Errorf("cached layers: %q", layers)
	}

	// The second create needs no registry, and takes the image with the
	// feature installed from the image cache.
	stopRegistry()
	check("oci2-"+testenv.ID(), &recorder{}, "Using cached feature "+ref, "Using prebuilt image ")

	// A tag never fetched cannot come from the cache: the error names the
	// registry and says what to check.
	other := writeFiles(t, map[string]string{
		".devcontainer/devcontainer.json": fmt.Sprintf(`{"image": "pitlane/base:bookworm", "features": {"%s/features/hello:2": {}}}`, host),
	})
	if _, err := m.Create(ctx, workspace.CreateOptions{Source: other, Name: "oci3-" + testenv.ID()}); err == nil || !strings.Contains(err.Error(), "cannot reach the registry "+host) {
		t.Errorf("uncached feature without a registry: %v", err)
	}
}

// A registry that wants a bearer token: a token server on loopback in
// front of the real registry challenges every request, hands a token for
// the credentials in the Docker configuration, and forwards requests that
// carry it.
func TestFeatureFromRegistryWithToken(t *testing.T) {
	host := testenv.StartRegistry(t, false).Addr
	md := pushFeature(t, host, "private/hello", "1", registryFeature)
	backend, _ := url.Parse("http://" + host)
	proxy := httputil.NewSingleHostReverseProxy(backend)
	var tokenRequests []string
	var front *httptest.Server
	front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			if u, p, ok := r.BasicAuth(); !ok || u != "bob" || p != "pw-42" {
				http.Error(w, "bad credentials", http.StatusUnauthorized)
				return
			}
			tokenRequests = append(tokenRequests, r.URL.Query().Get("scope"))
			json.NewEncoder(w).Encode(map[string]string{"token": "t-" + r.URL.Query().Get("scope")})
			return
		}
		if r.Header.Get("Authorization") != "Bearer t-repository:private/hello:pull" {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="front",scope="repository:private/hello:pull"`, front.URL))
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		r.Header.Del("Authorization")
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	frontHost := strings.TrimPrefix(front.URL, "http://")

	cfgDir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", cfgDir)
	auth := base64.StdEncoding.EncodeToString([]byte("bob:pw-42"))
	os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, frontHost, auth)), 0o600)

	f := &devcontainer.FeatureFetcher{Dir: t.TempDir()}
	dir, err := f.Fetch(context.Background(), frontHost+"/private/hello@"+md.String())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "install.sh")); err != nil || string(b) != registryFeature["install.sh"] {
		t.Errorf("install.sh = %q, %v", b, err)
	}
	if len(tokenRequests) == 0 {
		t.Error("no token was requested")
	}
	// Without credentials the registry says no, and the error says how to
	// log in.
	os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{}`), 0o600)
	f = &devcontainer.FeatureFetcher{Dir: t.TempDir()}
	if _, err := f.Fetch(context.Background(), frontHost+"/private/hello:1"); err == nil || !strings.Contains(err.Error(), "docker login "+frontHost) {
		t.Errorf("without credentials: %v", err)
	}
}
