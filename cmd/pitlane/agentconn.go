package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/sync/singleflight"

	"github.com/pitlane/pitlane/internal/agent"
	"github.com/pitlane/pitlane/internal/sshconfig"
	"github.com/pitlane/pitlane/internal/workspace"
)

// workspaceName maps an SSH host name (NAME.pitlane, or a bare NAME) to a
// workspace name.
func workspaceName(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return strings.TrimSuffix(host, "."+workspace.SSHDomain)
}

// stderrProgress shows the steps of starting a workspace on stderr, which
// an SSH client passes on from its ProxyCommand.
type stderrProgress struct{ w io.Writer }

func (p stderrProgress) Step(title string) {
	if title != "" {
		fmt.Fprintf(p.w, "pitlane: %s\n", title)
	}
}
func (p stderrProgress) Output(string) {}

// connectAgent serves the SSH stream on in and out with a fresh agent in
// the workspace named by host: it starts the workspace if it is stopped
// and copies the agent in if it is missing or from another version.
func connectAgent(ctx context.Context, a *app, host string, in io.Reader, out, errw io.Writer) error {
	name := workspaceName(host)
	if err := workspace.ValidateName(name); err != nil {
		return fmt.Errorf("%q is not a Pitlane host: workspaces are reached as NAME.%s", host, workspace.SSHDomain)
	}
	mgr, ws, err := a.workspace(ctx, name)
	if err != nil {
		return err
	}
	// A stopped workspace is started, an interrupted one finished; never
	// with initializeCommand: an SSH connection runs nothing on this
	// machine. Several connections at once take turns in Start.
	if ws.State == workspace.StateStopped || ws.State == workspace.StateInterrupted {
		if ws, err = mgr.Start(ctx, name, workspace.StartOptions{Progress: stderrProgress{errw}, NoHostCommands: true}); err != nil && ws == nil {
			return fmt.Errorf("starting workspace %s: %w", name, err)
		}
	}
	cfgDir, err := sshconfig.DefaultConfigDir()
	if err != nil {
		return err
	}
	keys, err := sshconfig.EnsureKeys(cfgDir)
	if err != nil {
		return err
	}
	bin, err := agentBinary()
	if err != nil {
		return err
	}
	sum, err := agentSum(bin)
	if err != nil {
		return err
	}
	hello := agent.Hello{HostKey: keys.HostKey, AuthorizedKey: keys.AuthorizedKey}

	for attempt := 0; ; attempt++ {
		r, err := runAgent(ctx, mgr, ws, sum, hello, in, out, errw)
		if err != nil || r.ready {
			if err == nil && r.code != 0 {
				return exitError{r.code}
			}
			return err
		}
		if attempt > 0 || (r.code != 126 && r.code != 127) {
			return fmt.Errorf("the Pitlane agent did not start in workspace %s (exit status %d): %s", name, r.code, strings.TrimSpace(r.output))
		}
		if err := installAgent(ctx, mgr, ws, bin, sum, errw); err != nil {
			return err
		}
	}
}

type agentRun struct {
	ready  bool
	code   int
	output string
}

// runAgent runs the agent once. Until the agent says it is ready, the
// caller's input is not read, so a failed attempt (agent not yet copied
// in) loses nothing of the SSH stream and can be retried.
func runAgent(ctx context.Context, mgr *workspace.Manager, ws *workspace.Workspace, sum string, hello agent.Hello, in io.Reader, out, errw io.Writer) (agentRun, error) {
	var hb bytes.Buffer
	if err := agent.WriteHello(&hb, hello); err != nil {
		return agentRun{}, err
	}
	g := &gate{ready: make(chan struct{}), failed: make(chan struct{})}
	stdin := &gatedReader{pre: hb.Bytes(), in: in, g: g}
	stdout := &readyWriter{out: out, g: g}
	stderr := &heldWriter{out: errw, g: g}
	code, err := mgr.Exec(ctx, ws.Name, workspace.ExecOptions{
		Cmd:    []string{agent.Path(sum), "agent", "ssh", "--stdio"},
		User:   ws.RemoteUser,
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: stderr,
		// Sessions inherit the agent's environment, and with it the
		// way to the host's git credentials.
		Forward: true,
	})
	ready := g.isReady()
	g.fail()
	if err != nil && ctx.Err() != nil {
		// OpenSSH hangs up on its ProxyCommand when the session ends:
		// nothing went wrong.
		return agentRun{ready: true}, nil
	}
	if err != nil {
		return agentRun{ready: ready}, fmt.Errorf("running the Pitlane agent in workspace %s: %w", ws.Name, err)
	}
	return agentRun{ready: ready, code: code, output: stdout.held() + stderr.held()}, nil
}

// gate opens once the agent has announced itself, or fails.
type gate struct {
	once   sync.Once
	ready  chan struct{}
	failed chan struct{}
	fonce  sync.Once
}

func (g *gate) open() { g.once.Do(func() { close(g.ready) }) }
func (g *gate) fail() { g.fonce.Do(func() { close(g.failed) }) }
func (g *gate) isReady() bool {
	select {
	case <-g.ready:
		return true
	default:
		return false
	}
}

// gatedReader yields the Hello, then waits for the gate before passing on
// the caller's input.
type gatedReader struct {
	pre []byte
	in  io.Reader
	g   *gate
}

func (r *gatedReader) Read(p []byte) (int, error) {
	if len(r.pre) > 0 {
		n := copy(p, r.pre)
		r.pre = r.pre[n:]
		return n, nil
	}
	select {
	case <-r.g.ready:
		return r.in.Read(p)
	case <-r.g.failed:
		return 0, io.EOF
	}
}

// readyWriter holds the agent's output until the Ready line, drops that
// line and then passes everything through. Output that is not the Ready
// line (an error from the container runtime) is kept for the message.
type readyWriter struct {
	out  io.Writer
	g    *gate
	mu   sync.Mutex
	buf  []byte
	bad  bool
	pass bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pass {
		return w.out.Write(p)
	}
	if w.bad {
		if len(w.buf) < 4096 {
			w.buf = append(w.buf, p...)
		}
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	n := min(len(w.buf), len(agent.Ready))
	if string(w.buf[:n]) != agent.Ready[:n] {
		w.bad = true
		return len(p), nil
	}
	if len(w.buf) < len(agent.Ready) {
		return len(p), nil
	}
	rest := w.buf[len(agent.Ready):]
	w.buf, w.pass = nil, true
	w.g.open()
	if len(rest) > 0 {
		if _, err := w.out.Write(rest); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (w *readyWriter) held() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pass {
		return ""
	}
	return string(w.buf)
}

// heldWriter keeps stderr until the agent is ready, so a failed first
// attempt does not print the runtime's "no such file" complaint.
type heldWriter struct {
	out io.Writer
	g   *gate
	mu  sync.Mutex
	buf []byte
}

func (w *heldWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.g.isReady() {
		if len(w.buf) > 0 {
			w.out.Write(w.buf)
			w.buf = nil
		}
		return w.out.Write(p)
	}
	if len(w.buf) < 4096 {
		w.buf = append(w.buf, p...)
	}
	return len(p), nil
}

func (w *heldWriter) held() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// installs joins concurrent installs of one agent into one container made
// by this process (an SSH connection and its credential relay both find
// the agent missing).
var installs singleflight.Group

// installAgent copies the agent binary into the container, where the copy
// checks its own checksum before it takes its final name.
func installAgent(ctx context.Context, mgr *workspace.Manager, ws *workspace.Workspace, bin, sum string, errw io.Writer) error {
	// The install runs to its end even if the caller that started it
	// gives up: others may be waiting for it, and a copy cut short would
	// leave a staged file behind.
	ch := installs.DoChan(ws.ContainerID+"/"+sum, func() (any, error) {
		ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		return nil, installAgentOnce(ictx, mgr, ws, bin, sum, errw)
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func installAgentOnce(ctx context.Context, mgr *workspace.Manager, ws *workspace.Workspace, bin, sum string, errw io.Writer) error {
	data, err := os.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("reading the agent binary %s: %w", bin, err)
	}
	if isDynamicELF(bin) {
		fmt.Fprintf(errw, "pitlane: note: %s is dynamically linked, so the agent only runs in images with a compatible C library; build pitlane with CGO_ENABLED=0 to reach any image\n", bin)
	}
	nonce := make([]byte, 6)
	rand.Read(nonce)
	staged := agent.StagePath(sum, hex.EncodeToString(nonce))
	if err := mgr.CopyFile(ctx, ws.Name, staged, data, 0o755); err != nil {
		return fmt.Errorf("copying the Pitlane agent into workspace %s: %w", ws.Name, err)
	}
	var outb bytes.Buffer
	code, err := mgr.Exec(ctx, ws.Name, workspace.ExecOptions{
		Cmd: []string{staged, "agent", "install", sum}, User: "root", Dir: "/",
		Stdout: &outb, Stderr: &outb, Bare: true,
	})
	if err != nil {
		return fmt.Errorf("installing the Pitlane agent in workspace %s: %w", ws.Name, err)
	}
	if code != 0 {
		return fmt.Errorf("installing the Pitlane agent in workspace %s failed (exit status %d): %s", ws.Name, code, strings.TrimSpace(outb.String()))
	}
	return nil
}

// agentBinary is the Linux build of Pitlane that is copied into
// containers: $PITLANE_AGENT_BINARY, this executable on Linux, or
// pitlane-linux-ARCH next to it elsewhere.
func agentBinary() (string, error) {
	if p := os.Getenv("PITLANE_AGENT_BINARY"); p != "" {
		return p, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find the pitlane executable: %w", err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	if runtime.GOOS == "linux" {
		return exe, nil
	}
	cand := filepath.Join(filepath.Dir(exe), "pitlane-linux-"+runtime.GOARCH)
	if _, err := os.Stat(cand); err == nil {
		return cand, nil
	}
	return "", fmt.Errorf("workspaces run Linux, so Pitlane needs a Linux build of itself to copy in: put it at %s or set PITLANE_AGENT_BINARY", cand)
}

func isDynamicELF(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}

// agentSum returns the SHA-256 checksum of the agent binary. Hashing tens
// of megabytes on every connection would cost more than the connection
// itself, so the result is cached per path, size and modification time.
func agentSum(bin string) (string, error) {
	st, err := os.Stat(bin)
	if err != nil {
		return "", fmt.Errorf("reading the agent binary: %w", err)
	}
	type entry struct {
		Path  string `json:"path"`
		Size  int64  `json:"size"`
		MTime int64  `json:"mtime"`
		Sum   string `json:"sha256"`
	}
	want := entry{Path: bin, Size: st.Size(), MTime: st.ModTime().UnixNano()}
	var cache string
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "pitlane", "agent-sum.json")
		if b, err := os.ReadFile(cache); err == nil {
			var e entry
			if json.Unmarshal(b, &e) == nil && e.Path == want.Path && e.Size == want.Size && e.MTime == want.MTime && len(e.Sum) == 64 {
				return e.Sum, nil
			}
		}
	}
	sum, err := agent.FileSum(bin)
	if err != nil {
		return "", fmt.Errorf("reading the agent binary: %w", err)
	}
	want.Sum = sum
	if cache != "" {
		if b, err := json.Marshal(want); err == nil && os.MkdirAll(filepath.Dir(cache), 0o755) == nil {
			tmp := fmt.Sprintf("%s.%d", cache, os.Getpid())
			if os.WriteFile(tmp, b, 0o644) == nil {
				os.Rename(tmp, cache)
			}
		}
	}
	return sum, nil
}

// dialWorkspace opens an SSH client connection to a workspace inside this
// process, through the same agent the ProxyCommand uses.
func dialWorkspace(ctx context.Context, a *app, name string) (*gossh.Client, error) {
	cfgDir, err := sshconfig.DefaultConfigDir()
	if err != nil {
		return nil, err
	}
	keys, err := sshconfig.EnsureKeys(cfgDir)
	if err != nil {
		return nil, err
	}
	local, remote := net.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- connectAgent(ctx, a, name, remote, remote, a.stderr)
		remote.Close()
	}()
	host := name + "." + workspace.SSHDomain
	conn, chans, reqs, err := gossh.NewClientConn(local, host, &gossh.ClientConfig{
		User:            "pitlane",
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(keys.Client)},
		HostKeyCallback: gossh.FixedHostKey(keys.HostPublic),
	})
	if err != nil {
		local.Close()
		select {
		case cerr := <-errc:
			if cerr != nil {
				return nil, cerr
			}
		default:
		}
		return nil, fmt.Errorf("connecting to workspace %s: %w", name, err)
	}
	return gossh.NewClient(conn, chans, reqs), nil
}
