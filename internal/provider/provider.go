// Package provider keeps the named places where workspaces run: the local
// Docker engine, always there, and the targets the user adds (a Kubernetes
// cluster and namespace, a remote Docker engine), saved in Pitlane's
// config folder with the one to use by default.
package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Type is the kind of runtime a provider names.
type Type string

// Provider types.
const (
	Docker     Type = "docker"
	Kubernetes Type = "kubernetes"
)

// Local is the name of the built-in provider: the Docker engine that
// DOCKER_HOST names, or the local one.
const Local = "docker"

// Provider is one named place where workspaces run.
type Provider struct {
	Name string `json:"name"`
	Type Type   `json:"type"`

	// Kubernetes: the kubeconfig file (default: $KUBECONFIG or
	// ~/.kube/config), its context (default: the current one), the
	// namespace (default: the context's), the storage class of the
	// workspaces' volume claims (default: the cluster's) and the registry
	// that receives the images configs build.
	Kubeconfig    string `json:"kubeconfig,omitempty"`
	Context       string `json:"context,omitempty"`
	Namespace     string `json:"namespace,omitempty"`
	StorageClass  string `json:"storageClass,omitempty"`
	ImageRegistry string `json:"imageRegistry,omitempty"`

	// Docker: the engine's address (unix://, tcp://, ssh://user@host);
	// empty for DOCKER_HOST or the local socket.
	Host string `json:"host,omitempty"`

	// BuiltIn is set on the local Docker provider, which cannot be
	// removed.
	BuiltIn bool `json:"builtIn,omitempty"`
	// Default is set on the provider new workspaces go to.
	Default bool `json:"default,omitempty"`
}

// Errors callers branch on.
var (
	ErrNotFound = errors.New("no such provider")
	ErrExists   = errors.New("a provider with that name exists")
	ErrInvalid  = errors.New("invalid provider")
)

// file is what providers.json holds.
type file struct {
	Default   string     `json:"default,omitempty"`
	Providers []Provider `json:"providers"`
}

// FileName is the providers file in the config folder.
const FileName = "providers.json"

// Store reads and writes the providers of one config folder.
type Store struct {
	// Dir is Pitlane's config folder ($XDG_CONFIG_HOME/pitlane).
	Dir string
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Validate checks a provider before it is saved.
func Validate(p Provider) error {
	if !nameRE.MatchString(p.Name) {
		return fmt.Errorf("%w: name %q: use lowercase letters, digits and '-' (not at the start or end), at most 63 characters", ErrInvalid, p.Name)
	}
	switch p.Type {
	case Kubernetes:
		if p.Host != "" {
			return fmt.Errorf("%w: --host is for docker providers; a kubernetes provider takes --context and --namespace", ErrInvalid)
		}
		if p.Namespace != "" && !nameRE.MatchString(p.Namespace) {
			return fmt.Errorf("%w: namespace %q is not a valid Kubernetes namespace name", ErrInvalid, p.Namespace)
		}
		if strings.Contains(p.ImageRegistry, "://") {
			return fmt.Errorf("%w: image registry %q: give it as HOST[:PORT][/PATH], without a scheme", ErrInvalid, p.ImageRegistry)
		}
	case Docker:
		if p.Context != "" || p.Namespace != "" || p.StorageClass != "" || p.ImageRegistry != "" || p.Kubeconfig != "" {
			return fmt.Errorf("%w: --context, --namespace, --storage-class, --image-registry and --kubeconfig are for kubernetes providers; a docker provider takes --host", ErrInvalid)
		}
		if p.Host != "" && !strings.Contains(p.Host, "://") {
			return fmt.Errorf("%w: host %q: give the engine's address with its scheme (ssh://user@host, tcp://host:2376, unix:///path)", ErrInvalid, p.Host)
		}
	default:
		return fmt.Errorf("%w: type %q: use kubernetes or docker", ErrInvalid, p.Type)
	}
	return nil
}

func (s Store) path() string { return filepath.Join(s.Dir, FileName) }

func (s Store) read() (file, error) {
	var f file
	b, err := os.ReadFile(s.path())
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("reading %s: %w (fix it, or remove it to start again with the local Docker engine only)", s.path(), err)
	}
	return f, nil
}

func (s Store) write(f file) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	sort.Slice(f.Providers, func(i, j int) bool { return f.Providers[i].Name < f.Providers[j].Name })
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.Dir, ".providers-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.path())
}

// update reads, changes and writes the file under a lock, so two
// processes do not lose each other's change.
func (s Store) update(change func(*file) error) error {
	unlock, err := lock(filepath.Join(s.Dir, ".providers.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	f, err := s.read()
	if err != nil {
		return err
	}
	if err := change(&f); err != nil {
		return err
	}
	return s.write(f)
}

func builtIn() Provider { return Provider{Name: Local, Type: Docker, BuiltIn: true} }

// List returns every provider, the built-in one first, with Default set
// on the default.
func (s Store) List() ([]Provider, error) {
	f, err := s.read()
	if err != nil {
		return nil, err
	}
	out := append([]Provider{builtIn()}, f.Providers...)
	def := f.Default
	if def == "" || !has(out, def) {
		def = Local
	}
	for i := range out {
		out[i].Default = out[i].Name == def
	}
	return out, nil
}

func has(ps []Provider, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

// Get returns one provider by name.
func (s Store) Get(name string) (Provider, error) {
	ps, err := s.List()
	if err != nil {
		return Provider{}, err
	}
	for _, p := range ps {
		if p.Name == name {
			return p, nil
		}
	}
	return Provider{}, fmt.Errorf("%w %q; `pitlane provider list` shows them (%s)", ErrNotFound, name, names(ps))
}

// Default returns the provider new workspaces go to.
func (s Store) Default() (Provider, error) {
	ps, err := s.List()
	if err != nil {
		return Provider{}, err
	}
	for _, p := range ps {
		if p.Default {
			return p, nil
		}
	}
	return builtIn(), nil
}

// Add saves a new provider.
func (s Store) Add(p Provider) error {
	p.BuiltIn, p.Default = false, false
	if err := Validate(p); err != nil {
		return err
	}
	return s.update(func(f *file) error {
		if p.Name == Local || has(f.Providers, p.Name) {
			return fmt.Errorf("%w: %s; remove it first with `pitlane provider remove %s`, or pick another name", ErrExists, p.Name, p.Name)
		}
		f.Providers = append(f.Providers, p)
		return nil
	})
}

// Remove forgets a provider; the built-in one stays. If it was the
// default, the local Docker engine is the default again. Workspaces it
// runs are not touched.
func (s Store) Remove(name string) error {
	if name == Local {
		return fmt.Errorf("%w: %s is the built-in local Docker engine and cannot be removed", ErrInvalid, Local)
	}
	return s.update(func(f *file) error {
		for i, p := range f.Providers {
			if p.Name == name {
				f.Providers = append(f.Providers[:i], f.Providers[i+1:]...)
				if f.Default == name {
					f.Default = ""
				}
				return nil
			}
		}
		return fmt.Errorf("%w %q; `pitlane provider list` shows them", ErrNotFound, name)
	})
}

// Use makes a provider the default for new workspaces.
func (s Store) Use(name string) error {
	return s.update(func(f *file) error {
		if name != Local && !has(f.Providers, name) {
			return fmt.Errorf("%w %q; `pitlane provider list` shows them", ErrNotFound, name)
		}
		f.Default = name
		if name == Local {
			f.Default = ""
		}
		return nil
	})
}

func names(ps []Provider) string {
	n := make([]string, len(ps))
	for i, p := range ps {
		n[i] = p.Name
	}
	return strings.Join(n, ", ")
}
