package devcontainer

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// FeatureLayerMediaType is the media type of the one layer of a feature
// published to an OCI registry: a tar of the feature's folder.
const FeatureLayerMediaType = "application/vnd.devcontainers.layer.v1+tar"

// maxFeatureSize bounds what a fetch reads for one manifest or layer.
const maxFeatureSize = 256 << 20

// FeatureRef is a feature reference that names an OCI artifact:
// REGISTRY/NAMESPACE/ID[:TAG] or REGISTRY/NAMESPACE/ID@sha256:HEX.
type FeatureRef struct {
	Registry   string
	Repository string
	// Tag is "latest" when the reference names neither tag nor digest;
	// empty when it names a digest.
	Tag    string
	Digest digest.Digest
}

// ParseFeatureRef parses a feature reference that is not a local folder.
func ParseFeatureRef(ref string) (FeatureRef, error) {
	if IsLocalFeature(ref) || strings.HasPrefix(ref, "/") {
		return FeatureRef{}, fmt.Errorf("feature %q is a folder, not a registry reference", ref)
	}
	if strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://") {
		return FeatureRef{}, fmt.Errorf("feature %q: features from tarball URLs are not supported; publish it to an OCI registry or copy its folder beside devcontainer.json as ./FOLDER", ref)
	}
	// Registry and repository names are case-insensitive here (the
	// registries want lower case); a tag keeps its case.
	name, rest := ref, ""
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		name, rest = ref[:i], ref[i:]
	} else if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		name, rest = ref[:i], ref[i:]
	}
	r, err := registry.ParseReference(strings.ToLower(name) + rest)
	if err != nil {
		return FeatureRef{}, fmt.Errorf("feature %q is neither a local folder (./NAME) nor a registry reference (REGISTRY/NAMESPACE/ID:VERSION): %w", ref, err)
	}
	if !strings.Contains(r.Repository, "/") && !strings.ContainsAny(r.Registry, ".:") && r.Registry != "localhost" {
		return FeatureRef{}, fmt.Errorf("feature %q has no registry host: write it as REGISTRY/NAMESPACE/ID:VERSION (for example ghcr.io/devcontainers/features/go:1)", ref)
	}
	out := FeatureRef{Registry: r.Registry, Repository: r.Repository}
	if d, err := r.Digest(); err == nil {
		out.Digest = d
	} else if r.Reference != "" {
		out.Tag = r.Reference
	} else {
		out.Tag = "latest"
	}
	return out, nil
}

// Reference is the tag or digest to resolve.
func (r FeatureRef) Reference() string {
	if r.Digest != "" {
		return r.Digest.String()
	}
	return r.Tag
}

func (r FeatureRef) String() string {
	if r.Digest != "" {
		return r.Registry + "/" + r.Repository + "@" + r.Digest.String()
	}
	return r.Registry + "/" + r.Repository + ":" + r.Tag
}

// FeatureFetcher fetches features from OCI registries and keeps them in a
// cache on disk, keyed by digest. A digest that is in the cache is never
// fetched again; a tag is looked up again once its entry is older than
// MaxAge, and the cached entry is used when the registry cannot be reached.
type FeatureFetcher struct {
	// Dir is the cache folder.
	Dir string
	// MaxAge is how long a tag's digest is trusted without asking the
	// registry. Zero means 24 hours; negative means always ask.
	MaxAge time.Duration
	// Credentials finds credentials for a registry host. Nil means the
	// Docker client's configuration: $DOCKER_CONFIG/config.json or
	// ~/.docker/config.json, with its credential helpers.
	Credentials auth.CredentialFunc
	// HTTPClient makes the requests. Nil means a client that retries on
	// transient errors.
	HTTPClient *http.Client
	// Log, if set, receives a line for each feature fetched or reused.
	Log func(string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// tagEntry is what the cache keeps for a tag.
type tagEntry struct {
	Digest     digest.Digest `json:"digest"`
	ResolvedAt time.Time     `json:"resolvedAt"`
}

// Fetch returns the folder holding the feature ref names, fetching it
// when the cache does not have it.
func (f *FeatureFetcher) Fetch(ctx context.Context, ref string) (string, error) {
	r, err := ParseFeatureRef(ref)
	if err != nil {
		return "", err
	}
	manifestDigest := r.Digest
	var stale *tagEntry
	if manifestDigest == "" {
		if e, err := f.readTag(r); err == nil {
			if f.fresh(e) && f.haveManifest(e.Digest) {
				manifestDigest = e.Digest
			} else {
				stale = e
			}
		}
	}
	if manifestDigest != "" {
		if dir, err := f.fromCache(manifestDigest); err == nil {
			f.log("Using cached feature %s (%s)", ref, short(manifestDigest))
			return dir, nil
		}
	}
	dir, err := f.fetch(ctx, r)
	if err != nil && stale != nil {
		if cached, cerr := f.fromCache(stale.Digest); cerr == nil {
			f.log("warning: %v; using the cached copy of %s from %s", err, ref, stale.ResolvedAt.Format(time.RFC3339))
			return cached, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("feature %q: %w", ref, err)
	}
	return dir, nil
}

func (f *FeatureFetcher) fetch(ctx context.Context, r FeatureRef) (string, error) {
	repo, err := remote.NewRepository(r.Registry + "/" + r.Repository)
	if err != nil {
		return "", err
	}
	repo.PlainHTTP = isLoopbackHost(r.Registry)
	client := f.HTTPClient
	if client == nil {
		client = retry.DefaultClient
	}
	cred := f.Credentials
	if cred == nil {
		store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
		if err != nil {
			return "", fmt.Errorf("reading the Docker client's credentials: %w (fix or move the Docker config.json)", err)
		}
		cred = credentials.Credential(store)
	}
	ac := &auth.Client{Client: client, Cache: auth.NewCache(), Credential: cred}
	ac.SetUserAgent("pitlane")
	repo.Client = ac

	f.log("Fetching feature %s", r)
	desc, rc, err := repo.FetchReference(ctx, r.Reference())
	if err != nil {
		return "", explainRegistryErr(r, err)
	}
	if desc.Size > maxFeatureSize {
		rc.Close()
		return "", fmt.Errorf("its manifest is %d bytes, more than a feature may have", desc.Size)
	}
	raw, err := content.ReadAll(rc, desc)
	rc.Close()
	if err != nil {
		return "", fmt.Errorf("reading its manifest from %s: %w", r.Registry, err)
	}
	if r.Digest != "" && desc.Digest != r.Digest {
		return "", fmt.Errorf("the registry sent a manifest with digest %s for %s", desc.Digest, r.Digest)
	}
	if digest.FromBytes(raw) != desc.Digest {
		return "", fmt.Errorf("the manifest's content does not match its digest %s", desc.Digest)
	}
	layer, err := featureLayer(raw)
	if err != nil {
		return "", err
	}
	dir := f.layerDir(layer.Digest)
	if _, err := os.Stat(filepath.Join(dir, "devcontainer-feature.json")); err != nil {
		if layer.Size > maxFeatureSize {
			return "", fmt.Errorf("its layer is %d bytes, more than a feature may have", layer.Size)
		}
		blob, err := content.FetchAll(ctx, repo, layer)
		if err != nil {
			return "", fmt.Errorf("fetching its layer %s: %w", short(layer.Digest), explainRegistryErr(r, err))
		}
		if err := f.unpack(blob, dir); err != nil {
			return "", fmt.Errorf("unpacking its layer %s: %w", short(layer.Digest), err)
		}
	}
	if err := writeFileAtomic(f.manifestPath(desc.Digest), raw); err != nil {
		return "", fmt.Errorf("caching the feature: %w", err)
	}
	if r.Digest == "" {
		e, _ := json.Marshal(tagEntry{Digest: desc.Digest, ResolvedAt: f.now()})
		if err := writeFileAtomic(f.tagPath(r), e); err != nil {
			return "", fmt.Errorf("caching the feature: %w", err)
		}
	}
	return dir, nil
}

// featureLayer finds the feature's tar in a manifest.
func featureLayer(raw []byte) (ocispec.Descriptor, error) {
	var m struct {
		MediaType string               `json:"mediaType"`
		Manifests []json.RawMessage    `json:"manifests"`
		Layers    []ocispec.Descriptor `json:"layers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("its manifest is not JSON: %w", err)
	}
	if m.MediaType == ocispec.MediaTypeImageIndex || len(m.Manifests) > 0 {
		return ocispec.Descriptor{}, fmt.Errorf("it is an image index, not a feature")
	}
	for _, l := range m.Layers {
		if l.MediaType == FeatureLayerMediaType {
			if err := l.Digest.Validate(); err != nil {
				return ocispec.Descriptor{}, fmt.Errorf("its layer has a bad digest: %w", err)
			}
			return l, nil
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("it has no layer of media type %s: is it a dev container feature?", FeatureLayerMediaType)
}

// explainRegistryErr adds what to do to the errors a user can fix. It
// goes by the HTTP status the registry answered, never by digits in the
// message (a registry's port number may well contain "401" or "404").
func explainRegistryErr(r FeatureRef, err error) error {
	auth := func() error {
		return fmt.Errorf("%w (if the feature is private, log in with `docker login %s` or configure a credential helper for it)", err, r.Registry)
	}
	missing := func() error {
		return fmt.Errorf("%w (check the feature's name and version: %s)", err, r)
	}
	var er *errcode.ErrorResponse
	if errors.As(err, &er) {
		switch er.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return auth()
		case http.StatusNotFound:
			return missing()
		}
	}
	if errors.Is(err, errdef.ErrNotFound) {
		return missing()
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return fmt.Errorf("cannot reach the registry %s: %w (check the network; features fetched once are reused from the cache)", r.Registry, err)
	}
	if msg := strings.ToLower(err.Error()); strings.Contains(msg, "unauthorized") || strings.Contains(msg, "denied") {
		return auth()
	}
	return err
}

// fromCache returns the folder of the feature whose manifest has digest
// d, when both are in the cache.
func (f *FeatureFetcher) fromCache(d digest.Digest) (string, error) {
	raw, err := os.ReadFile(f.manifestPath(d))
	if err != nil {
		return "", err
	}
	if digest.FromBytes(raw) != d {
		return "", fmt.Errorf("cached manifest %s is damaged", d)
	}
	layer, err := featureLayer(raw)
	if err != nil {
		return "", err
	}
	dir := f.layerDir(layer.Digest)
	if _, err := os.Stat(filepath.Join(dir, "devcontainer-feature.json")); err != nil {
		return "", err
	}
	return dir, nil
}

func (f *FeatureFetcher) haveManifest(d digest.Digest) bool {
	_, err := os.Stat(f.manifestPath(d))
	return err == nil
}

func (f *FeatureFetcher) fresh(e *tagEntry) bool {
	age := f.MaxAge
	if age == 0 {
		age = 24 * time.Hour
	}
	return age > 0 && f.now().Sub(e.ResolvedAt) < age
}

func (f *FeatureFetcher) readTag(r FeatureRef) (*tagEntry, error) {
	data, err := os.ReadFile(f.tagPath(r))
	if err != nil {
		return nil, err
	}
	var e tagEntry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	if err := e.Digest.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}

func (f *FeatureFetcher) manifestPath(d digest.Digest) string {
	return filepath.Join(f.Dir, "manifests", d.Algorithm().String(), d.Encoded())
}

func (f *FeatureFetcher) layerDir(d digest.Digest) string {
	return filepath.Join(f.Dir, "layers", d.Algorithm().String(), d.Encoded())
}

func (f *FeatureFetcher) tagPath(r FeatureRef) string {
	return filepath.Join(f.Dir, "tags", url.PathEscape(r.Registry), filepath.FromSlash(r.Repository), url.PathEscape(r.Tag)+".json")
}

func (f *FeatureFetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *FeatureFetcher) log(format string, args ...any) {
	if f.Log != nil {
		f.Log(fmt.Sprintf(format, args...))
	}
}

// unpack extracts a feature's tar into dir, through a temporary folder
// beside it so a reader never sees half a feature.
func (f *FeatureFetcher) unpack(blob []byte, dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".unpack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := extractTar(bytes.NewReader(blob), tmp); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(tmp, "devcontainer-feature.json")); err != nil {
		return fmt.Errorf("the layer has no devcontainer-feature.json at its top")
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another process may have unpacked the same layer meanwhile.
		if _, serr := os.Stat(filepath.Join(dir, "devcontainer-feature.json")); serr == nil {
			return nil
		}
		return err
	}
	return nil
}

// extractTar writes the regular files and folders of a tar under dir,
// refusing names that leave it. Links and devices are skipped: a feature
// is scripts and data.
func extractTar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the tar: %w", err)
		}
		name := path.Clean("/" + strings.ReplaceAll(h.Name, "\\", "/"))
		if name == "/" {
			continue
		}
		if rel := path.Clean(strings.ReplaceAll(h.Name, "\\", "/")); rel == ".." || strings.HasPrefix(rel, "../") {
			return fmt.Errorf("the tar names %q, outside the feature's folder", h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			mode := os.FileMode(0o644)
			if h.FileInfo().Mode()&0o111 != 0 {
				mode = 0o755
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, io.LimitReader(tr, maxFeatureSize)); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
		}
	}
}

func writeFileAtomic(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// isLoopbackHost reports whether a registry host (with an optional port)
// is this machine, which is reached over plain HTTP as the Docker engine
// does.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func short(d digest.Digest) string {
	s := d.String()
	if len(s) > 19 {
		return s[:19]
	}
	return s
}
