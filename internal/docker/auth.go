package docker

import (
	"context"
	"fmt"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/registry"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// registryAuth returns the X-Registry-Auth value for pulling or pushing
// ref with the user's own Docker credentials: $DOCKER_CONFIG/config.json
// (or ~/.docker/config.json) and the credential helpers it names, as the
// docker command uses them. Without credentials for ref's registry it
// returns "" (anonymous access).
func registryAuth(ctx context.Context, ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("%q is not an image reference: %w", ref, err)
	}
	store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
	if err != nil {
		return "", fmt.Errorf("reading your Docker credentials: %w", err)
	}
	server := credentials.ServerAddressFromRegistry(reference.Domain(named))
	cred, err := store.Get(ctx, server)
	if err != nil {
		return "", fmt.Errorf("reading your Docker credentials for %s: %w", server, err)
	}
	if cred.Username == "" && cred.Password == "" && cred.RefreshToken == "" && cred.AccessToken == "" {
		return "", nil
	}
	return registry.EncodeAuthConfig(registry.AuthConfig{
		Username: cred.Username, Password: cred.Password,
		IdentityToken: cred.RefreshToken, RegistryToken: cred.AccessToken,
		ServerAddress: server,
	})
}
