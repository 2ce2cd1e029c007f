package docker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/registry"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/pitlane/pitlane/internal/dockerfile"
)

// Pulls and builds use the user's own Docker credentials: the Docker
// client's config.json ($DOCKER_CONFIG, or ~/.docker), its credsStore and
// credHelpers, looked up per registry as the docker CLI does. They go to
// the engine with each request and are never stored by Pitlane.

// dockerHub is the registry that image names without a host live on.
const dockerHub = "docker.io"

// registryOf returns the registry host of an image reference.
func registryOf(ref string) (string, bool) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", false
	}
	return reference.Domain(named), true
}

// registryAuth finds the user's credentials for a registry host. found is
// false when there are none; err says why they could not be read.
func registryAuth(ctx context.Context, host string) (ac registry.AuthConfig, found bool, err error) {
	store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
	if err != nil {
		return ac, false, fmt.Errorf("reading the Docker client's config: %w (fix or move the Docker config.json)", err)
	}
	addr := credentials.ServerAddressFromRegistry(host)
	cred, err := store.Get(ctx, addr)
	if err != nil {
		return ac, false, fmt.Errorf("asking the Docker credential helper for %s: %w", host, err)
	}
	if cred == auth.EmptyCredential {
		return ac, false, nil
	}
	return registry.AuthConfig{
		Username: cred.Username, Password: cred.Password, ServerAddress: addr,
		IdentityToken: cred.RefreshToken, RegistryToken: cred.AccessToken,
	}, true, nil
}

// loginCommand is what a user runs to log in to a registry.
func loginCommand(host string) string {
	if host == dockerHub {
		return "docker login"
	}
	return "docker login " + host
}

// isAuthMessage reports whether an engine's pull or build message is a
// registry refusing anonymous or wrong credentials.
func isAuthMessage(msg string) bool {
	msg = strings.ToLower(msg)
	for _, s := range []string{"unauthorized", "no basic auth credentials", "authentication required", "access denied", "denied:", "forbidden"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// explainAuth adds what to do to a failure that a registry's refusal
// caused: log in, or log in again when the saved credentials were sent.
func explainAuth(err error, hosts []string, sent map[string]bool, lookup error) error {
	if err == nil || (!cerrdefs.IsUnauthorized(err) && !cerrdefs.IsPermissionDenied(err) && !isAuthMessage(err.Error())) {
		return err
	}
	var hints []string
	for _, h := range hosts {
		if sent[h] {
			hints = append(hints, fmt.Sprintf("your saved credentials for %s were refused: log in again with `%s`", h, loginCommand(h)))
		} else {
			hints = append(hints, fmt.Sprintf("if the image is private, log in with `%s` or configure a credential helper for it", loginCommand(h)))
		}
	}
	if lookup != nil {
		hints = append(hints, lookup.Error())
	}
	if len(hints) == 0 {
		return err
	}
	return fmt.Errorf("%w (%s)", err, strings.Join(hints, "; "))
}

// buildAuths returns the user's credentials for every registry the
// Dockerfile's base images come from, keyed as the engine looks them up,
// with the hosts that had none and any failure to read them.
func buildAuths(ctx context.Context, spec BuildSpec) (map[string]registry.AuthConfig, []string, map[string]bool, error) {
	path := spec.Dockerfile
	if !filepath.IsAbs(path) {
		path = filepath.Join(spec.Context, filepath.FromSlash(path))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, nil
	}
	auths := map[string]registry.AuthConfig{}
	sent := map[string]bool{}
	var hosts []string
	var lookup error
	// A Dockerfile the builder cannot read fails the build with its own
	// message; here it only means no credentials are sent ahead.
	images, _ := dockerfile.BaseImages(data, spec.Args)
	for _, img := range images {
		host, ok := registryOf(img)
		if !ok || sent[host] || containsString(hosts, host) {
			continue
		}
		hosts = append(hosts, host)
		ac, found, err := registryAuth(ctx, host)
		if err != nil {
			lookup = err
		}
		if found {
			auths[ac.ServerAddress] = ac
			sent[host] = true
		}
	}
	return auths, hosts, sent, lookup
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
