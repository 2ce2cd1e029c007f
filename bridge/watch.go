package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/protocol"
)

// maxWatchRetry bounds the delay between attempts to follow engine events.
const maxWatchRetry = 30 * time.Second

// startWatch follows the engine's events for the rest of the connection
// and turns each into a workspace/didChange notification. When the engine
// cannot be followed it tells the user once and keeps retrying.
func (s *Server) startWatch() {
	s.mu.Lock()
	if s.watching || s.closing {
		s.mu.Unlock()
		return
	}
	s.watching = true
	s.handlers.Add(1)
	s.mu.Unlock()
	// Subscribe before initialize answers: a change made right after the
	// client's first workspace/list must not fall between the two.
	events, err := s.opts.Manager.Watch(s.ctx)
	go func() {
		defer s.handlers.Done()
		s.watch(s.ctx, events, err)
	}()
}

// watch forwards events until ctx ends, subscribing again (with growing
// delays) whenever the stream fails. events and err are the result of the
// first subscription.
func (s *Server) watch(ctx context.Context, events <-chan workspace.Event, err error) {
	delay := s.opts.WatchRetry
	warned := false
	for ctx.Err() == nil {
		if err == nil {
			if warned {
				s.notify(protocol.MethodLogMessage, &protocol.LogMessageParams{Type: 3, Message: "following Docker events again"})
				warned = false
			}
			delay = s.opts.WatchRetry
			for ev := range events {
				s.portsEvent(ev)
				s.notify(protocol.MethodDidChange, s.didChange(ev))
			}
			if ctx.Err() != nil {
				return
			}
			err = fmt.Errorf("the event stream ended")
		}
		s.log.Warn("cannot follow engine events", "error", err, "retry", delay)
		s.notify(protocol.MethodLogMessage, &protocol.LogMessageParams{Type: 2,
			Message: fmt.Sprintf("following Docker events failed, retrying in %s: %v", delay, err)})
		if !warned {
			s.notify(protocol.MethodShowMessage, &protocol.ShowMessageParams{Type: 2,
				Message: fmt.Sprintf("Pitlane cannot follow workspace changes (%v). The list refreshes again once the Docker engine answers.", err)})
			warned = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, maxWatchRetry)
		events, err = s.opts.Manager.Watch(ctx)
	}
}

func (s *Server) didChange(ev workspace.Event) *protocol.DidChangeParams {
	p := &protocol.DidChangeParams{Name: ev.Name, Kind: protocol.ChangeKind(ev.Kind)}
	if ev.Workspace == nil {
		p.Removed = true
	} else {
		ws := s.toWire(ev.Workspace)
		p.Workspace = &ws
	}
	return p
}
