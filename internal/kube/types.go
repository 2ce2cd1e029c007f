package kube

import (
	"io"
	"time"
)

// The types below have the shapes of the Docker runtime's (internal/docker)
// so the engine can drive either runtime; the fields only Kubernetes needs
// are marked.

// Container is what Pitlane needs to know of a workspace on the cluster:
// its claim (the record, present while the workspace exists) and its pod
// (present while it runs).
type Container struct {
	// ID and Name are both the claim's (and pod's) name: objects of a
	// namespace are addressed by name.
	ID     string
	Name   string
	Image  string
	Labels map[string]string
	// Running is true while the pod runs its workspace container.
	Running bool
	// Status is "running", "created" (the pod is starting), "exited"
	// (the pod ended) or "stopped" (no pod).
	Status  string
	Created time.Time
	// Env is the container's configured environment (KEY=VALUE).
	Env []string
	// ImageID is the image digest the pod runs, once it runs.
	ImageID string
	// Pod is the phase of the pod, "" without one (Kubernetes only).
	Pod string
}

// Mount is a mount of the workspace container. On Kubernetes a "volume"
// mount becomes a folder of the workspace's claim, and the only "bind"
// mount allowed is the workspace folder itself (its files come from
// ContainerSpec.Source, never from this machine).
type Mount struct {
	// Type is "bind" or "volume".
	Type     string
	Source   string
	Target   string
	ReadOnly bool
}

// ContainerSpec is everything Pitlane sets on a workspace it creates.
type ContainerSpec struct {
	Name       string
	Image      string
	Env        []string
	Labels     map[string]string
	Entrypoint []string
	Cmd        []string
	// User is the container's user: on Kubernetes a uid or uid:gid (or
	// root), as a pod's securityContext only takes numbers.
	User       string
	WorkingDir string
	Mounts     []Mount

	Privileged bool
	// Init gives the workspace a process that reaps orphans: the pod
	// shares one process namespace, so its pause process does.
	Init        bool
	CapAdd      []string
	SecurityOpt []string
	// NetworkMode may be "" or "host".
	NetworkMode string
	// ExtraHosts are HOST:IP entries for /etc/hosts.
	ExtraHosts []string
	// Devices cannot be given to a pod; any is refused.
	Devices []string
	ShmSize int64

	// Folder is the workspace folder in the container; it lives on the
	// claim (Kubernetes only).
	Folder string `json:",omitempty"`
	// Source, if set, is cloned into Folder by an init container the first
	// time the pod starts (Kubernetes only).
	Source *GitSource `json:",omitempty"`
	// Home, if set, is the remote user's home folder: it lives on the
	// claim too, first filled with what the image has there (Kubernetes
	// only).
	Home string `json:",omitempty"`
	// Owner, if set, is the user (name or uid in the image) who gets the
	// workspace folder and home on the claim (Kubernetes only).
	Owner string `json:",omitempty"`
	// Resources are the pod's requests and the claim's size, from the
	// config's hostRequirements (Kubernetes only).
	Resources Resources `json:",omitzero"`
}

// GitSource is a repository an init container clones into the workspace
// folder, with the workspace image's git.
type GitSource struct {
	URL string
	// Ref is a branch or tag; empty for the remote's default branch.
	Ref string `json:",omitempty"`
}

// Resources are what a workspace asks of the cluster. Zero values ask for
// nothing (and the claim gets Options.VolumeSize).
type Resources struct {
	CPUs int `json:",omitempty"`
	// Memory and Storage are in bytes.
	Memory  int64 `json:",omitempty"`
	Storage int64 `json:",omitempty"`
}

// ExecSpec is a process to run in a running workspace.
type ExecSpec struct {
	Cmd        []string
	User       string
	WorkingDir string
	Env        []string
	Tty        bool
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
	// Resize, if set, receives a function that resizes the terminal once
	// the process runs, for TTY sessions.
	Resize func(resize func(width, height uint) error)
}

// Event is a life-cycle event of a workspace, in Docker's words.
type Event struct {
	// Action is "create" (claim made), "start" (pod running), "die" (pod
	// ended or went away) or "destroy" (claim removed).
	Action string
	ID     string
	Labels map[string]string
}
