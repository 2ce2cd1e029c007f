// Package workspace is Pitlane's engine: it turns a source (a git repository
// or a local folder) into a running dev container and manages its life
// (create, start, stop, delete, rebuild), with Docker as the only record of
// what exists.
package workspace

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// State is the life-cycle state of a workspace as users see it.
type State string

// Workspace states. Running and Stopped come from the container; Creating,
// Error and Deleting come from Pitlane's own markers while work is under way
// or after a setup hook failed.
const (
	StateCreating State = "creating"
	StateRunning  State = "running"
	StateStopped  State = "stopped"
	StateError    State = "error"
	StateDeleting State = "deleting"
	// StateInterrupted: a create, rebuild or delete stopped half-way (its
	// process died). `pitlane start` (or create again, from the same
	// source) finishes a setup; `pitlane delete` finishes a delete.
	StateInterrupted State = "interrupted"
)

// ConfigKind says where a workspace's container definition came from.
type ConfigKind string

// Config kinds, also used as a telemetry attribute.
const (
	KindDevcontainer ConfigKind = "devcontainer" // a devcontainer.json
	KindDockerfile   ConfigKind = "dockerfile"   // a Dockerfile at the repository root, no devcontainer.json
	KindDefault      ConfigKind = "default"      // nothing found: Pitlane's default base image
)

// Source says where a workspace's files come from.
type Source struct {
	// URL is the git URL the workspace was cloned from, or the absolute path
	// of a local folder.
	URL string `json:"url"`
	// Ref is the branch (or other ref) that was checked out; empty for the
	// remote's default branch or a local folder.
	Ref string `json:"ref,omitempty"`
	// Local is true when URL is a local folder bind-mounted in place.
	Local bool `json:"local,omitempty"`
}

// Workspace is one dev environment: a container and Pitlane's data for it.
type Workspace struct {
	Name        string     `json:"name"`
	State       State      `json:"state"`
	Source      Source     `json:"source"`
	ContainerID string     `json:"containerId,omitempty"`
	Image       string     `json:"image"`
	ConfigKind  ConfigKind `json:"configKind"`
	// ConfigPath is the devcontainer.json used, relative to the source root.
	ConfigPath string `json:"configPath,omitempty"`
	// LocalFolder is the folder on the host that is mounted into the
	// container (the clone, or the local source folder).
	LocalFolder string `json:"localFolder"`
	// Folder is the workspace folder inside the container.
	Folder string `json:"folder"`
	// RemoteUser is the user that hooks, exec and SSH sessions run as.
	RemoteUser string `json:"remoteUser,omitempty"`
	// SSHHost is the host name IDEs connect to (NAME.pitlane).
	SSHHost    string    `json:"sshHost"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	// Ports are the container ports the config asks to forward.
	Ports []int `json:"ports,omitempty"`
	// LastError is the failure that put the workspace in StateError.
	LastError string `json:"lastError,omitempty"`
	// Compose is set for a workspace that runs in a Compose project.
	Compose *ComposeInfo `json:"compose,omitempty"`
}

// SSHDomain is the pseudo top-level domain of workspace SSH host names.
const SSHDomain = "pitlane"

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidateName reports whether name can name a workspace. Names become
// container names (pitlane-NAME) and SSH host names (NAME.pitlane), so they
// are DNS labels: lowercase letters, digits and '-', not starting or ending
// with '-', at most 63 characters.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: %q: use lowercase letters, digits and '-' (not at the start or end), at most 63 characters", ErrInvalidName, name)
	}
	return nil
}

// Errors callers branch on. Wrapped errors carry the details.
var (
	ErrInvalidName   = errors.New("invalid workspace name")
	ErrNotFound      = errors.New("workspace does not exist")
	ErrNameTaken     = errors.New("workspace name is taken")
	ErrBusy          = errors.New("another Pitlane process is working on this workspace")
	ErrHookFailed    = errors.New("a setup hook failed")
	ErrEngineDown    = errors.New("cannot reach the Docker engine")
	ErrSourceInvalid = errors.New("cannot use the source")
	// ErrTrustRequired: the configuration asks for host access the user
	// has not agreed to; the error is a *TrustError with the list.
	ErrTrustRequired = errors.New("the configuration needs your trust")
	// ErrUnsavedWork: a delete would lose work found only in the clone;
	// the error is an *UnsavedWorkError with the list.
	ErrUnsavedWork = errors.New("the clone holds unsaved work")
)
