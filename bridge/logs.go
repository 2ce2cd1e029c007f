package bridge

import (
	"context"
	"fmt"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/internal/logtail"
	"github.com/pitlane/pitlane/protocol"
)

// defaultTail is the number of log lines workspace/logs returns by default.
const defaultTail = 1000

// maxBatch bounds the lines of one workspace/logAppended notification.
const maxBatch = 1000

func (s *Server) logs(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.LogsParams
	if err := decodeName(req, &p, &p.Name); err != nil {
		return nil, err
	}
	if p.Tail < 0 {
		return nil, invalidParams(`"tail" must not be negative`)
	}
	if p.Tail == 0 {
		p.Tail = defaultTail
	}
	if _, err := s.opts.Manager.Get(ctx, p.Name); err != nil {
		return nil, withWorkspace(err, p.Name)
	}
	path := s.opts.Manager.LogPath(p.Name)
	t, err := logtail.Tail(path, p.Tail, p.Follow)
	if err != nil {
		return nil, fmt.Errorf("cannot read the log of %s at %s: %w", p.Name, path, err)
	}
	res := protocol.LogsResult{Path: path, Lines: t.Lines, Truncated: t.Truncated}
	if p.Follow {
		id, err := s.follow(p.Name, path, t)
		if err != nil {
			return nil, err
		}
		res.FollowID = id
	}
	return res, nil
}

func (s *Server) unfollowLogs(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	var p protocol.UnfollowLogsParams
	if err := decodeParams(req, &p, true); err != nil {
		return nil, err
	}
	if p.FollowID == "" {
		return nil, invalidParams(`workspace/unfollowLogs: "followId" is required`)
	}
	s.unfollow(p.FollowID)
	return nil, nil
}

// follow starts sending the lines appended to the log at path after its
// end e as workspace/logAppended notifications and returns the follow's
// id.
func (s *Server) follow(name, path string, e logtail.End) (string, error) {
	s.mu.Lock()
	if s.closing || s.shutdown {
		s.mu.Unlock()
		return "", &jsonrpc2.Error{Code: protocol.CodeInvalidRequest, Message: "the bridge is shutting down: start a new one"}
	}
	s.followSeq++
	id := fmt.Sprintf("f%d", s.followSeq)
	ctx, cancel := context.WithCancel(s.ctx)
	if s.follows == nil {
		s.follows = map[string]*followRun{}
	}
	run := &followRun{cancel: cancel, done: make(chan struct{})}
	s.follows[id] = run
	s.handlers.Add(1)
	s.mu.Unlock()
	fl := logtail.NewFollower(path, e)
	go func() {
		defer s.handlers.Done()
		defer close(run.done)
		fl.Run(ctx, s.opts.FollowInterval, func(lines []string) { s.sendLines(ctx, id, name, lines) })
	}()
	s.log.Info("following a log", "workspace", name, "followId", id)
	return id, nil
}

// followRun is one running follow.
type followRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// stop ends the follow and waits until it sends nothing more.
func (r *followRun) stop() {
	r.cancel()
	<-r.done
}

// unfollow ends one follow; an unknown id is ignored. Once it returns,
// no more lines of that follow are sent.
func (s *Server) unfollow(id string) {
	s.mu.Lock()
	run := s.follows[id]
	delete(s.follows, id)
	s.mu.Unlock()
	if run != nil {
		run.stop()
		s.log.Info("stopped following a log", "followId", id)
	}
}

// unfollowAll ends every follow (on shutdown).
func (s *Server) unfollowAll() {
	s.mu.Lock()
	fs := s.follows
	s.follows = nil
	s.mu.Unlock()
	for _, run := range fs {
		run.stop()
	}
}

// sendLines sends the lines of one follow, in batches of at most
// maxBatch lines.
func (s *Server) sendLines(ctx context.Context, id, name string, lines []string) {
	for len(lines) > 0 && ctx.Err() == nil {
		k := min(len(lines), maxBatch)
		s.notify(protocol.MethodLogAppended, &protocol.LogAppendedParams{FollowID: id, Name: name, Lines: lines[:k]})
		lines = lines[k:]
	}
}
