package devcontainer

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

func TestParseFeatureRef(t *testing.T) {
	d := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		ref, want, err string
	}{
		{"ghcr.io/devcontainers/features/go:1", "ghcr.io/devcontainers/features/go:1", ""},
		{"ghcr.io/devcontainers/features/go", "ghcr.io/devcontainers/features/go:latest", ""},
		{"ghcr.io/devcontainers/features/go@" + d, "ghcr.io/devcontainers/features/go@" + d, ""},
		{"127.0.0.1:5000/features/hello:1.2", "127.0.0.1:5000/features/hello:1.2", ""},
		{"localhost/hello:1", "localhost/hello:1", ""},
		{"GHCR.io/Devcontainers/Features/Go:V1", "ghcr.io/devcontainers/features/go:V1", ""},
		{"127.0.0.1:5000/Hello", "127.0.0.1:5000/hello:latest", ""},
		{"go:1", "", "neither"},
		{"features/go:1", "", "no registry host"},
		{"./local", "", "folder"},
		{"https://example.com/f.tgz", "", "tarball"},
		{"ghcr.io/x/y@sha256:short", "", "neither"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			r, err := ParseFeatureRef(tc.ref)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || r.String() != tc.want {
				t.Fatalf("got %q, %v; want %q", r.String(), err, tc.want)
			}
		})
	}
}

// testRegistry is a minimal OCI distribution server: manifests by tag or
// digest and blobs by digest, optionally behind a bearer-token challenge
// whose token endpoint checks basic credentials.
type testRegistry struct {
	srv       *httptest.Server
	mu        sync.Mutex
	manifests map[string][]byte // "repo:ref"
	blobs     map[digest.Digest][]byte
	// user and pass, when set, make the registry demand a bearer token
	// that only these credentials obtain.
	user, pass string
	requests   atomic.Int64
	scopes     []string
}

const testToken = "tok-3f9a"

func newTestRegistry(t *testing.T) *testRegistry {
	r := &testRegistry{manifests: map[string][]byte{}, blobs: map[digest.Digest][]byte{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *testRegistry) host() string { return strings.TrimPrefix(r.srv.URL, "http://") }

func (r *testRegistry) serve(w http.ResponseWriter, req *http.Request) {
	r.requests.Add(1)
	if req.URL.Path == "/token" {
		u, p, ok := req.BasicAuth()
		if !ok || u != r.user || p != r.pass {
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`, http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		r.scopes = append(r.scopes, req.URL.Query().Get("service")+" "+req.URL.Query().Get("scope"))
		r.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]string{"token": testToken})
		return
	}
	rest, ok := strings.CutPrefix(req.URL.Path, "/v2/")
	if !ok {
		http.NotFound(w, req)
		return
	}
	var repo string
	if i := strings.LastIndex(rest, "/manifests/"); i >= 0 {
		repo = rest[:i]
	} else if i := strings.LastIndex(rest, "/blobs/"); i >= 0 {
		repo = rest[:i]
	}
	if r.user != "" && req.Header.Get("Authorization") != "Bearer "+testToken {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test-registry",scope="repository:%s:pull"`, r.srv.URL, repo))
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := strings.LastIndex(rest, "/manifests/"); i >= 0 {
		data, ok := r.manifests[repo+":"+rest[i+len("/manifests/"):]]
		if !ok {
			http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
		w.Header().Set("Docker-Content-Digest", digest.FromBytes(data).String())
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		if req.Method != http.MethodHead {
			w.Write(data)
		}
		return
	}
	if i := strings.LastIndex(rest, "/blobs/"); i >= 0 {
		data, ok := r.blobs[digest.Digest(rest[i+len("/blobs/"):])]
		if !ok {
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}`, http.StatusNotFound)
			return
		}
		w.Write(data)
		return
	}
	http.NotFound(w, req)
}

// push stores a feature made of files under repo:tag and returns the
// manifest's and the layer's digests.
func (r *testRegistry) push(t *testing.T, repo, tag string, files map[string]string) (manifest, layer digest.Digest) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	for name, body := range files {
		mode := int64(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		tw.WriteHeader(&tar.Header{Name: "./" + name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	blob := buf.Bytes()
	config := []byte("{}")
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: "application/vnd.devcontainers", Digest: digest.FromBytes(config), Size: int64(len(config))},
		Layers:    []ocispec.Descriptor{{MediaType: FeatureLayerMediaType, Digest: digest.FromBytes(blob), Size: int64(len(blob))}},
	}
	m.SchemaVersion = 2
	raw, _ := json.Marshal(m)
	md := digest.FromBytes(raw)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.blobs[m.Layers[0].Digest] = blob
	r.blobs[m.Config.Digest] = config
	r.manifests[repo+":"+tag] = raw
	r.manifests[repo+":"+md.String()] = raw
	return md, m.Layers[0].Digest
}

var helloFeature = map[string]string{
	"devcontainer-feature.json": `{"id": "hello", "version": "1.0.0", "options": {"greeting": {"type": "string", "default": "hi"}}}`,
	"install.sh":                "#!/bin/sh\necho \"$GREETING\" > /hello\n",
	"lib/data.txt":              "data\n",
}

// noCredentials keeps tests away from the user's Docker configuration.
func noCredentials(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
}

func TestFetchFeatureAnonymousAndCached(t *testing.T) {
	noCredentials(t)
	reg := newTestRegistry(t)
	md, ld := reg.push(t, "features/hello", "1", helloFeature)
	var lines []string
	f := &FeatureFetcher{Dir: t.TempDir(), Log: func(s string) { lines = append(lines, s) }}
	ref := reg.host() + "/features/hello:1"
	dir, err := f.Fetch(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(f.Dir, "layers", "sha256", ld.Encoded()); dir != want {
		t.Errorf("dir = %s, want the layer's digest folder %s", dir, want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "lib", "data.txt")); err != nil || string(b) != "data\n" {
		t.Errorf("lib/data.txt = %q, %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "install.sh")); err != nil || fi.Mode()&0o100 == 0 {
		t.Errorf("install.sh not executable: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(f.Dir, "manifests", "sha256", md.Encoded())); err != nil {
		t.Errorf("manifest not cached by digest: %v", err)
	}
	// The feature loads like a local one.
	fs, err := LoadFeatures(context.Background(), &Config{Features: map[string]json.RawMessage{ref: json.RawMessage(`{"greeting": "hey"}`)}}, t.TempDir(), f.Fetch)
	if err != nil || fs[0].Meta.ID != "hello" || fs[0].Values[0] != "GREETING=hey" {
		t.Fatalf("LoadFeatures: %v %+v", err, fs)
	}

	// With the registry gone, the tag and the digest still resolve.
	reg.srv.Close()
	before := reg.requests.Load()
	for _, r := range []string{ref, reg.host() + "/features/hello@" + md.String()} {
		if d2, err := f.Fetch(context.Background(), r); err != nil || d2 != dir {
			t.Errorf("cached fetch of %s: %q, %v", r, d2, err)
		}
	}
	if reg.requests.Load() != before {
		t.Error("a cached fetch asked the registry")
	}
	if !strings.Contains(strings.Join(lines, "\n"), "Using cached feature") {
		t.Errorf("log lines: %q", lines)
	}
	// A tag the cache has never seen needs the registry.
	if _, err := f.Fetch(context.Background(), reg.host()+"/features/hello:2"); err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("uncached tag without registry: %v", err)
	}
}

func TestFetchFeatureStaleTag(t *testing.T) {
	noCredentials(t)
	reg := newTestRegistry(t)
	reg.push(t, "features/hello", "1", helloFeature)
	now := time.Now()
	var lines []string
	f := &FeatureFetcher{Dir: t.TempDir(), Now: func() time.Time { return now }, Log: func(s string) { lines = append(lines, s) }}
	ref := reg.host() + "/features/hello:1"
	first, err := f.Fetch(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	// A day later the tag is asked again and now names another version.
	now = now.Add(25 * time.Hour)
	files := map[string]string{}
	for k, v := range helloFeature {
		files[k] = v
	}
	files["install.sh"] = "#!/bin/sh\necho v2\n"
	reg.push(t, "features/hello", "1", files)
	second, err := f.Fetch(context.Background(), ref)
	if err != nil || second == first {
		t.Fatalf("refetch after a day: %q (first %q), %v", second, first, err)
	}
	// Another day later the registry is gone: the stale copy is used with
	// a warning.
	now = now.Add(25 * time.Hour)
	reg.srv.Close()
	third, err := f.Fetch(context.Background(), ref)
	if err != nil || third != second {
		t.Fatalf("stale fetch: %q, %v", third, err)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "warning:") || !strings.Contains(last, "cached copy") {
		t.Errorf("last log line = %q", last)
	}
}

func TestFetchFeatureBearer(t *testing.T) {
	helper := t.TempDir()
	// A Docker credential helper: reads the server address on stdin and
	// prints the credentials as JSON.
	script := "#!/bin/sh\nread host\necho \"{\\\"ServerURL\\\":\\\"$host\\\",\\\"Username\\\":\\\"helper-user\\\",\\\"Secret\\\":\\\"helper-pass\\\"}\"\n"
	if err := os.WriteFile(filepath.Join(helper, "docker-credential-pltest"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", helper+string(os.PathListSeparator)+os.Getenv("PATH"))

	for _, tc := range []struct {
		name, user, pass string
		config           func(host string) string
		err              string
	}{
		{"config auths", "alice", "s3cret", func(host string) string {
			return fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, host, base64.StdEncoding.EncodeToString([]byte("alice:s3cret")))
		}, ""},
		{"credential helper", "helper-user", "helper-pass", func(host string) string {
			return fmt.Sprintf(`{"credHelpers": {%q: "pltest"}}`, host)
		}, ""},
		{"wrong password", "alice", "other", func(host string) string {
			return fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, host, base64.StdEncoding.EncodeToString([]byte("alice:s3cret")))
		}, "docker login"},
		{"no credentials", "alice", "s3cret", func(string) string { return `{}` }, "docker login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newTestRegistry(t)
			reg.user, reg.pass = tc.user, tc.pass
			reg.push(t, "private/hello", "1", helloFeature)
			cfgDir := t.TempDir()
			os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(tc.config(reg.host())), 0o600)
			t.Setenv("DOCKER_CONFIG", cfgDir)
			f := &FeatureFetcher{Dir: t.TempDir()}
			dir, err := f.Fetch(context.Background(), reg.host()+"/private/hello:1")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "install.sh")); err != nil {
				t.Error(err)
			}
			if len(reg.scopes) == 0 || reg.scopes[0] != "test-registry repository:private/hello:pull" {
				t.Errorf("token requests: %q", reg.scopes)
			}
		})
	}
}

func TestFetchFeatureVerifiesDigests(t *testing.T) {
	noCredentials(t)
	reg := newTestRegistry(t)
	md, ld := reg.push(t, "features/hello", "1", helloFeature)
	f := &FeatureFetcher{Dir: t.TempDir()}

	// A pin to a digest the registry does not have.
	other := digest.FromString("other")
	if _, err := f.Fetch(context.Background(), reg.host()+"/features/hello@"+other.String()); err == nil {
		t.Error("unknown digest gave no error")
	}
	// A layer whose bytes do not match its digest.
	reg.mu.Lock()
	reg.blobs[ld] = append([]byte("x"), reg.blobs[ld][1:]...)
	reg.mu.Unlock()
	if _, err := f.Fetch(context.Background(), reg.host()+"/features/hello@"+md.String()); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Fatalf("a damaged layer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.Dir, "layers", "sha256", ld.Encoded())); !os.IsNotExist(err) {
		t.Errorf("a damaged layer was cached: %v", err)
	}
	// A manifest that is not a feature.
	reg.mu.Lock()
	bad := []byte(`{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "` + ld.String() + `", "size": 1}]}`)
	reg.manifests["features/image:1"] = bad
	reg.mu.Unlock()
	if _, err := f.Fetch(context.Background(), reg.host()+"/features/image:1"); err == nil || !strings.Contains(err.Error(), FeatureLayerMediaType) {
		t.Errorf("image manifest: %v", err)
	}
	if _, err := f.Fetch(context.Background(), reg.host()+"/features/missing:1"); err == nil || !strings.Contains(err.Error(), "check the feature's name") {
		t.Errorf("missing feature: %v", err)
	}
}

func TestExtractTarStaysInside(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "../evil", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.Close()
	dir := t.TempDir()
	if err := extractTar(&buf, filepath.Join(dir, "f")); err == nil {
		t.Error("a name outside the folder was accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "evil")); !os.IsNotExist(err) {
		t.Error("the file was written outside the folder")
	}
}

// TestExplainRegistryErr classifies by status, not by digits that a port
// number may contain.
func TestExplainRegistryErr(t *testing.T) {
	r := FeatureRef{Registry: "127.0.0.1:40401", Repository: "features/x", Tag: "1"}
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:40401/v2/features/x/manifests/1", Err: errors.New("dial tcp 127.0.0.1:40401: connect: connection refused")}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"refused on a port with 401 in it", refused, "cannot reach the registry"},
		{"404 status", &errcode.ErrorResponse{Method: "GET", URL: &url.URL{Host: "127.0.0.1:40401"}, StatusCode: 404}, "check the feature's name"},
		{"401 status", &errcode.ErrorResponse{Method: "GET", URL: &url.URL{Host: "127.0.0.1:40404"}, StatusCode: 401}, "docker login 127.0.0.1:40401"},
		{"not found", fmt.Errorf("resolving: %w", errdef.ErrNotFound), "check the feature's name"},
	}
	for _, tc := range tests {
		if got := explainRegistryErr(r, tc.err).Error(); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want it to contain %q", tc.name, got, tc.want)
		}
	}
}
