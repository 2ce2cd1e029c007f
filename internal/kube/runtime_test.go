package kube

import (
	"github.com/pitlane/pitlane/internal/docker"
	"github.com/pitlane/pitlane/internal/workspace"
)

// The engine can drive the Kubernetes runtime, which gets its images from
// the local Docker engine.
var (
	_ workspace.Runtime = (*Runtime)(nil)
	_ Images            = (*docker.Client)(nil)
)
