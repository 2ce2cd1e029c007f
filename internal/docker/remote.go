package docker

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/docker/cli/cli/config"
	dcontext "github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
	"github.com/docker/docker/client"
)

// NewHost connects to the engine at host: unix:///path, tcp://host:port,
// or ssh://[user@]host[:port][/socket], which runs `docker system
// dial-stdio` on that machine over the user's own ssh (so the remote
// side needs the docker CLI, and ssh its keys and known hosts).
func NewHost(ctx context.Context, host string) (*Client, error) {
	opts, err := (&dcontext.Endpoint{EndpointMeta: dcontext.EndpointMeta{Host: host}}).ClientOpts()
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", ErrUnreachable, host, err)
	}
	return connect(ctx, host, opts)
}

// engineOptions are the client options of the engine DOCKER_HOST names,
// or else the Docker context DOCKER_CONTEXT or the docker CLI's config
// names, or else the local socket; host describes it for messages.
func engineOptions() (host string, opts []client.Opt, err error) {
	if h := os.Getenv(client.EnvOverrideHost); h != "" {
		opts, err := (&dcontext.Endpoint{EndpointMeta: dcontext.EndpointMeta{Host: h}}).ClientOpts()
		if err != nil {
			return h, nil, err
		}
		// TLS settings (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) come from
		// the environment as before.
		return h, append([]client.Opt{client.FromEnv}, opts...), nil
	}
	name := os.Getenv("DOCKER_CONTEXT")
	if name == "" {
		if cf, err := config.Load(config.Dir()); err == nil {
			name = cf.CurrentContext
		}
	}
	if name == "" || name == "default" {
		return client.DefaultDockerHost, []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}, nil
	}
	s := store.New(config.ContextStoreDir(), store.NewConfig(
		func() any { return &map[string]any{} },
		store.EndpointTypeGetter(dcontext.DockerEndpoint, func() any { return &dcontext.EndpointMeta{} }),
	))
	meta, err := s.GetMetadata(name)
	if err != nil {
		return "context " + name, nil, fmt.Errorf("reading Docker context %q (from DOCKER_CONTEXT or %s): %v; `docker context ls` lists them", name, config.Dir(), err)
	}
	em, err := dcontext.EndpointFromContext(meta)
	if err != nil {
		return "context " + name, nil, fmt.Errorf("the Docker context %q: %v", name, err)
	}
	ep, err := dcontext.WithTLSData(s, name, em)
	if err != nil {
		return em.Host, nil, fmt.Errorf("the Docker context %q: %v", name, err)
	}
	opts, err = ep.ClientOpts()
	return em.Host, opts, err
}

// connect makes a client with opts and checks that the engine answers.
func connect(ctx context.Context, host string, opts []client.Opt) (*Client, error) {
	api, err := client.NewClientWithOpts(append(opts, client.WithAPIVersionNegotiation())...)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", ErrUnreachable, host, err)
	}
	// An ssh connection takes longer to set up than a socket.
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := api.Ping(pctx); err != nil {
		api.Close()
		return nil, unreachable(host, err)
	}
	// Settle the API version now: the client would otherwise negotiate
	// lazily, unsynchronised, on the first of several concurrent calls.
	api.NegotiateAPIVersion(pctx)
	return &Client{api: api, host: host}, nil
}

// Remote reports whether the engine runs on another machine (ssh://, or
// tcp:// to an address that is not this machine's loopback), whose
// containers cannot see this machine's files.
func (c *Client) Remote() bool { return IsRemoteHost(c.Host()) }

// IsRemoteHost reports whether an engine address is on another machine.
func IsRemoteHost(host string) bool {
	u, err := url.Parse(host)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "ssh":
		return true
	case "tcp", "http", "https":
		h := u.Hostname()
		if h == "localhost" {
			return false
		}
		ip := net.ParseIP(h)
		return ip == nil || !ip.IsLoopback()
	}
	return false
}
