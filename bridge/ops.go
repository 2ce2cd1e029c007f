package bridge

import "sync"

// opSet counts the cancellable operations (create, start, rebuild) this
// bridge runs, by workspace name, so a workspace record can offer
// "cancel" only while the client can cancel.
type opSet struct {
	mu sync.Mutex
	n  map[string]int
}

// begin records an operation on name and returns the function that ends
// it. An empty name (a create that derives its name) is not recorded.
func (o *opSet) begin(name string) (end func()) {
	if name == "" {
		return func() {}
	}
	o.mu.Lock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[name]++
	o.mu.Unlock()
	return func() {
		o.mu.Lock()
		if o.n[name]--; o.n[name] <= 0 {
			delete(o.n, name)
		}
		o.mu.Unlock()
	}
}

// running reports whether an operation on name is under way.
func (o *opSet) running(name string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[name] > 0
}
