package agent

// Git credentials are forwarded, never copied: git in a workspace runs
// `pitlane agent git-credential get` as its credential helper; the helper
// asks a relay on a Unix socket, and the relay passes the question on to
// the host over its own standard input and output, which a host-side
// Pitlane process (ssh --stdio, exec, a create running hooks) holds
// through a Docker exec. The host answers with the user's own
// `git credential fill`, or refuses. Nothing is written to disk here: the
// answer goes from the relay's pipe to git's pipe.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// CredentialsEnv names the relay socket of the process's own connection.
// The helper tries it first, then any other live relay of the workspace
// (an editor's server started by an earlier connection keeps an old
// value).
const CredentialsEnv = "PITLANE_CREDENTIALS"

// RelayRoot holds one private folder per relay, each with one socket.
const RelayRoot = "/tmp/pitlane-credentials"

// relayRoot is RelayRoot; tests point it elsewhere.
var relayRoot = RelayRoot

// RelaySocket is the socket path of the relay with the given nonce.
func RelaySocket(nonce string) string { return RelayRoot + "/" + nonce + "/socket" }

// RelayReady is what the relay writes on stdout once it listens.
const RelayReady = "PITLANE-RELAY/1 READY"

// StablePath is a link to the newest installed agent. Configuration that
// outlives one agent version (git's credential.helper) names it.
const StablePath = InstallDir + "/pitlane"

// GitCredentialHelper is the credential.helper value that makes git ask
// the host through a relay.
const GitCredentialHelper = StablePath + " agent git-credential"

// CredentialRequest is one question from git, relayed to the host. Fields
// holds only what identifies the credential: protocol, host, path and
// username.
type CredentialRequest struct {
	ID     uint64            `json:"id"`
	Fields map[string]string `json:"fields"`
}

// CredentialAnswer is the host's answer. Empty Fields means the host has
// no credential to give; Refused, when set, says why the host would not
// ask, for the user.
type CredentialAnswer struct {
	ID      uint64            `json:"id"`
	Fields  map[string]string `json:"fields,omitempty"`
	Refused string            `json:"refused,omitempty"`
}

// requestFields are the attributes of git's credential protocol that are
// passed to the host; everything else git sends stays here.
var requestFields = []string{"protocol", "host", "path", "username"}

// answerFields are the attributes of the host's answer that are passed to
// git.
var answerFields = []string{"username", "password", "password_expiry_utc"}

// ValidField reports whether a credential attribute value is safe to put
// on a line of git's credential protocol.
func ValidField(v string) bool { return !strings.ContainsAny(v, "\n\r\x00") }

// Relay serves credential questions on a Unix socket at sock and passes
// each to the host as a line of JSON on out, reading the answers from in.
// It returns when in ends (the host let go), removing the socket.
func Relay(sock string, in io.Reader, out io.Writer) error {
	dir := filepath.Dir(sock)
	if root := filepath.Dir(dir); root == relayRoot {
		if err := os.MkdirAll(root, 0o755); err == nil {
			// Every user of the container may keep relays here; each in
			// its own private folder.
			os.Chmod(root, 0o777|os.ModeSticky)
		}
		cleanStaleRelays()
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", sock, err)
	}
	defer l.Close()

	r := &relay{out: out, waiting: map[uint64]chan CredentialAnswer{}}
	if _, err := fmt.Fprintln(out, RelayReady); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- r.readAnswers(in) }()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	err = <-done
	r.closeAll()
	return err
}

type relay struct {
	out     io.Writer
	mu      sync.Mutex
	next    uint64
	waiting map[uint64]chan CredentialAnswer
	closed  bool
}

// serve answers one helper: one request line in, one answer line out.
func (r *relay) serve(c net.Conn) {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(io.LimitReader(c, 64<<10)).ReadBytes('\n')
	if err != nil {
		return
	}
	c.SetReadDeadline(time.Time{})
	var req CredentialRequest
	if json.Unmarshal(line, &req) != nil {
		return
	}
	ch := make(chan CredentialAnswer, 1)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.next++
	req.ID = r.next
	r.waiting[req.ID] = ch
	b, _ := json.Marshal(req)
	_, werr := r.out.Write(append(b, '\n'))
	r.mu.Unlock()
	if werr != nil {
		return
	}
	ans, ok := <-ch
	if !ok {
		ans = CredentialAnswer{Refused: "the connection to the host ended before it answered"}
	}
	b, _ = json.Marshal(ans)
	c.Write(append(b, '\n'))
}

func (r *relay) readAnswers(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var a CredentialAnswer
		if json.Unmarshal(sc.Bytes(), &a) != nil {
			continue
		}
		r.mu.Lock()
		ch := r.waiting[a.ID]
		delete(r.waiting, a.ID)
		r.mu.Unlock()
		if ch != nil {
			ch <- a
			close(ch)
		}
	}
	return sc.Err()
}

func (r *relay) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for id, ch := range r.waiting {
		close(ch)
		delete(r.waiting, id)
	}
}

// cleanStaleRelays removes the folders of relays that died without
// cleaning up (a container restart, a killed exec): their sockets no
// longer answer. Folders of other users cannot be removed and stay.
func cleanStaleRelays() {
	for _, s := range relaySockets() {
		c, err := net.DialTimeout("unix", s, time.Second)
		if err == nil {
			c.Close()
			continue
		}
		if errors.Is(err, os.ErrPermission) {
			continue
		}
		os.RemoveAll(filepath.Dir(s))
	}
}

// relaySockets lists the relay sockets under RelayRoot, newest first.
func relaySockets() []string {
	paths, _ := filepath.Glob(relayRoot + "/*/socket")
	type entry struct {
		path string
		mod  time.Time
	}
	var es []entry
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		es = append(es, entry{p, st.ModTime()})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].mod.After(es[j].mod) })
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.path
	}
	return out
}

// GitCredential is git's credential helper inside a workspace:
// `pitlane agent git-credential get|store|erase`. Only get asks the host;
// store and erase do nothing, so a credential never lands in the
// workspace and a failed push there cannot erase it on the host. It
// always exits 0: when no answer comes, git goes on to its other helpers.
func GitCredential(ctx context.Context, action string, stdin io.Reader, stdout, stderr io.Writer) int {
	attrs := readCredentialAttrs(stdin)
	if action != "get" {
		return 0
	}
	req := CredentialRequest{Fields: map[string]string{}}
	for _, k := range requestFields {
		if v, ok := attrs[k]; ok {
			req.Fields[k] = v
		}
	}
	if req.Fields["host"] == "" {
		return 0
	}
	ans, err := askRelays(ctx, req)
	if err != nil {
		fmt.Fprintf(stderr, "pitlane: no credentials from the host for %s: %v\n", req.Fields["host"], err)
		return 0
	}
	if ans.Refused != "" {
		fmt.Fprintf(stderr, "pitlane: %s\n", ans.Refused)
		return 0
	}
	for _, k := range answerFields {
		if v, ok := ans.Fields[k]; ok && ValidField(v) {
			fmt.Fprintf(stdout, "%s=%s\n", k, v)
		}
	}
	return 0
}

// readCredentialAttrs reads git's key=value lines up to a blank line or
// the end of input.
func readCredentialAttrs(r io.Reader) map[string]string {
	attrs := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			attrs[k] = v
		}
	}
	return attrs
}

// errNoRelay says no host-side process is connected.
var errNoRelay = errors.New("no Pitlane connection to this workspace is open (credentials reach it through `pitlane exec`, `ssh NAME.pitlane`, an IDE, or setup hooks)")

// askRelays asks the relay named by $PITLANE_CREDENTIALS, else any other
// live relay, else waits a few seconds for its own relay, which starts
// beside the command, to listen.
func askRelays(ctx context.Context, req CredentialRequest) (CredentialAnswer, error) {
	own := os.Getenv(CredentialsEnv)
	if own != "" {
		if a, err := askRelay(ctx, own, req); err == nil {
			return a, nil
		}
	}
	for _, s := range relaySockets() {
		if s == own {
			continue
		}
		if a, err := askRelay(ctx, s, req); err == nil {
			return a, nil
		}
	}
	if own == "" {
		return CredentialAnswer{}, errNoRelay
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return CredentialAnswer{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if _, err := os.Stat(own); err != nil {
			continue
		}
		if a, err := askRelay(ctx, own, req); err == nil {
			return a, nil
		}
	}
	return CredentialAnswer{}, errNoRelay
}

func askRelay(ctx context.Context, sock string, req CredentialRequest) (CredentialAnswer, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return CredentialAnswer{}, err
	}
	defer c.Close()
	// The host may ask the user (a keychain prompt): wait long enough.
	c.SetDeadline(time.Now().Add(3 * time.Minute))
	b, _ := json.Marshal(req)
	if _, err := c.Write(append(b, '\n')); err != nil {
		return CredentialAnswer{}, err
	}
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		return CredentialAnswer{}, err
	}
	var a CredentialAnswer
	if err := json.Unmarshal(line, &a); err != nil {
		return CredentialAnswer{}, err
	}
	return a, nil
}
