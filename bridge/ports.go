package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/internal/ports"
	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/protocol"
)

// Ports is how the bridge reaches the ports of a workspace; cmd/pitlane
// implements it with the Pitlane agent inside the container.
type Ports interface {
	// Configured returns the ports the workspace's configuration names.
	Configured(ctx context.Context, name string) ([]ports.Port, error)
	// Listening returns the TCP ports that processes listen on inside
	// the running workspace.
	Listening(ctx context.Context, name string) ([]int, error)
	// Dial connects to a port inside the running workspace.
	Dial(ctx context.Context, name string, port int) (net.Conn, error)
}

// errNoPorts is the error of the port methods of a bridge without Ports.
var errNoPorts = &jsonrpc2.Error{Code: protocol.CodeMethodNotFound, Message: "this bridge cannot reach workspace ports: update pitlane"}

// portState is what the bridge knows of one workspace's ports.
type portState struct {
	configured []ports.Port
	detected   []int
	// configFor is the container the configured ports were read for: the
	// configuration changes only with a new container (a rebuild).
	configFor string
	forwards  map[int]*ports.Forward // by container port
	// watched is set once a client asked for the ports: the poller
	// then reports changes of the listening ports.
	watched bool
}

// portSet holds the port state of every workspace a client showed
// interest in.
type portSet struct {
	mu      sync.Mutex
	byName  map[string]*portState
	polling bool
	closed  bool // set when the bridge stops: no new forwards
}

func (ps *portSet) state(name string) *portState {
	if ps.byName == nil {
		ps.byName = map[string]*portState{}
	}
	st := ps.byName[name]
	if st == nil {
		st = &portState{forwards: map[int]*ports.Forward{}}
		ps.byName[name] = st
	}
	return st
}

// wire lists st's ports as the protocol shows them. Locked by the caller.
func (st *portState) wire() []protocol.Port {
	merged := ports.Merge(st.configured, st.detected)
	for n := range st.forwards {
		// A forward of a port nothing listens on yet is listed too, so
		// the client can stop it.
		if !slices.ContainsFunc(merged, func(p ports.Port) bool { return p.Number == n }) {
			merged = ports.Merge(merged, []int{n})
		}
	}
	out := make([]protocol.Port, 0, len(merged))
	for _, p := range merged {
		wp := protocol.Port{Port: p.Number, Label: p.Label, Source: portSourceToWire(p.Source), Protocol: "tcp"}
		if f := st.forwards[p.Number]; f != nil {
			wp.Forwarded = forwardedToWire(f.LocalPort())
		}
		out = append(out, wp)
	}
	return out
}

func forwardedToWire(local int) *protocol.Forwarded {
	return &protocol.Forwarded{LocalPort: local, URL: fmt.Sprintf("http://127.0.0.1:%d/", local)}
}

func portSourceToWire(s ports.Source) protocol.PortSource {
	switch s {
	case ports.SourceForwardPorts:
		return protocol.PortForwardPorts
	case ports.SourceAppPort:
		return protocol.PortAppPort
	}
	return protocol.PortDetected
}

// refresh reads a workspace's configured and listening ports. A stopped
// workspace has no listening ports; a failure to list them is logged and
// leaves the configured ones.
func (s *Server) refreshPorts(ctx context.Context, ws *workspace.Workspace) (configured []ports.Port, detected []int, err error) {
	configured, err = s.opts.Ports.Configured(ctx, ws.Name)
	if err != nil {
		return nil, nil, err
	}
	detected, err = s.listening(ctx, ws)
	return configured, detected, err
}

// listening reads the ports processes listen on in a running workspace,
// sorted, each once; a workspace that does not run listens on none.
func (s *Server) listening(ctx context.Context, ws *workspace.Workspace) ([]int, error) {
	if ws.State != workspace.StateRunning {
		return nil, nil
	}
	detected, err := s.opts.Ports.Listening(ctx, ws.Name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.log.Warn("cannot list the listening ports", "workspace", ws.Name, "error", err)
		return nil, nil
	}
	slices.Sort(detected)
	return slices.Compact(detected), nil
}

func (s *Server) ports(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.PortsParams
	if err := decodeName(req, &p, &p.Name); err != nil {
		return nil, err
	}
	if s.opts.Ports == nil {
		return nil, errNoPorts
	}
	ws, err := s.opts.Manager.Get(ctx, p.Name)
	if err != nil {
		return nil, withWorkspace(err, p.Name)
	}
	configured, detected, err := s.refreshPorts(ctx, ws)
	if err != nil {
		return nil, withWorkspace(err, p.Name)
	}
	s.portSet.mu.Lock()
	st := s.portSet.state(p.Name)
	st.configured, st.configFor, st.detected, st.watched = configured, ws.ContainerID, detected, true
	res := protocol.PortsResult{Ports: st.wire()}
	s.portSet.mu.Unlock()
	s.startPortPoll()
	return res, nil
}

func (s *Server) forwardPort(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.ForwardPortParams
	if err := decodeName(req, &p, &p.Name); err != nil {
		return nil, err
	}
	if p.Port < 1 || p.Port > 65535 {
		return nil, invalidParams(`workspace/forwardPort: "port" must be a port number, 1 to 65535`)
	}
	if p.LocalPort < 0 || p.LocalPort > 65535 {
		return nil, invalidParams(`workspace/forwardPort: "localPort" must be 0 (any) or a port number, 1 to 65535`)
	}
	if s.opts.Ports == nil {
		return nil, errNoPorts
	}
	ws, err := s.opts.Manager.Get(ctx, p.Name)
	if err != nil {
		return nil, withWorkspace(err, p.Name)
	}
	if ws.State != workspace.StateRunning {
		return nil, withWorkspace(fmt.Errorf("workspace %s is %s: start it, then forward port %d", p.Name, ws.State, p.Port), p.Name)
	}
	configured, detected, err := s.refreshPorts(ctx, ws)
	if err != nil {
		return nil, withWorkspace(err, p.Name)
	}

	s.portSet.mu.Lock()
	defer s.portSet.mu.Unlock()
	if s.portSet.closed {
		return nil, &jsonrpc2.Error{Code: protocol.CodeInvalidRequest, Message: "the bridge is shutting down: start a new one"}
	}
	st := s.portSet.state(p.Name)
	st.configured, st.configFor, st.detected = configured, ws.ContainerID, detected
	if f := st.forwards[p.Port]; f != nil && (p.LocalPort == 0 || p.LocalPort == f.LocalPort()) {
		return forwardResult(st, p.Port, ""), nil
	}
	want := p.LocalPort
	if want == 0 {
		want = p.Port
	}
	l, moved, err := ports.Listen(want, p.LocalPort == 0)
	if err != nil {
		return nil, withWorkspace(fmt.Errorf("%w: pick another local port, or 0 for any free one", err), p.Name)
	}
	if old := st.forwards[p.Port]; old != nil {
		old.Close()
	}
	name, port := p.Name, p.Port
	st.forwards[port] = ports.NewForward(l, func(ctx context.Context) (net.Conn, error) {
		return s.opts.Ports.Dial(ctx, name, port)
	}, func(err error) {
		s.log.Warn("a forwarded connection failed", "workspace", name, "port", port, "error", err)
		s.notify(protocol.MethodLogMessage, &protocol.LogMessageParams{Type: 2,
			Message: fmt.Sprintf("port %d of %s did not answer a forwarded connection: %v", port, name, err)})
	})
	local := ports.LocalPort(l)
	s.log.Info("forwarding a port", "workspace", name, "port", port, "localPort", local)
	msg := ""
	if moved {
		msg = fmt.Sprintf("local port %d is busy; forwarded to %d", want, local)
	}
	s.notify(protocol.MethodPortsChanged, &protocol.PortsChangedParams{Name: name, Ports: st.wire()})
	return forwardResult(st, port, msg), nil
}

func forwardResult(st *portState, port int, msg string) protocol.ForwardPortResult {
	for _, p := range st.wire() {
		if p.Port == port {
			return protocol.ForwardPortResult{Port: p, Message: msg}
		}
	}
	panic("a forwarded port is missing from the list")
}

func (s *Server) stopForwarding(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.StopForwardingParams
	if err := decodeName(req, &p, &p.Name); err != nil {
		return nil, err
	}
	if p.Port < 1 || p.Port > 65535 {
		return nil, invalidParams(`workspace/stopForwarding: "port" must be a port number, 1 to 65535`)
	}
	if err := workspace.ValidateName(p.Name); err != nil {
		return nil, withWorkspace(err, p.Name)
	}
	s.portSet.mu.Lock()
	defer s.portSet.mu.Unlock()
	st := s.portSet.byName[p.Name]
	if st == nil || st.forwards[p.Port] == nil {
		return nil, nil
	}
	st.forwards[p.Port].Close()
	delete(st.forwards, p.Port)
	s.log.Info("stopped forwarding a port", "workspace", p.Name, "port", p.Port)
	s.notify(protocol.MethodPortsChanged, &protocol.PortsChangedParams{Name: p.Name, Ports: st.wire()})
	return nil, nil
}

// stopForwards closes every forward of one workspace (all with name "").
// The caller holds s.portSet.mu.
func (s *Server) stopForwards(name string) {
	for n, st := range s.portSet.byName {
		if name != "" && n != name {
			continue
		}
		for port, f := range st.forwards {
			f.Close()
			delete(st.forwards, port)
		}
	}
}

// portsEvent keeps the port state in step with a workspace change: a
// deleted workspace loses its forwards and the bridge's interest.
func (s *Server) portsEvent(ev workspace.Event) {
	if ev.Workspace != nil {
		return
	}
	s.portSet.mu.Lock()
	defer s.portSet.mu.Unlock()
	if s.portSet.byName[ev.Name] == nil {
		return
	}
	s.stopForwards(ev.Name)
	delete(s.portSet.byName, ev.Name)
}

// startPortPoll starts, once, the loop that reports changes of the
// listening ports of the workspaces a client asked about.
func (s *Server) startPortPoll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || s.shutdown {
		return
	}
	s.portSet.mu.Lock()
	polling := s.portSet.polling
	s.portSet.polling = true
	s.portSet.mu.Unlock()
	if polling {
		return
	}
	s.handlers.Add(1)
	go func() {
		defer s.handlers.Done()
		t := time.NewTicker(s.opts.PortsInterval)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
			}
			s.pollPorts(s.ctx)
		}
	}()
}

// pollPorts reads the ports of every watched workspace and sends
// workspace/portsChanged for those whose ports changed.
func (s *Server) pollPorts(ctx context.Context) {
	s.portSet.mu.Lock()
	var names []string
	for n, st := range s.portSet.byName {
		if st.watched || len(st.forwards) > 0 {
			names = append(names, n)
		}
	}
	s.portSet.mu.Unlock()
	for _, name := range names {
		ws, err := s.opts.Manager.Get(ctx, name)
		if errors.Is(err, workspace.ErrNotFound) {
			s.portsEvent(workspace.Event{Name: name})
			continue
		}
		if err != nil {
			continue
		}
		// The configured ports are read again only for a new container.
		s.portSet.mu.Lock()
		st := s.portSet.byName[name]
		known := st != nil && ws.ContainerID != "" && st.configFor == ws.ContainerID
		var configured []ports.Port
		if known {
			configured = st.configured
		}
		s.portSet.mu.Unlock()
		var detected []int
		if known {
			detected, err = s.listening(ctx, ws)
		} else {
			configured, detected, err = s.refreshPorts(ctx, ws)
		}
		if err != nil {
			continue
		}
		s.portSet.mu.Lock()
		st = s.portSet.byName[name]
		if st != nil {
			changed := !slices.Equal(st.detected, detected) || !slices.Equal(st.configured, configured)
			st.configured, st.configFor, st.detected = configured, ws.ContainerID, detected
			if changed {
				s.notify(protocol.MethodPortsChanged, &protocol.PortsChangedParams{Name: name, Ports: st.wire()})
			}
		}
		s.portSet.mu.Unlock()
	}
}

// stopBackground ends the follows and forwards (on shutdown and when the
// connection ends).
func (s *Server) stopBackground() {
	s.unfollowAll()
	s.portSet.mu.Lock()
	s.portSet.closed = true
	s.stopForwards("")
	s.portSet.mu.Unlock()
}
