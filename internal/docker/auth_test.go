package docker

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRegistryOf(t *testing.T) {
	for in, want := range map[string]string{
		"debian:bookworm":                   "docker.io",
		"127.0.0.1:5000/team/base:v1":       "127.0.0.1:5000",
		"ghcr.io/org/img@sha256:" + zeros64: "ghcr.io",
	} {
		if got, ok := registryOf(in); !ok || got != want {
			t.Errorf("registryOf(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

const zeros64 = "0000000000000000000000000000000000000000000000000000000000000000"

func TestRegistryAuthReadsTheDockerConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	auth := base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"127.0.0.1:5000":{"auth":"`+auth+`"},"https://index.docker.io/v1/":{"auth":"`+auth+`"}}}`), 0o600)
	ctx := context.Background()
	ac, found, err := registryAuth(ctx, "127.0.0.1:5000")
	if err != nil || !found || ac.Username != "alice" || ac.Password != "s3cret" || ac.ServerAddress != "127.0.0.1:5000" {
		t.Fatalf("got %+v %v %v", ac, found, err)
	}
	if ac, found, _ := registryAuth(ctx, "docker.io"); !found || ac.ServerAddress != "https://index.docker.io/v1/" {
		t.Fatalf("Docker Hub: %+v %v", ac, found)
	}
	if _, found, err := registryAuth(ctx, "ghcr.io"); found || err != nil {
		t.Fatalf("unknown registry: %v %v", found, err)
	}
	// A credential helper that is not installed is reported, not fatal.
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"credHelpers":{"ghcr.io":"pitlane-test-missing"}}`), 0o600)
	if _, found, err := registryAuth(ctx, "ghcr.io"); found || err == nil {
		t.Fatalf("missing helper: %v %v", found, err)
	}
}

func TestExplainAuth(t *testing.T) {
	refused := errors.New(`pulling 127.0.0.1:5000/x: Head "http://127.0.0.1:5000/v2/x/manifests/1": no basic auth credentials`)
	err := explainAuth(refused, []string{"127.0.0.1:5000"}, map[string]bool{}, nil)
	if !strings.Contains(err.Error(), "log in with `docker login 127.0.0.1:5000`") || !errors.Is(err, refused) {
		t.Fatalf("no credentials: %v", err)
	}
	err = explainAuth(errors.New("unauthorized: authentication required"), []string{"docker.io"}, map[string]bool{"docker.io": true}, nil)
	if !strings.Contains(err.Error(), "log in again with `docker login`") {
		t.Fatalf("refused credentials: %v", err)
	}
	other := errors.New("manifest for x:1 not found")
	if err := explainAuth(other, []string{"h"}, nil, nil); err != other {
		t.Fatalf("another error changed: %v", err)
	}
}
