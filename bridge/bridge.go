// Package bridge is `pitlane bridge`: a JSON-RPC 2.0 server on standard
// input and output through which the IDE extensions drive the workspace
// engine. Handlers are thin: they decode params (package protocol), call the
// Manager and encode the result; progress, cancellation and change
// notifications are translated between the engine and the wire here.
package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/protocol"
)

// Manager is the part of the workspace engine the bridge uses;
// *workspace.Manager implements it.
type Manager interface {
	Create(ctx context.Context, opts workspace.CreateOptions) (*workspace.Workspace, error)
	Start(ctx context.Context, name string, opts workspace.StartOptions) (*workspace.Workspace, error)
	Stop(ctx context.Context, name string) (*workspace.Workspace, error)
	Delete(ctx context.Context, name string, opts workspace.DeleteOptions) error
	Rebuild(ctx context.Context, name string, opts workspace.RebuildOptions) (*workspace.Workspace, error)
	List(ctx context.Context) ([]*workspace.Workspace, error)
	Get(ctx context.Context, name string) (*workspace.Workspace, error)
	LogPath(name string) string
	Touch(name string) error
	// Attach runs the workspace's postAttachCommand (on workspace/open).
	Attach(ctx context.Context, name string, p workspace.Progress) (*workspace.Workspace, error)
	Watch(ctx context.Context) (<-chan workspace.Event, error)
	Configs(ctx context.Context, source string) ([]string, error)
	// Detect says what Create would use for a source, generating a config
	// for one without.
	Detect(ctx context.Context, source string) (*workspace.Detection, error)
}

// Opener knows how to open a workspace in an IDE.
type Opener interface {
	// IDEs lists the IDE identifiers Open accepts.
	IDEs() []string
	// Open says how to open ws in ide. It returns an error wrapping
	// ErrUnknownIDE for an IDE it does not know.
	Open(ws *workspace.Workspace, ide string) (protocol.OpenResult, error)
}

// ErrUnknownIDE is returned by an Opener for an IDE it does not support.
var ErrUnknownIDE = errors.New("unknown IDE")

// Telemetry receives what the IDE tells about the client and its consent.
// A nil Telemetry is allowed: the bridge then reports telemetry as off.
type Telemetry interface {
	// SetClient records the client name ("vscode", "jetbrains", "other").
	SetClient(name string)
	// SetIDEConsent passes the IDE's Pitlane telemetry setting and the
	// IDE's global telemetry switch; telemetry is on only if both are.
	SetIDEConsent(settingEnabled, ideTelemetryEnabled bool) error
	// Enabled reports whether anything is recorded now, after every rule
	// (environment overrides included) has been applied.
	Enabled() bool
	// IDEOpened counts one opening of a workspace in an IDE.
	IDEOpened(ide string)
}

// Options configure a Server.
type Options struct {
	// Manager is the engine. Required.
	Manager Manager
	// Opener defaults to VSCodeOpener.
	Opener Opener
	// Telemetry may be nil.
	Telemetry Telemetry
	// Version is reported in serverInfo.
	Version string
	// Logger receives the bridge's own log; default: discard. It must not
	// write to the protocol stream.
	Logger *slog.Logger
	// WatchRetry is the first delay before following engine events again
	// after a failure; it doubles up to 30 s. Default 2 s.
	WatchRetry time.Duration
	// MaxConcurrent is how many requests run at once; later ones wait
	// for a turn. Default 16.
	MaxConcurrent int
	// MaxPending is how many requests may be running or waiting; beyond
	// it a request fails at once with CodeBusy. Default 256.
	MaxPending int
	// Ports reaches the ports inside workspaces; without it the port
	// methods fail.
	Ports Ports
	// PortsInterval is how often the listening ports of the workspaces a
	// client asked about are checked. Default 2 s.
	PortsInterval time.Duration
	// FollowInterval is how often a followed log is checked for new
	// lines. Default 250 ms.
	FollowInterval time.Duration
}

// Server serves the bridge protocol on one connection. Create one per
// connection with New.
type Server struct {
	opts Options
	log  *slog.Logger

	mu          sync.Mutex
	initialized bool
	shutdown    bool
	exited      bool
	inflight    map[jsonrpc2.ID]*call
	watching    bool
	closing     bool // set when Serve stops; no new goroutines after it

	conn     *jsonrpc2.Conn
	handlers sync.WaitGroup
	exitCh   chan struct{}
	ctx      context.Context // cancelled when the connection ends
	slots    chan struct{}   // one per request running

	ops opSet // cancellable operations by workspace, for "cancel"

	follows   map[string]*followRun // log follows by id
	followSeq int
	portSet   portSet // forwards and watched ports by workspace
}

type call struct {
	cancel    context.CancelFunc
	cancelled bool
}

// New returns a Server.
func New(opts Options) *Server {
	if opts.Opener == nil {
		opts.Opener = VSCodeOpener{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.WatchRetry <= 0 {
		opts.WatchRetry = 2 * time.Second
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 16
	}
	if opts.PortsInterval <= 0 {
		opts.PortsInterval = 2 * time.Second
	}
	if opts.FollowInterval <= 0 {
		opts.FollowInterval = 250 * time.Millisecond
	}
	if opts.MaxPending < opts.MaxConcurrent {
		opts.MaxPending = max(256, opts.MaxConcurrent)
	}
	return &Server{
		opts:     opts,
		log:      opts.Logger,
		inflight: map[jsonrpc2.ID]*call{},
		exitCh:   make(chan struct{}),
		slots:    make(chan struct{}, opts.MaxConcurrent),
	}
}

// Serve runs the protocol on in and out until the client sends exit, in
// reaches end of file, or ctx is cancelled. Requests still running are
// cancelled and Serve waits for them to finish (so the engine can clean up
// a half-made workspace) before it returns. The exit code is 0, or 1 when
// the client sent exit without shutdown.
func (s *Server) Serve(ctx context.Context, in io.Reader, out io.Writer) (exitCode int) {
	var closer io.Closer
	if c, ok := in.(io.Closer); ok {
		closer = c
	}
	// The connection starts reading at once; hold reads back until s.conn
	// is set, since handlers reply through it.
	ready := make(chan struct{})
	stream := NewStream(gatedReader{in, ready}, out, closer)
	stream.OnBadMessage = func(code int, msg string) {
		s.log.Warn("rejected a message", "code", code, "error", msg)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.ctx = ctx
	s.conn = jsonrpc2.NewConn(ctx, stream, s, jsonrpc2.SetLogger(slogLogger{s.log}))
	close(ready)
	select {
	case <-s.conn.DisconnectNotify():
		s.log.Info("client disconnected")
	case <-s.exitCh:
		s.log.Info("exit received")
	case <-ctx.Done():
	}
	cancel()
	s.conn.Close()
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.stopBackground()
	s.handlers.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited && !s.shutdown {
		return 1
	}
	return 0
}

// Handle implements jsonrpc2.Handler. It runs on the connection's read
// loop: protocol bookkeeping happens here, in order; the work of each
// request runs in its own goroutine.
func (s *Server) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	switch req.Method {
	case protocol.MethodExit:
		s.mu.Lock()
		if !s.exited {
			s.exited = true
			close(s.exitCh)
		}
		s.mu.Unlock()
		return
	case protocol.MethodCancelRequest:
		s.cancelRequest(req)
		return
	}
	if req.Notif {
		// Unknown notifications are ignored, as in LSP.
		s.log.Debug("ignored notification", "method", req.Method)
		return
	}
	s.mu.Lock()
	initialized, shutdown := s.initialized, s.shutdown
	s.mu.Unlock()
	switch {
	case shutdown:
		s.replyErr(req, &jsonrpc2.Error{Code: protocol.CodeInvalidRequest, Message: "the bridge is shutting down: start a new one"})
		return
	case req.Method == protocol.MethodInitialize:
		res, err := s.initialize(req)
		s.reply(req, res, err)
		return
	case !initialized:
		s.replyErr(req, &jsonrpc2.Error{Code: protocol.CodeServerNotInitialized, Message: "send initialize first"})
		return
	case req.Method == protocol.MethodShutdown:
		s.mu.Lock()
		s.shutdown = true
		s.mu.Unlock()
		s.stopBackground()
		s.reply(req, nil, nil)
		return
	}
	h, ok := handlers[req.Method]
	if !ok {
		s.replyErr(req, &jsonrpc2.Error{Code: protocol.CodeMethodNotFound, Message: fmt.Sprintf("unknown method %q", req.Method)})
		return
	}
	cctx, cancel := context.WithCancel(ctx)
	c := &call{cancel: cancel}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		cancel()
		return
	}
	if len(s.inflight) >= s.opts.MaxPending {
		s.mu.Unlock()
		cancel()
		s.replyErr(req, &jsonrpc2.Error{Code: protocol.CodeBusy, Message: fmt.Sprintf("the bridge has %d requests in flight already; wait for some to finish and try again", s.opts.MaxPending)})
		return
	}
	s.inflight[req.ID] = c
	s.handlers.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.handlers.Done()
		defer cancel()
		start := time.Now()
		res, err := s.run(h, cctx, req)
		s.mu.Lock()
		delete(s.inflight, req.ID)
		cancelled := c.cancelled
		s.mu.Unlock()
		if err != nil && cancelled {
			err = &jsonrpc2.Error{Code: protocol.CodeRequestCancelled, Message: "request cancelled"}
		}
		s.log.Debug("request", "method", req.Method, "id", req.ID.String(), "duration", time.Since(start), "error", err)
		s.reply(req, res, err)
	}()
}

// run waits for a turn and runs one handler. A panic in the handler
// becomes an internal error for that request alone; the bridge goes on
// serving the others.
func (s *Server) run(h handler, ctx context.Context, req *jsonrpc2.Request) (res any, err error) {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("handler panicked", "method", req.Method, "panic", r, "stack", string(debug.Stack()))
			res, err = nil, &jsonrpc2.Error{Code: protocol.CodeInternalError, Message: fmt.Sprintf("internal error in %s: %v (the bridge goes on; please report this with the bridge's log)", req.Method, r)}
		}
	}()
	return h(s, ctx, req)
}

func (s *Server) cancelRequest(req *jsonrpc2.Request) {
	var p struct {
		ID jsonrpc2.ID `json:"id"`
	}
	if req.Params == nil || json.Unmarshal(*req.Params, &p) != nil {
		return
	}
	s.mu.Lock()
	c := s.inflight[p.ID]
	if c != nil {
		c.cancelled = true
	}
	s.mu.Unlock()
	if c != nil {
		s.log.Info("cancelling request", "id", p.ID.String())
		c.cancel()
	}
}

func (s *Server) reply(req *jsonrpc2.Request, res any, err error) {
	if err != nil {
		s.replyErr(req, toRPCError(err))
		return
	}
	if err := s.conn.Reply(context.Background(), req.ID, res); err != nil {
		s.log.Debug("reply failed", "method", req.Method, "error", err)
	}
}

func (s *Server) replyErr(req *jsonrpc2.Request, e *jsonrpc2.Error) {
	if err := s.conn.ReplyWithError(context.Background(), req.ID, e); err != nil {
		s.log.Debug("reply failed", "method", req.Method, "error", err)
	}
}

// notify sends a notification; failures only mean the client is gone.
func (s *Server) notify(method string, params any) {
	if err := s.conn.Notify(context.Background(), method, params); err != nil {
		s.log.Debug("notify failed", "method", method, "error", err)
	}
}

func (s *Server) initialize(req *jsonrpc2.Request) (any, error) {
	var p protocol.InitializeParams
	if err := decodeParams(req, &p, false); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.initialized {
		s.mu.Unlock()
		return nil, &jsonrpc2.Error{Code: protocol.CodeInvalidRequest, Message: "initialize was already sent; send it once per bridge"}
	}
	s.mu.Unlock()
	v := p.ProtocolVersion
	if v == 0 || v > protocol.Version {
		v = protocol.Version
	}
	if v < protocol.MinVersion {
		return nil, &jsonrpc2.Error{Code: protocol.CodeUnsupportedVersion, Message: fmt.Sprintf(
			"the client speaks protocol version %d, this pitlane speaks %d to %d: update the IDE extension",
			p.ProtocolVersion, protocol.MinVersion, protocol.Version)}
	}
	s.mu.Lock()
	s.initialized = true
	s.mu.Unlock()
	if s.opts.Telemetry != nil {
		s.opts.Telemetry.SetClient(clientName(p.ClientInfo.Name))
	}
	s.log.Info("initialized", "client", p.ClientInfo.Name, "clientVersion", p.ClientInfo.Version, "protocol", v)
	s.startWatch()
	ides := s.opts.Opener.IDEs()
	if ides == nil {
		ides = []string{}
	}
	return protocol.InitializeResult{
		ProtocolVersion: v,
		ServerInfo:      protocol.ServerInfo{Name: "pitlane", Version: s.opts.Version},
		IDEs:            ides,
	}, nil
}

// clientName maps clientInfo.name to the telemetry client attribute.
func clientName(name string) string {
	switch name {
	case "vscode", "jetbrains":
		return name
	}
	return "other"
}

// slogLogger adapts slog to jsonrpc2's Logger.
type slogLogger struct{ l *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) {
	l.l.Warn(fmt.Sprintf(format, v...))
}

// gatedReader blocks reads until ready is closed.
type gatedReader struct {
	r     io.Reader
	ready <-chan struct{}
}

func (g gatedReader) Read(p []byte) (int, error) {
	<-g.ready
	return g.r.Read(p)
}
