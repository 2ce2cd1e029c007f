package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/bridge"
	"github.com/pitlane/pitlane/protocol"
)

func appendFile(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	must(t, err)
	_, err = f.WriteString(s)
	must(t, err)
	must(t, f.Close())
}

// logLines collects the lines of workspace/logAppended by follow id.
type logLines struct {
	t      testing.TB
	c      *client
	byID   map[string][]string
	others int // notifications of other methods
}

func newLogLines(t testing.TB, c *client) *logLines {
	return &logLines{t: t, c: c, byID: map[string][]string{}}
}

func (l *logLines) take(r *jsonrpc2.Request) {
	var p protocol.LogAppendedParams
	if r.Method != protocol.MethodLogAppended || json.Unmarshal(*r.Params, &p) != nil {
		l.others++
		return
	}
	if p.Name != "demo" {
		l.t.Errorf("logAppended names %q, want demo", p.Name)
	}
	l.byID[p.FollowID] = append(l.byID[p.FollowID], p.Lines...)
}

// next waits until follow id has n lines not yet returned, and returns
// them.
func (l *logLines) next(id string, n int) []string {
	l.t.Helper()
	deadline := time.After(10 * time.Second)
	for len(l.byID[id]) < n {
		select {
		case r := <-l.c.ch:
			l.take(r)
		case <-deadline:
			l.t.Fatalf("follow %s: got %q within 10s, want %d lines", id, l.byID[id], n)
		}
	}
	got := l.byID[id][:n]
	l.byID[id] = l.byID[id][n:]
	return got
}

// none fails if follow id gets lines within d.
func (l *logLines) none(id string, d time.Duration) {
	l.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case r := <-l.c.ch:
			l.take(r)
			if len(l.byID[id]) > 0 {
				l.t.Fatalf("follow %s: unexpected lines %q", id, l.byID[id])
			}
		case <-deadline:
			return
		}
	}
}

func TestLogsFollow(t *testing.T) {
	source, _ := writeSources(t)
	fm := newFakeManager(t.TempDir())
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: fm, FollowInterval: 20 * time.Millisecond}))
	initialize(t, c)
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: "demo"}, nil))
	path := fm.LogPath("demo")
	ll := newLogLines(t, c)
	// A line being written when the follow starts is sent whole, later.
	appendFile(t, path, "half a ")

	var res protocol.LogsResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceLogs, protocol.LogsParams{Name: "demo", Tail: 2, Follow: true}, &res))
	if res.FollowID == "" {
		t.Fatal("no followId")
	}
	if want := []string{"Step 2/2 : RUN true", "postCreateCommand: done"}; !slices.Equal(res.Lines, want) {
		t.Errorf("lines %q, want %q", res.Lines, want)
	}
	appendFile(t, path, "line\nhook: one\n")
	if got, want := ll.next(res.FollowID, 2), []string{"half a line", "hook: one"}; !slices.Equal(got, want) {
		t.Errorf("appended %q, want %q", got, want)
	}
	appendFile(t, path, "hook: two\r\n")
	if got, want := ll.next(res.FollowID, 1), []string{"hook: two"}; !slices.Equal(got, want) {
		t.Errorf("appended %q, want %q", got, want)
	}

	// A second follow of the same log gets its own id and lines.
	var res2 protocol.LogsResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceLogs, protocol.LogsParams{Name: "demo", Tail: 1, Follow: true}, &res2))
	if res2.FollowID == res.FollowID {
		t.Errorf("two follows share id %q", res.FollowID)
	}

	// A log started afresh (removed, written again) is read from its start.
	must(t, os.Remove(path))
	appendFile(t, path, "rebuild: step 1\n")
	for _, id := range []string{res.FollowID, res2.FollowID} {
		if got, want := ll.next(id, 1), []string{"rebuild: step 1"}; !slices.Equal(got, want) {
			t.Errorf("%s after the log was replaced: %q, want %q", id, got, want)
		}
	}

	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceUnfollowLogs, protocol.UnfollowLogsParams{FollowID: res.FollowID}, nil))
	// Unfollowing twice is fine.
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceUnfollowLogs, protocol.UnfollowLogsParams{FollowID: res.FollowID}, nil))
	appendFile(t, path, "after unfollow\n")
	if got := ll.next(res2.FollowID, 1); !slices.Equal(got, []string{"after unfollow"}) {
		t.Errorf("the other follow got %q", got)
	}
	ll.none(res.FollowID, 200*time.Millisecond)

	// Shutdown ends the remaining follow.
	must(t, c.conn.Call(context.Background(), protocol.MethodShutdown, nil, nil))
	appendFile(t, path, "after shutdown\n")
	ll.none(res2.FollowID, 200*time.Millisecond)
}

func TestLogsFollowBeforeTheLogExists(t *testing.T) {
	source, _ := writeSources(t)
	fm := newFakeManager(t.TempDir())
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: fm, FollowInterval: 20 * time.Millisecond}))
	initialize(t, c)
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceCreate, protocol.CreateParams{Source: source, Name: "demo"}, nil))
	path := fm.LogPath("demo")
	must(t, os.Remove(path))
	var res protocol.LogsResult
	must(t, c.conn.Call(context.Background(), protocol.MethodWorkspaceLogs, protocol.LogsParams{Name: "demo", Follow: true}, &res))
	if len(res.Lines) != 0 || res.Lines == nil {
		t.Errorf("lines of a missing log: %#v, want []", res.Lines)
	}
	appendFile(t, path, "first\n")
	if got := newLogLines(t, c).next(res.FollowID, 1); !slices.Equal(got, []string{"first"}) {
		t.Errorf("got %q", got)
	}
}

func TestUnfollowLogsNeedsID(t *testing.T) {
	c := newClient(t, inProcessConn(t, bridge.Options{Manager: newFakeManager(t.TempDir())}))
	initialize(t, c)
	err := c.conn.Call(context.Background(), protocol.MethodWorkspaceUnfollowLogs, map[string]any{}, nil)
	var re *jsonrpc2.Error
	if !errors.As(err, &re) || re.Code != protocol.CodeInvalidParams {
		t.Errorf("got %v, want invalid params", err)
	}
}
