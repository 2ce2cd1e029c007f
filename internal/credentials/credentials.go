// Package credentials is the host's side of git credential forwarding:
// it answers git's questions from inside a workspace with the user's own
// `git credential fill` (so their helpers, keychains and `gh` apply), only
// for the hosts the workspace's policy allows, and logs every answer
// (the host, never the secret). Nothing it handles is written anywhere.
package credentials

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pitlane/pitlane/internal/agent"
)

// Any, in a policy's Allow or Deny list, stands for every host.
const Any = "*"

const (
	policyFile = "credentials.json"
	logFile    = "credentials.log"
)

// Policy is what a user changed about a workspace's forwarding. By default
// (the zero Policy) a workspace gets credentials for its own remote hosts
// only: the git source's host, or the remotes of a local folder's
// repository as they were at create.
type Policy struct {
	// Allow lists further hosts (host or host:port); Any allows every host.
	Allow []string `json:"allow,omitempty"`
	// Deny lists hosts never answered, its own remotes included; Any turns
	// forwarding off.
	Deny []string `json:"deny,omitempty"`
}

// LoadPolicy reads the policy kept in a workspace's data folder; a missing
// file is the default policy.
func LoadPolicy(dir string) (Policy, error) {
	var p Policy
	b, err := os.ReadFile(filepath.Join(dir, policyFile))
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("reading %s: %w (fix or remove the file to go back to the default)", filepath.Join(dir, policyFile), err)
	}
	return p, nil
}

// SavePolicy writes a workspace's policy (0600, atomically).
func SavePolicy(dir string, p Policy) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, policyFile), append(b, '\n'))
}

// NormalizeHost lowercases a host or host:port and checks that it is one.
func NormalizeHost(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	if h == Any {
		return h, nil
	}
	if h == "" || strings.ContainsAny(h, "/@ \t\n\r\x00") {
		return "", fmt.Errorf("%q is not a host name: give a host such as github.com, or host:port", h)
	}
	return h, nil
}

// Decision is what the policy says about one host.
type Decision struct {
	Allowed bool
	// Reason explains the decision in words a user can act on.
	Reason string
}

// Decide applies the policy to a request for host from workspace name,
// whose own remote hosts are remotes.
func (p Policy) Decide(name, host string, remotes []string) Decision {
	host = strings.ToLower(host)
	if slices.Contains(p.Deny, Any) {
		return Decision{Reason: fmt.Sprintf("credential forwarding is off for %s (turn it on with `pitlane credentials allow %s %s`)", name, name, host)}
	}
	if hostIn(host, p.Deny) {
		return Decision{Reason: fmt.Sprintf("credentials for %s are denied to %s (`pitlane credentials allow %s %s` allows them again)", host, name, name, host)}
	}
	if slices.Contains(p.Allow, Any) {
		return Decision{Allowed: true, Reason: "every host is allowed"}
	}
	if hostIn(host, remotes) {
		return Decision{Allowed: true, Reason: "one of the workspace's own remotes"}
	}
	if hostIn(host, p.Allow) {
		return Decision{Allowed: true, Reason: "allowed by you"}
	}
	own := "it has no remote hosts"
	if len(remotes) > 0 {
		own = "its own remotes are " + strings.Join(remotes, ", ")
	}
	return Decision{Reason: fmt.Sprintf("%s asked for credentials for %s, which is not one of its own remotes (%s); to allow it: `pitlane credentials allow %s %s`", name, host, own, name, host)}
}

// hostIn reports whether host (host or host:port) matches a list entry:
// the same, or the entry names the host without a port.
func hostIn(host string, list []string) bool {
	bare := host
	if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.HasSuffix(host, "]") {
		bare = host[:i]
	}
	for _, e := range list {
		e = strings.ToLower(e)
		if e == host || (!strings.Contains(e, ":") && e == bare) {
			return true
		}
	}
	return false
}

// Outcomes of a request, as logged.
const (
	OutcomeAnswered = "answered" // the user's git gave a credential
	OutcomeNone     = "none"     // allowed, but the user's git had none
	OutcomeRefused  = "refused"  // the policy said no
	OutcomeFailed   = "failed"   // git could not be asked
)

// Entry is one line of a workspace's credential log.
type Entry struct {
	Time     time.Time `json:"time"`
	Protocol string    `json:"protocol,omitempty"`
	Host     string    `json:"host"`
	Outcome  string    `json:"outcome"`
	Reason   string    `json:"reason,omitempty"`
}

// ReadLog returns the last n entries of a workspace's log (all if n <= 0),
// oldest first.
func ReadLog(dir string, n int) ([]Entry, error) {
	f, err := os.Open(filepath.Join(dir, logFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Entry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	if n > 0 && len(out) > n {
		out = out[len(out)-n:]
	}
	return out, sc.Err()
}

// FillFunc asks for a credential; it returns nil when there is none.
type FillFunc func(ctx context.Context, fields map[string]string) (map[string]string, error)

// Server answers the requests of one relay for one workspace.
type Server struct {
	// Workspace is the workspace's name, for messages.
	Workspace string
	// Dir is the workspace's data folder, which holds its policy and log.
	Dir string
	// Remotes are the workspace's own remote hosts.
	Remotes []string
	// Fill asks for the credential; nil means GitFill.
	Fill FillFunc

	mu sync.Mutex // serializes log writes
}

// Answer decides one request, asks the user's git if the policy allows,
// and logs the outcome.
func (s *Server) Answer(ctx context.Context, req agent.CredentialRequest) agent.CredentialAnswer {
	ans := agent.CredentialAnswer{ID: req.ID}
	proto, host := req.Fields["protocol"], strings.ToLower(req.Fields["host"])
	e := Entry{Time: time.Now().UTC().Truncate(time.Second), Protocol: proto, Host: host}
	defer func() { s.log(e) }()
	for _, v := range req.Fields {
		if !agent.ValidField(v) {
			e.Outcome, e.Reason = OutcomeRefused, "the request carried a line break"
			ans.Refused = "the credential request is malformed"
			return ans
		}
	}
	if proto != "https" && proto != "http" {
		e.Outcome, e.Reason = OutcomeRefused, "only http and https credentials are forwarded"
		ans.Refused = fmt.Sprintf("only https credentials are forwarded, not %q ones", proto)
		return ans
	}
	pol, err := LoadPolicy(s.Dir)
	if err != nil {
		e.Outcome, e.Reason = OutcomeFailed, err.Error()
		ans.Refused = "the workspace's credential policy cannot be read on the host: " + err.Error()
		return ans
	}
	d := pol.Decide(s.Workspace, host, s.Remotes)
	if !d.Allowed {
		e.Outcome, e.Reason = OutcomeRefused, d.Reason
		ans.Refused = d.Reason
		return ans
	}
	fill := s.Fill
	if fill == nil {
		fill = GitFill
	}
	got, err := fill(ctx, req.Fields)
	switch {
	case err != nil:
		e.Outcome, e.Reason = OutcomeFailed, err.Error()
		ans.Refused = "the host could not ask git for credentials: " + err.Error()
	case got["password"] == "":
		e.Outcome, e.Reason = OutcomeNone, d.Reason+"; git on the host has no credential for it"
	default:
		e.Outcome, e.Reason = OutcomeAnswered, d.Reason
		ans.Fields = map[string]string{}
		for _, k := range []string{"username", "password", "password_expiry_utc"} {
			if v, ok := got[k]; ok {
				ans.Fields[k] = v
			}
		}
	}
	return ans
}

func (s *Server) log(e Entry) {
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(s.Dir, logFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	f.Write(append(b, '\n'))
	f.Close()
}

// Serve answers a relay's requests, read as JSON lines from in, with
// answers written to out, until in ends or ctx is done. ready, if not nil,
// is called once the relay says it listens.
func (s *Server) Serve(ctx context.Context, in io.Reader, out io.Writer, ready func()) error {
	var wmu sync.Mutex
	var wg sync.WaitGroup
	defer wg.Wait()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if string(line) == agent.RelayReady {
			if ready != nil {
				ready()
			}
			continue
		}
		var req agent.CredentialRequest
		if json.Unmarshal(line, &req) != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ans := s.Answer(ctx, req)
			b, _ := json.Marshal(ans)
			wmu.Lock()
			out.Write(append(b, '\n'))
			wmu.Unlock()
		}()
	}
	return sc.Err()
}

// GitFill runs the user's `git credential fill` for the request's
// protocol, host, path and username, without any terminal prompt. It
// runs outside every repository, so no workspace's git config (which the
// workspace itself could write) can choose the helper that runs.
func GitFill(ctx context.Context, fields map[string]string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var in bytes.Buffer
	for _, k := range []string{"protocol", "host", "path", "username"} {
		if v, ok := fields[k]; ok && v != "" {
			fmt.Fprintf(&in, "%s=%s\n", k, v)
		}
	}
	in.WriteString("\n")
	cmd := exec.CommandContext(ctx, "git", "credential", "fill")
	cmd.Dir = string(filepath.Separator)
	cmd.Env = append(cleanGitEnv(os.Environ()), "GIT_TERMINAL_PROMPT=0")
	cmd.Stdin = &in
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		// git says it has nothing (prompts are off): not an error.
		return nil, nil
	}
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, errors.New("git is not installed on this machine")
		}
		return nil, err
	}
	got := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			got[k] = v
		}
	}
	return got, nil
}

// cleanGitEnv drops variables that would point git at some repository.
func cleanGitEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
