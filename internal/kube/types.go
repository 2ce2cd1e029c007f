package kube

import "github.com/pitlane/pitlane/internal/runtime"

// The runtime's types, under this package's names: the Kubernetes runtime
// speaks the engine's neutral vocabulary. On a cluster a Container is a
// workspace's claim (its record, present while the workspace exists) and
// its pod (present while it runs); its ID and Name are both their name.
// Status is "running", "created" (the pod is starting), "stopping",
// "exited" (the pod ended) or "stopped" (no pod).
type (
	Container     = runtime.Container
	ContainerSpec = runtime.ContainerSpec
	Mount         = runtime.Mount
	ExecSpec      = runtime.ExecSpec
	Event         = runtime.Event
	GitSource     = runtime.GitSource
	Resources     = runtime.Resources
)
