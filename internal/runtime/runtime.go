// Package runtime holds the neutral vocabulary of places where workspaces
// run: containers, their specs, processes run in them, images, events and
// the errors every runtime reports. The engine (internal/workspace) declares
// the operations it needs in these terms; the Docker runtime
// (internal/docker) and the Kubernetes runtime (internal/kube) implement
// them. Types only, no behaviour.
package runtime

import (
	"errors"
	"io"
	"time"
)

// Errors every runtime wraps its failures in, so the engine can branch on
// them whatever runs the workspace.
var (
	// ErrUnreachable wraps every failure to reach the runtime's engine or
	// cluster.
	ErrUnreachable = errors.New("cannot reach the container engine")
	// ErrConflict is returned when a container name is already in use.
	ErrConflict = errors.New("container name already in use")
	// ErrNotFound is returned for a container or image that does not exist.
	ErrNotFound = errors.New("no such container or image")
)

// Container is what the engine needs to know of a workspace container.
type Container struct {
	ID      string
	Name    string
	Image   string
	Labels  map[string]string
	Running bool
	// Status is the runtime's state word: created, running, exited, ...
	Status  string
	Created time.Time
	// Env is the container's configured environment (KEY=VALUE); only
	// Inspect fills it.
	Env []string
	// ImageID is the ID of the image the container was made from; only
	// Inspect fills it.
	ImageID string
}

// Mount is a bind mount or volume mount of a container.
type Mount struct {
	// Type is "bind" or "volume".
	Type     string
	Source   string
	Target   string
	ReadOnly bool
}

// ContainerSpec is everything the engine sets on a container it creates.
type ContainerSpec struct {
	Name       string
	Image      string
	Env        []string
	Labels     map[string]string
	Entrypoint []string
	Cmd        []string
	User       string
	WorkingDir string
	Mounts     []Mount

	// Host settings a devcontainer.json may ask for.
	Privileged  bool
	Init        bool
	CapAdd      []string
	SecurityOpt []string
	NetworkMode string
	ExtraHosts  []string
	// Devices are docker --device values: HOST[:CONTAINER[:PERMISSIONS]].
	Devices []string
	ShmSize int64

	// What a runtime whose containers do not run on this machine
	// (Kubernetes) needs instead of bind mounts of this machine's folders.
	// Runtimes that share this machine's files may ignore them.

	// Folder is the workspace folder in the container.
	Folder string
	// Source, if set, is the repository cloned into Folder the first time
	// the container starts.
	Source *GitSource
	// Home, if set, is the remote user's home folder, kept with the
	// workspace's files and first filled with what the image has there.
	Home string
	// Owner, if set, is the user (a name or uid of the image) who gets
	// Folder and Home.
	Owner string
	// Resources are what the workspace asks of the runtime
	// (hostRequirements).
	Resources Resources
}

// GitSource is a git repository a runtime clones into a workspace.
type GitSource struct {
	URL string
	// Ref is a branch or tag; empty for the remote's default branch.
	Ref string
}

// Resources are what a workspace asks of its runtime. Zero values ask
// for nothing in particular.
type Resources struct {
	CPUs int
	// Memory and Storage are in bytes.
	Memory  int64
	Storage int64
}

// ExecSpec is a process to run in a running container.
type ExecSpec struct {
	Cmd        []string
	User       string
	WorkingDir string
	Env        []string
	Tty        bool
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
	// Resize, if set, receives the process's resize function once it
	// runs, for TTY sessions.
	Resize func(resize func(width, height uint) error)
}

// ImageConfig is what the engine reads from an image.
type ImageConfig struct {
	ID     string
	User   string
	Env    []string
	Labels map[string]string
	// Created is when the image was built; zero when unknown.
	Created time.Time
}

// BuildSpec describes an image build.
type BuildSpec struct {
	// Context is the build context folder on the host.
	Context string
	// Dockerfile is relative to Context (slash-separated) or absolute.
	Dockerfile string
	Args       map[string]string
	Target     string
	Tag        string
	Labels     map[string]string
	// NoCache, Pull, NetworkMode, ExtraHosts and ShmSize are the builder
	// options a devcontainer.json may set in build.options.
	NoCache     bool
	Pull        bool
	NetworkMode string
	ExtraHosts  []string
	ShmSize     int64
}

// Event is a container life-cycle event.
type Event struct {
	// Action is the runtime's word: create, start, die, stop, destroy, ...
	Action string
	ID     string
	Labels map[string]string
}
