package runtime

// ComposeFiles names a Compose project's files and how to load them.
type ComposeFiles struct {
	// Files are absolute paths; later files override earlier ones. The
	// first one's folder is the project folder, where .env is read.
	Files []string
	// DefaultName is the project name when neither a file (top-level
	// name:) nor COMPOSE_PROJECT_NAME (the environment, then .env) sets
	// one.
	DefaultName string
}

// ComposeProject is a loaded Compose project, as the engine needs it.
type ComposeProject struct {
	Name string
	// Dir is the project folder.
	Dir      string
	Services []ComposeService
	// Volumes are the project's own named volumes (not external ones),
	// by their engine names.
	Volumes []string
}

// Service returns the project's service called name, or nil.
func (p *ComposeProject) Service(name string) *ComposeService {
	for i := range p.Services {
		if p.Services[i].Name == name {
			return &p.Services[i]
		}
	}
	return nil
}

// ComposeService is one service of a Compose project.
type ComposeService struct {
	Name string
	// Image is the image the service runs: its image:, or for a service
	// built from a Dockerfile the name Compose gives that image.
	Image string
	// Build is set for a service with a build: section; its Tag is Image.
	Build *BuildSpec
	// BuildProblem, if set, says which build: option the runtime's
	// builder cannot honour.
	BuildProblem string
	// DependsOn are the services this one needs started first.
	DependsOn []string
	// What the service asks of the host.
	Privileged  bool
	CapAdd      []string
	SecurityOpt []string
	// Devices are HOST[:CONTAINER[:PERMISSIONS]].
	Devices     []string
	NetworkMode string
	Pid         string
	Ipc         string
	// Binds are the bind mounts of host paths.
	Binds []Mount
	// HasCommand reports whether the service sets a command or an
	// entrypoint of its own.
	HasCommand bool
	User       string
}

// ServiceOverride is what the engine sets on a service of a Compose
// project before bringing it up. Zero fields change nothing.
type ServiceOverride struct {
	// Image replaces the service's image (and its build: section: the
	// engine built the image).
	Image         string
	ContainerName string
	// Labels and Env are added to the service's own.
	Labels map[string]string
	Env    []string
	User   string
	// Entrypoint and Cmd, when Entrypoint is set, replace the service's.
	Entrypoint []string
	Cmd        []string
	// Mounts are added to the service's volumes; a volume mount's source
	// becomes a volume of the project.
	Mounts      []Mount
	Privileged  bool
	Init        bool
	CapAdd      []string
	SecurityOpt []string
}

// ComposeUp brings a Compose project up.
type ComposeUp struct {
	Files ComposeFiles
	// Services are started, with the services they depend on; empty for
	// every service.
	Services []string
	// Override changes services, by name.
	Override map[string]ServiceOverride
	// Recreate are services whose containers are made again even if
	// their configuration did not change.
	Recreate []string
}

// ComposeContainer is a container of a Compose project.
type ComposeContainer struct {
	ID      string
	Name    string
	Service string
	// State is the runtime's state word: created, running, exited, ...
	State string
}
