package runtime

import "time"

// Image is an image in the runtime's store, as a listing shows it.
type Image struct {
	ID string
	// Tags are its repository:tag names; empty for an untagged image.
	Tags    []string
	Size    int64
	Created time.Time
	Labels  map[string]string
}

// CommitSpec describes an image made from a container's file system.
type CommitSpec struct {
	// Tag names the new image.
	Tag string
	// ConfigFrom is the image whose configuration (entrypoint, command,
	// user, environment, working folder) the new image keeps, rather than
	// the container's. Where ConfigFrom leaves one empty the container's
	// may show through: a container to be committed sets no environment,
	// user or working folder, and overrides the entrypoint only of an
	// image that has one.
	ConfigFrom string
	// Labels are the new image's labels, replacing ConfigFrom's.
	Labels map[string]string
}
