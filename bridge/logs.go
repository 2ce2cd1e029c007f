package bridge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/protocol"
)

// defaultTail is the number of log lines workspace/logs returns by default.
const defaultTail = 1000

// maxLogRead bounds how much of a log file workspace/logs reads, and how
// much a follow reads in one go.
const maxLogRead = 4 << 20

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
	t, err := tailFile(path, p.Tail, p.Follow)
	if err != nil {
		return nil, fmt.Errorf("cannot read the log of %s at %s: %w", p.Name, path, err)
	}
	res := protocol.LogsResult{Path: path, Lines: t.lines, Truncated: t.truncated}
	if p.Follow {
		id, err := s.follow(p.Name, path, t.file, t.end)
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

// tail is the end of a log file.
type tail struct {
	lines     []string
	truncated bool
	// file identifies the file read (nil when there was none) and end is
	// the offset after the last line returned, where a follow goes on.
	file os.FileInfo
	end  int64
}

// tailFile returns the last n lines of the file at path; a missing file
// has no lines. With complete set, a last line without its newline (still
// being written) is left for a follow to send.
func tailFile(path string, n int, complete bool) (tail, error) {
	t := tail{lines: []string{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return t, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return t, err
	}
	t.file = st
	var start int64
	var r io.Reader = f
	if st.Size() > maxLogRead {
		start = st.Size() - maxLogRead
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			return t, err
		}
		t.truncated = true
		br := bufio.NewReader(f)
		// Drop the partial first line.
		skipped, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return t, err
		}
		start += int64(len(skipped))
		r = br
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return t, err
	}
	if complete {
		data = data[:bytes.LastIndexByte(data, '\n')+1]
	}
	t.end = start + int64(len(data))
	data = bytes.TrimSuffix(data, []byte("\n"))
	if len(data) == 0 {
		return t, nil
	}
	all := strings.Split(string(data), "\n")
	if len(all) > n {
		t.truncated = true
		all = all[len(all)-n:]
	}
	for _, l := range all {
		t.lines = append(t.lines, strings.TrimSuffix(l, "\r"))
	}
	return t, nil
}

// follow starts sending the lines appended to the log at path after
// offset as workspace/logAppended notifications and returns the follow's
// id. file is the file the offset belongs to (nil: none yet).
func (s *Server) follow(name, path string, file os.FileInfo, offset int64) (string, error) {
	s.mu.Lock()
	if s.closing || s.shutdown {
		s.mu.Unlock()
		return "", &jsonrpc2.Error{Code: protocol.CodeInvalidRequest, Message: "the bridge is shutting down: start a new one"}
	}
	s.followSeq++
	id := fmt.Sprintf("f%d", s.followSeq)
	ctx, cancel := context.WithCancel(s.ctx)
	if s.follows == nil {
		s.follows = map[string]context.CancelFunc{}
	}
	s.follows[id] = cancel
	s.handlers.Add(1)
	s.mu.Unlock()
	fl := &logFollower{s: s, id: id, name: name, path: path, file: file, offset: offset}
	go func() {
		defer s.handlers.Done()
		fl.run(ctx)
	}()
	s.log.Info("following a log", "workspace", name, "followId", id)
	return id, nil
}

// unfollow ends one follow; an unknown id is ignored.
func (s *Server) unfollow(id string) {
	s.mu.Lock()
	cancel := s.follows[id]
	delete(s.follows, id)
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		s.log.Info("stopped following a log", "followId", id)
	}
}

// unfollowAll ends every follow (on shutdown).
func (s *Server) unfollowAll() {
	s.mu.Lock()
	fs := s.follows
	s.follows = nil
	s.mu.Unlock()
	for _, cancel := range fs {
		cancel()
	}
}

// logFollower polls one log file for appended lines.
type logFollower struct {
	s          *Server
	id, name   string
	path       string
	file       os.FileInfo
	offset     int64
	f          *os.File
	buf        []byte // the start of a line whose newline has not come yet
	notifiedAt time.Time
}

func (fl *logFollower) run(ctx context.Context) {
	defer func() {
		if fl.f != nil {
			fl.f.Close()
		}
	}()
	tick := time.NewTicker(fl.s.opts.FollowInterval)
	defer tick.Stop()
	for {
		fl.poll()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// poll reads what was appended since the last poll and sends the
// complete lines. A file that was replaced (removed and created again) or
// cut short is read again from its start.
func (fl *logFollower) poll() {
	st, err := os.Stat(fl.path)
	if err != nil {
		return // not there (yet): a create writes it soon
	}
	if fl.f == nil || fl.file == nil || !os.SameFile(fl.file, st) || st.Size() < fl.offset {
		if fl.f != nil {
			fl.f.Close()
			fl.f = nil
		}
		if fl.file != nil && (!os.SameFile(fl.file, st) || st.Size() < fl.offset) {
			fl.offset, fl.buf = 0, nil
		}
		f, err := os.Open(fl.path)
		if err != nil {
			return
		}
		fst, err := f.Stat()
		if err != nil {
			f.Close()
			return
		}
		fl.f, fl.file = f, fst
	}
	if st.Size() == fl.offset {
		return
	}
	chunk := make([]byte, min(st.Size()-fl.offset, maxLogRead))
	n, err := fl.f.ReadAt(chunk, fl.offset)
	if n == 0 && err != nil {
		return
	}
	fl.offset += int64(n)
	data := append(fl.buf, chunk[:n]...)
	last := bytes.LastIndexByte(data, '\n')
	if last < 0 {
		fl.buf = data
		return
	}
	fl.buf = append([]byte(nil), data[last+1:]...)
	lines := strings.Split(string(data[:last]), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	for len(lines) > 0 {
		k := min(len(lines), maxBatch)
		fl.s.notify(protocol.MethodLogAppended, &protocol.LogAppendedParams{FollowID: fl.id, Name: fl.name, Lines: lines[:k]})
		lines = lines[k:]
	}
}
