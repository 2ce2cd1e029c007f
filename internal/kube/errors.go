package kube

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// apiErr turns an API error of the request "verb resource" (as RBAC names
// them: "create", "pods") into this package's errors, with a message that
// says what to do.
func (c *Client) apiErr(err error, verb, resource string) error {
	if err == nil {
		return nil
	}
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	case apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err):
		return fmt.Errorf("%w: %v", ErrConflict, err)
	case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "exceeded quota"):
		return fmt.Errorf("%w in namespace %s: %v; lower the workspace's hostRequirements, remove other workspaces, or ask the cluster's administrator for a larger quota", ErrQuota, c.namespace, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w: you may not %s %s in namespace %s (%v); ask the cluster's administrator for that right, or use another namespace with --namespace", ErrForbidden, verb, resource, c.namespace, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w at %s: %v; log in to the cluster again (refresh the kubeconfig's credentials)", ErrUnauthorized, c.Host(), err)
	case isNetErr(err):
		return fmt.Errorf("%w at %s: %v; check that the cluster is up and that this machine can reach it (VPN, kubeconfig server address)", ErrUnreachable, c.Host(), err)
	}
	return fmt.Errorf("%s %s: %w", verb, resource, err)
}

func isNetErr(err error) bool {
	var ne net.Error
	var ue *url.Error
	var oe *net.OpError
	return errors.As(err, &oe) || errors.As(err, &ue) || errors.As(err, &ne) ||
		errors.Is(err, syscall.ECONNREFUSED) || apierrors.IsServerTimeout(err) ||
		strings.Contains(err.Error(), "connection refused")
}
