//go:build linux

package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gliderlabs/ssh"
	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"
)

// Serve reads the Hello from in, then serves one SSH connection on in and
// out until the client disconnects. Diagnostics go to logw.
func Serve(in io.Reader, out io.Writer, logw io.Writer) error {
	br := bufio.NewReaderSize(in, 64<<10)
	h, err := ReadHello(br)
	if err != nil {
		return err
	}
	signer, err := gossh.ParsePrivateKey(h.HostKey)
	if err != nil {
		return fmt.Errorf("reading the host key: %w", err)
	}
	allowed, _, _, _, err := gossh.ParseAuthorizedKey(h.AuthorizedKey)
	if err != nil {
		return fmt.Errorf("reading the client key: %w", err)
	}
	a := &server{user: currentUser(), log: log.New(logw, "pitlane agent: ", 0)}
	if wd, err := os.Getwd(); err == nil {
		a.dir = wd
	} else {
		a.dir = a.user.home
	}

	fwd := &ssh.ForwardedTCPHandler{}
	allow := func(ssh.Context, string, uint32) bool { return true }
	srv := &ssh.Server{
		Version:     "Pitlane",
		HostSigners: []ssh.Signer{signer},
		// Only Pitlane's own client key gets in: no password and no
		// keyboard-interactive handler is set, so those methods are off.
		PublicKeyHandler: func(_ ssh.Context, key ssh.PublicKey) bool {
			return ssh.KeysEqual(key, allowed)
		},
		Handler: a.session,
		ChannelHandlers: map[string]ssh.ChannelHandler{
			"session":      ssh.DefaultSessionHandler,
			"direct-tcpip": ssh.DirectTCPIPHandler,
		},
		RequestHandlers: map[string]ssh.RequestHandler{
			"tcpip-forward":        fwd.HandleSSHRequest,
			"cancel-tcpip-forward": fwd.HandleSSHRequest,
		},
		SubsystemHandlers: map[string]ssh.SubsystemHandler{
			"sftp": a.sftp,
		},
		LocalPortForwardingCallback:   allow,
		ReversePortForwardingCallback: allow,
		ConnectionFailedCallback: func(_ net.Conn, err error) {
			a.log.Printf("connection failed: %v", err)
		},
	}
	if _, err := io.WriteString(out, Ready); err != nil {
		return err
	}
	srv.HandleConn(&stdioConn{r: br, w: out})
	return nil
}

type server struct {
	user passwdEntry
	dir  string // where shells and commands start: the workspace folder
	log  *log.Logger
}

// env builds a session's environment: the container's environment as the
// exec received it, the user's identity, then what the client sent.
func (a *server) env(s ssh.Session) []string {
	env := os.Environ()
	env = setEnv(env, "HOME", a.user.home)
	env = setEnv(env, "USER", a.user.name)
	env = setEnv(env, "LOGNAME", a.user.name)
	env = setEnv(env, "SHELL", a.user.shell)
	if getEnv(env, "PATH") == "" {
		env = setEnv(env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	env = setEnv(env, "SSH_CONNECTION", "127.0.0.1 0 127.0.0.1 22")
	env = setEnv(env, "SSH_CLIENT", "127.0.0.1 0 22")
	for _, kv := range s.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env = setEnv(env, k, v)
		}
	}
	return env
}

func (a *server) session(s ssh.Session) {
	shell := a.user.shell
	var cmd *exec.Cmd
	if raw := s.RawCommand(); raw != "" {
		cmd = exec.Command(shell, "-c", raw)
	} else {
		// A leading '-' in argv[0] makes the shell a login shell, as
		// sshd does.
		cmd = exec.Command(shell)
		cmd.Args = []string{"-" + filepath.Base(shell)}
	}
	cmd.Dir = a.dir
	cmd.Env = a.env(s)

	if ssh.AgentRequested(s) {
		l, err := ssh.NewAgentListener()
		if err != nil {
			fmt.Fprintf(s.Stderr(), "pitlane: agent forwarding is unavailable: %v\r\n", err)
		} else {
			sock := l.Addr().String()
			defer os.RemoveAll(filepath.Dir(sock))
			defer l.Close()
			go ssh.ForwardAgentConnections(l, s)
			cmd.Env = setEnv(cmd.Env, "SSH_AUTH_SOCK", sock)
		}
	}

	var code int
	if ptyReq, winCh, isPty := s.Pty(); isPty {
		code = a.runPTY(s, cmd, ptyReq, winCh)
	} else {
		code = a.runPlain(s, cmd)
	}
	s.Exit(code)
}

func (a *server) runPlain(s ssh.Session, cmd *exec.Cmd) int {
	cmd.Stdout = s
	cmd.Stderr = s.Stderr()
	// Output written by processes left running in the background is
	// dropped shortly after the command itself ends.
	cmd.WaitDelay = time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		fmt.Fprintf(s.Stderr(), "pitlane: %v\n", err)
		return 255
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(s.Stderr(), "pitlane: cannot start %s: %v\n", cmd.Path, err)
		return 127
	}
	go func() {
		io.Copy(stdin, s)
		stdin.Close()
	}()
	sigs := make(chan ssh.Signal, 1)
	s.Signals(sigs)
	done := make(chan struct{})
	go forwardSignals(cmd.Process, sigs, done)
	err = cmd.Wait()
	close(done)
	return exitCode(err)
}

func (a *server) runPTY(s ssh.Session, cmd *exec.Cmd, req ssh.Pty, winCh <-chan ssh.Window) int {
	master, slave, err := openPTY()
	if err != nil {
		fmt.Fprintf(s.Stderr(), "pitlane: cannot allocate a terminal: %v\r\n", err)
		return 255
	}
	defer master.Close()
	setWindowSize(master, req.Window.Width, req.Window.Height)
	if req.Term != "" {
		cmd.Env = setEnv(cmd.Env, "TERM", req.Term)
	}
	cmd.Env = setEnv(cmd.Env, "SSH_TTY", slave.Name())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	err = cmd.Start()
	slave.Close()
	if err != nil {
		fmt.Fprintf(s, "pitlane: cannot start %s: %v\r\n", cmd.Path, err)
		return 127
	}
	go func() {
		for w := range winCh {
			setWindowSize(master, w.Width, w.Height)
		}
	}()
	go io.Copy(master, s)
	out := make(chan struct{})
	go func() {
		// Reading the master fails with EIO once every holder of the
		// terminal has closed it.
		io.Copy(s, master)
		close(out)
	}()
	err = cmd.Wait()
	select {
	case <-out:
	case <-time.After(250 * time.Millisecond):
	}
	return exitCode(err)
}

func (a *server) sftp(s ssh.Session) {
	srv, err := sftp.NewServer(s, sftp.WithServerWorkingDirectory(a.user.home))
	if err != nil {
		a.log.Printf("sftp: %v", err)
		return
	}
	code := 0
	if err := srv.Serve(); err != nil && !errors.Is(err, io.EOF) {
		a.log.Printf("sftp: %v", err)
		code = 1
	}
	// scp and sftp treat a session without an exit status as failed, so
	// it is sent before the server closes the channel.
	s.Exit(code)
	srv.Close()
}

func forwardSignals(p *os.Process, sigs <-chan ssh.Signal, done <-chan struct{}) {
	for {
		select {
		case sig := <-sigs:
			if n, ok := signalNumbers[sig]; ok {
				p.Signal(n)
			}
		case <-done:
			return
		}
	}
}

var signalNumbers = map[ssh.Signal]syscall.Signal{
	ssh.SIGABRT: syscall.SIGABRT, ssh.SIGALRM: syscall.SIGALRM, ssh.SIGFPE: syscall.SIGFPE,
	ssh.SIGHUP: syscall.SIGHUP, ssh.SIGILL: syscall.SIGILL, ssh.SIGINT: syscall.SIGINT,
	ssh.SIGKILL: syscall.SIGKILL, ssh.SIGPIPE: syscall.SIGPIPE, ssh.SIGQUIT: syscall.SIGQUIT,
	ssh.SIGSEGV: syscall.SIGSEGV, ssh.SIGTERM: syscall.SIGTERM, ssh.SIGUSR1: syscall.SIGUSR1,
	ssh.SIGUSR2: syscall.SIGUSR2,
}

// exitCode turns the result of Wait into a shell-style exit status.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		return 0
	}
	return 255
}

func getEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

func setEnv(env []string, key, value string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

// stdioConn is the net.Conn that the SSH server reads and writes: the
// agent's standard input and output.
type stdioConn struct {
	r    io.Reader
	w    io.Writer
	once sync.Once
}

func (c *stdioConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *stdioConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c *stdioConn) Close() error {
	c.once.Do(func() {
		if cl, ok := c.w.(io.Closer); ok {
			cl.Close()
		}
	})
	return nil
}
func (c *stdioConn) LocalAddr() net.Addr              { return stdioAddr{} }
func (c *stdioConn) RemoteAddr() net.Addr             { return stdioAddr{} }
func (c *stdioConn) SetDeadline(time.Time) error      { return nil }
func (c *stdioConn) SetReadDeadline(time.Time) error  { return nil }
func (c *stdioConn) SetWriteDeadline(time.Time) error { return nil }

type stdioAddr struct{}

func (stdioAddr) Network() string { return "stdio" }
func (stdioAddr) String() string  { return "stdio" }
