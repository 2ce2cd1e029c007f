// Package kube runs Pitlane workspaces on a Kubernetes cluster: a workspace
// is a Pod plus a PersistentVolumeClaim that keeps its folder (and
// optionally its home) while the Pod comes and goes. It is the only package
// that imports client-go, and it speaks the same terms as the Docker
// runtime (containers, specs, exec, events) so the engine can drive either.
package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/pitlane/pitlane/internal/runtime"
)

// The runtime's errors, under this package's names (ErrUnreachable names
// Kubernetes in its message and matches runtime.ErrUnreachable), and the
// errors only a cluster gives. Wrapped errors carry the details and say
// what to do.
var (
	ErrNotFound          = runtime.ErrNotFound
	ErrConflict          = runtime.ErrConflict
	ErrUnreachable error = unreachableError{}
	// ErrNoKubeconfig: there is no kubeconfig to connect with.
	ErrNoKubeconfig = errors.New("no Kubernetes configuration")
	// ErrForbidden: RBAC denied a request; the message names the verb and
	// the resource.
	ErrForbidden = errors.New("the cluster does not allow this")
	// ErrUnauthorized: the cluster did not accept the credentials.
	ErrUnauthorized = errors.New("the cluster did not accept the credentials")
	// ErrQuota: a ResourceQuota of the namespace refused the workspace.
	ErrQuota = errors.New("the namespace's resource quota is exceeded")
	// ErrPending: the workspace's pod could not start in time (volume
	// claim pending, no node with room); the message says why.
	ErrPending = errors.New("the workspace's pod cannot start")
	// ErrImagePull: the cluster cannot pull the workspace's image.
	ErrImagePull = errors.New("the cluster cannot pull the image")
	// ErrNoRegistry: the config builds an image, and the provider has no
	// registry to push it to.
	ErrNoRegistry = errors.New("this Kubernetes provider has no image registry")
	// ErrNotSupported: the request has no meaning on Kubernetes (a bind
	// mount of a local folder, a device, renaming).
	ErrNotSupported = errors.New("not supported on Kubernetes")
)

type unreachableError struct{}

func (unreachableError) Error() string        { return "cannot reach the Kubernetes cluster" }
func (unreachableError) Is(target error) bool { return target == runtime.ErrUnreachable }

// Options say which cluster, namespace and storage to use. Zero values
// mean the kubeconfig's current context and namespace and the cluster's
// default storage class.
type Options struct {
	// Kubeconfig is a kubeconfig file; default: $KUBECONFIG, or
	// ~/.kube/config.
	Kubeconfig string
	// Context is the kubeconfig context; default: its current context.
	Context string
	// Namespace for workspaces; default: the context's, or "default".
	Namespace string
	// StorageClass of the workspaces' volume claims; default: the
	// cluster's default class.
	StorageClass string
	// ImageRegistry receives images that configs build (Dockerfile,
	// features), e.g. "registry.example.com/team"; without it such configs
	// are refused.
	ImageRegistry string
	// VolumeSize is the size of a workspace's claim when the config's
	// hostRequirements name no storage. Default: 10Gi.
	VolumeSize resource.Quantity
	// StartTimeout bounds how long Start waits for a pod that cannot be
	// scheduled or whose claim stays pending. Default: 3 minutes.
	StartTimeout time.Duration
}

// Client talks to one namespace of one cluster.
type Client struct {
	cs        kubernetes.Interface
	rest      *rest.Config
	opts      Options
	namespace string
	context   string
	// spdyOnly makes exec use SPDY, as with servers older than
	// WebSocket exec (tests set it).
	spdyOnly bool
}

// New connects to the cluster named by opts and checks that it answers.
func New(ctx context.Context, opts Options) (*Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if opts.Kubeconfig != "" {
		rules.ExplicitPath = opts.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: opts.Context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %v", ErrNoKubeconfig, kubeconfigWhere(rules), err)
	}
	if len(raw.Contexts) == 0 && len(raw.Clusters) == 0 {
		return nil, fmt.Errorf("%w: %s does not exist or names no cluster; set KUBECONFIG or write ~/.kube/config (your cluster's provider has a command for it), or name a file with --kubeconfig", ErrNoKubeconfig, kubeconfigWhere(rules))
	}
	current := raw.CurrentContext
	if opts.Context != "" {
		current = opts.Context
	}
	if current == "" {
		return nil, fmt.Errorf("%w: %s names no current context; pick one with --context (%s)", ErrNoKubeconfig, kubeconfigWhere(rules), contextNames(raw.Contexts))
	}
	if _, ok := raw.Contexts[current]; !ok {
		return nil, fmt.Errorf("%w: there is no context %q in %s; the contexts are: %s", ErrNoKubeconfig, current, kubeconfigWhere(rules), contextNames(raw.Contexts))
	}
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: context %s: %v", ErrNoKubeconfig, current, err)
	}
	ns := opts.Namespace
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil || ns == "" {
			ns = "default"
		}
	}
	c, err := newClient(rc, opts, ns, current)
	if err != nil {
		return nil, err
	}
	if err := c.Ping(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// NewFromConfig returns a client for an already built REST config (tests
// use it for identities of their own). It does not check the connection.
func NewFromConfig(rc *rest.Config, opts Options, namespace string) (*Client, error) {
	if namespace == "" {
		namespace = "default"
	}
	return newClient(rc, opts, namespace, "")
}

func newClient(rc *rest.Config, opts Options, ns, context string) (*Client, error) {
	if opts.VolumeSize.IsZero() {
		opts.VolumeSize = resource.MustParse("10Gi")
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 3 * time.Minute
	}
	rc = rest.CopyConfig(rc)
	if rc.UserAgent == "" {
		rc.UserAgent = "pitlane"
	}
	// Workspaces are few; the default client-side limit (5 per second)
	// would only slow down create and list.
	rc.QPS, rc.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoKubeconfig, err)
	}
	return &Client{cs: cs, rest: rc, opts: opts, namespace: ns, context: context}, nil
}

// Ping checks that the API server answers, within 10 seconds.
func (c *Client) Ping(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	body, err := c.cs.Discovery().RESTClient().Get().AbsPath("/version").Do(pctx).Raw()
	if err != nil {
		return c.apiErr(err, "get", "the server version")
	}
	if len(body) == 0 {
		return fmt.Errorf("%w at %s: empty answer to /version", ErrUnreachable, c.rest.Host)
	}
	return nil
}

// Namespace is where the client's workspaces live.
func (c *Client) Namespace() string { return c.namespace }

// Host describes the cluster and namespace, for messages.
func (c *Client) Host() string {
	s := c.rest.Host
	if c.context != "" {
		s = "context " + c.context + " (" + s + ")"
	}
	return s + ", namespace " + c.namespace
}

// Close releases the client's idle connections.
func (c *Client) Close() error { return nil }

func kubeconfigWhere(rules *clientcmd.ClientConfigLoadingRules) string {
	if rules.ExplicitPath != "" {
		return rules.ExplicitPath
	}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		return "$KUBECONFIG (" + env + ")"
	}
	return clientcmd.RecommendedHomeFile
}

func contextNames[V any](m map[string]V) string {
	if len(m) == 0 {
		return "none"
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
