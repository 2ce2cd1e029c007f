package protocol

// MethodProviderList lists the places where workspaces can run, for the
// create flows to offer a choice. Params: none; result:
// [ProviderListResult].
const MethodProviderList = "provider/list"

// Provider kinds.
const (
	ProviderDocker     = "docker"
	ProviderKubernetes = "kubernetes"
)

// Provider is one named place where workspaces run.
type Provider struct {
	// Name is what workspace/create's "provider" takes.
	Name string `json:"name"`
	// Kind is "docker" or "kubernetes".
	Kind string `json:"kind"`
	// Default is set on the provider a create without "provider" uses.
	Default bool `json:"default"`
	// Description says in a few words where it is, for a picker.
	Description string `json:"description,omitempty"`
}

// ProviderListResult is the result of provider/list.
type ProviderListResult struct {
	// Providers has the default first; never empty.
	Providers []Provider `json:"providers"`
}
