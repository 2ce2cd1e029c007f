// Package ports lists a workspace's ports (those its configuration names
// and those found listening inside its container) and forwards them to
// 127.0.0.1 on this machine. `pitlane forward` and the bridge share it.
package ports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"syscall"

	"github.com/pitlane/pitlane/internal/devcontainer"
)

// Source says why a port is listed.
type Source string

// Port sources.
const (
	SourceForwardPorts Source = "forwardPorts"
	SourceAppPort      Source = "appPort"
	SourceDetected     Source = "detected"
)

// Port is one port of a workspace.
type Port struct {
	Number int
	// Label is the portsAttributes label, if any.
	Label  string
	Source Source
}

// FromConfig returns the ports a configuration names: forwardPorts, then
// appPort, each once, with their portsAttributes labels.
func FromConfig(cfg *devcontainer.Config) []Port {
	if cfg == nil {
		return nil
	}
	var out []Port
	seen := map[int]bool{}
	add := func(n int, src Source) {
		if n < 1 || n > 65535 || seen[n] {
			return
		}
		seen[n] = true
		out = append(out, Port{Number: n, Label: label(cfg, n), Source: src})
	}
	for _, n := range cfg.Ports() {
		add(n, SourceForwardPorts)
	}
	for _, n := range cfg.AllPorts() {
		add(n, SourceAppPort)
	}
	return out
}

// label is the "label" of portsAttributes[n].
func label(cfg *devcontainer.Config, n int) string {
	raw, ok := cfg.PortsAttributes[strconv.Itoa(n)]
	if !ok {
		return ""
	}
	var attrs struct {
		Label string `json:"label"`
	}
	if json.Unmarshal(raw, &attrs) != nil {
		return ""
	}
	return attrs.Label
}

// Merge lists configured ports and detected ones once each, sorted by
// number; a configured port that is also detected keeps its configuration
// source and label.
func Merge(configured []Port, detected []int) []Port {
	out := slices.Clone(configured)
	for _, n := range detected {
		if !slices.ContainsFunc(out, func(p Port) bool { return p.Number == n }) {
			out = append(out, Port{Number: n, Source: SourceDetected})
		}
	}
	slices.SortStableFunc(out, func(a, b Port) int { return a.Number - b.Number })
	return slices.CompactFunc(out, func(a, b Port) bool { return a.Number == b.Number })
}

// Listen listens on 127.0.0.1:port. When that port is busy and anyPort is
// set, it listens on any free port instead; moved then reports it.
func Listen(port int, anyPort bool) (l net.Listener, moved bool, err error) {
	l, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err == nil {
		return l, false, nil
	}
	if !anyPort || !errors.Is(err, syscall.EADDRINUSE) {
		return nil, false, fmt.Errorf("cannot listen on 127.0.0.1:%d: %w", port, err)
	}
	l, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, false, fmt.Errorf("cannot listen on 127.0.0.1: %w", err)
	}
	return l, true, nil
}

// LocalPort is the port a listener from Listen listens on.
func LocalPort(l net.Listener) int {
	if a, ok := l.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// Dialer connects to the forwarded port inside the workspace.
type Dialer func(ctx context.Context) (net.Conn, error)

// Forward relays the connections accepted on a local listener to a port
// inside a workspace.
type Forward struct {
	l    net.Listener
	dial Dialer
	// OnError, if set, hears why one connection could not be relayed.
	onError func(error)

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	done   chan struct{}
}

// NewForward starts relaying the connections accepted on l, each to a new
// connection from dial, until Close. onError may be nil.
func NewForward(l net.Listener, dial Dialer, onError func(error)) *Forward {
	ctx, cancel := context.WithCancel(context.Background())
	f := &Forward{l: l, dial: dial, onError: onError, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	go f.accept()
	return f
}

// LocalPort is the port the forward listens on.
func (f *Forward) LocalPort() int { return LocalPort(f.l) }

// Close stops listening and closes the connections being relayed.
func (f *Forward) Close() {
	f.cancel()
	f.l.Close()
	<-f.done
	f.mu.Lock()
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

func (f *Forward) accept() {
	defer close(f.done)
	for {
		c, err := f.l.Accept()
		if err != nil {
			return
		}
		if !f.track(c) {
			c.Close()
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer f.untrack(c)
			r, err := f.dial(f.ctx)
			if err != nil {
				c.Close()
				if f.onError != nil && f.ctx.Err() == nil {
					f.onError(err)
				}
				return
			}
			if !f.track(r) {
				r.Close()
				c.Close()
				return
			}
			defer f.untrack(r)
			Relay(c, r)
		}()
	}
}

func (f *Forward) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx.Err() != nil {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *Forward) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
}

// Relay copies between a and b in both directions until both directions
// end, passing on half-closes, then closes both.
func Relay(a, b net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { io.Copy(b, a); closeWrite(b); wg.Done() }()
	go func() { io.Copy(a, b); closeWrite(a); wg.Done() }()
	wg.Wait()
	a.Close()
	b.Close()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}
