package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"
)

// execScript runs a command as another user, in a folder, with more
// environment, since a pod's exec takes only the command. Its arguments:
// USER DIR N, then N KEY=VALUE entries, then the command. It switches user
// with setpriv or runuser (util-linux), which the container runs as root
// to use.
const execScript = `u=$1 d=$2 n=$3; shift 3
while [ "$n" -gt 0 ]; do export "$1"; shift; n=$((n - 1)); done
if [ -n "$d" ]; then cd "$d" || exit 126; fi
[ -n "$u" ] || exec "$@"
name=${u%%:*} group=
case $u in *:*) group=${u#*:} ;; esac
known=
case $name in
  *[!0-9]*) uid=$(id -u "$name" 2>/dev/null) || { echo "pitlane: there is no user $name in the workspace" >&2; exit 126; }; known=1 ;;
  *) uid=$name; id "$name" >/dev/null 2>&1 && known=1 ;;
esac
case $group in
  "") if [ -n "$known" ]; then gid=$(id -g "$name"); else gid=$uid; fi ;;
  *[!0-9]*) gid=$(getent group "$group" | cut -d: -f3); [ -n "$gid" ] || { echo "pitlane: there is no group $group in the workspace" >&2; exit 126; } ;;
  *) gid=$group ;;
esac
[ "$uid" = "$(id -u)" ] && [ -z "$group" ] && exec "$@"
if command -v setpriv >/dev/null 2>&1; then
  if [ -n "$known" ]; then exec setpriv --reuid="$uid" --regid="$gid" --init-groups "$@"; fi
  exec setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
fi
if [ -n "$known" ] && [ -z "$group" ] && command -v runuser >/dev/null 2>&1; then exec runuser -u "$name" -- "$@"; fi
echo "pitlane: cannot run as $u: the image has neither setpriv nor runuser" >&2
exit 126
`

// command is the command line exec sends for spec.
func command(spec ExecSpec) []string {
	if spec.User == "" && spec.WorkingDir == "" && len(spec.Env) == 0 {
		return spec.Cmd
	}
	args := []string{"/bin/sh", "-c", execScript, "pitlane-exec", spec.User, spec.WorkingDir, strconv.Itoa(len(spec.Env))}
	args = append(args, spec.Env...)
	return append(args, spec.Cmd...)
}

// Exec runs a process in a running workspace through the API server's
// exec stream (WebSocket, or SPDY with older servers) and returns its exit
// code once it ends and its output has been copied. Cancelling ctx ends
// the stream.
func (c *Client) Exec(ctx context.Context, name string, spec ExecSpec) (int, error) {
	if len(spec.Cmd) == 0 {
		return -1, errors.New("exec: no command")
	}
	req := c.cs.CoreV1().RESTClient().Post().Resource("pods").Name(name).Namespace(c.namespace).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container,
			Command:   command(spec),
			Stdin:     spec.Stdin != nil,
			Stdout:    true,
			Stderr:    !spec.Tty,
			TTY:       spec.Tty,
		}, scheme.ParameterCodec)
	ex, err := c.executor(req.URL().String())
	if err != nil {
		return -1, err
	}
	stdout, stderr := spec.Stdout, spec.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	// The two streams are copied by two goroutines: one lock keeps a
	// writer given for both (a bytes.Buffer, say) whole, as Docker's one
	// demultiplexing goroutine does.
	var mu sync.Mutex
	stdout, stderr = syncWriter{&mu, stdout}, syncWriter{&mu, stderr}
	opts := remotecommand.StreamOptions{Stdin: spec.Stdin, Stdout: stdout, Tty: spec.Tty}
	if !spec.Tty {
		opts.Stderr = stderr
	}
	if spec.Tty && spec.Resize != nil {
		q := newSizeQueue()
		defer q.close()
		opts.TerminalSizeQueue = q
		spec.Resize(q.push)
	}
	err = ex.StreamWithContext(ctx, opts)
	var ee utilexec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitStatus(), nil
	case ctx.Err() != nil:
		return -1, ctx.Err()
	}
	if code, ok := startFailure(err); ok {
		return code, nil
	}
	return -1, c.execErr(err, name, spec.Cmd)
}

// startFailure turns the runtime's refusal to start a command into the
// exit status a shell (and Docker) gives: 127 for a command that does not
// exist, 126 for one that cannot run. Callers branch on them (the SSH
// agent is copied in when it is missing).
func startFailure(err error) (int, bool) {
	msg := err.Error()
	if !strings.Contains(msg, "exec failed") && !strings.Contains(msg, "failed to exec") {
		return 0, false
	}
	switch {
	case strings.Contains(msg, "no such file or directory") || strings.Contains(msg, "executable file not found"):
		return 127, true
	case strings.Contains(msg, "permission denied") || strings.Contains(msg, "exec format error"):
		return 126, true
	}
	return 0, false
}

// executor streams over WebSocket and falls back to SPDY when the server
// does not upgrade to it, as kubectl does.
func (c *Client) executor(url string) (remotecommand.Executor, error) {
	u, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	spdy, err := remotecommand.NewSPDYExecutor(c.rest, http.MethodPost, u)
	if err != nil || c.spdyOnly {
		return spdy, err
	}
	ws, err := remotecommand.NewWebSocketExecutor(c.rest, "GET", url)
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
}

func (c *Client) execErr(err error, name string, cmd []string) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "forbidden") || strings.Contains(msg, "Forbidden"):
		return fmt.Errorf("%w: you may not create pods/exec in namespace %s (%v); ask the cluster's administrator for that right", ErrForbidden, c.namespace, err)
	case strings.Contains(msg, "not found") || strings.Contains(msg, "NotFound"):
		return fmt.Errorf("%w: workspace %s has no pod: %v", ErrNotFound, name, err)
	case strings.Contains(msg, "container not found") || strings.Contains(msg, "is not running") || strings.Contains(msg, "does not have a host assigned"):
		return fmt.Errorf("workspace %s is not running: %v", name, err)
	case isNetErr(err):
		return fmt.Errorf("%w at %s: running %q: %v", ErrUnreachable, c.Host(), cmd, err)
	}
	return fmt.Errorf("running %q in workspace %s: %w", cmd, name, err)
}

// syncWriter serialises writes through a lock it may share.
type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// sizeQueue hands terminal sizes to the exec stream.
type sizeQueue struct {
	ch   chan remotecommand.TerminalSize
	done chan struct{}
	once sync.Once
}

func newSizeQueue() *sizeQueue {
	return &sizeQueue{ch: make(chan remotecommand.TerminalSize, 4), done: make(chan struct{})}
}

func (q *sizeQueue) push(w, h uint) error {
	select {
	case q.ch <- remotecommand.TerminalSize{Width: uint16(w), Height: uint16(h)}:
		return nil
	case <-q.done:
		return errors.New("the terminal session has ended")
	}
}

func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	select {
	case s := <-q.ch:
		return &s
	case <-q.done:
		return nil
	}
}

func (q *sizeQueue) close() { q.once.Do(func() { close(q.done) }) }

// CopyFile writes data to dst in a running workspace, with mode and owner
// uid:gid, by streaming it to a shell in the container (so the image needs
// sh, cat, chmod and chown). The parent folder must exist.
func (c *Client) CopyFile(ctx context.Context, name, dst string, data []byte, mode os.FileMode, uid, gid int) error {
	script := `set -e; t="$1.pitlane-$$"; cat >"$t"; chmod "$2" "$t"; if [ "$(id -u)" = 0 ]; then chown "$3" "$t"; fi; mv -f "$t" "$1"`
	var out bytes.Buffer
	code, err := c.Exec(ctx, name, ExecSpec{
		Cmd:    []string{"/bin/sh", "-c", script, "pitlane-copy", dst, strconv.FormatUint(uint64(mode.Perm()), 8), fmt.Sprintf("%d:%d", uid, gid)},
		Stdin:  bytes.NewReader(data),
		Stdout: &out, Stderr: &out,
	})
	if err != nil {
		return fmt.Errorf("copying %s into workspace %s: %w", dst, name, err)
	}
	if code != 0 {
		return fmt.Errorf("copying %s into workspace %s failed (exit status %d): %s", dst, name, code, strings.TrimSpace(out.String()))
	}
	return nil
}

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }
