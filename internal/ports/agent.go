package ports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/pitlane/pitlane/internal/devcontainer"
)

// Runner runs `pitlane agent ARGS...` inside a running workspace with the
// given standard input (nil: none) and output, and returns when it ends;
// a non-zero exit is an error that carries the agent's message.
type Runner func(ctx context.Context, name string, args []string, stdin io.Reader, stdout io.Writer) error

// Agent reaches a workspace's ports through the Pitlane agent: `pitlane
// agent ports --json` lists the listening ones and every forwarded
// connection is one `pitlane agent dial PORT` relaying it on its standard
// input and output. No port of the container is published.
type Agent struct {
	// Config returns the workspace's resolved configuration.
	Config func(ctx context.Context, name string) (*devcontainer.Config, error)
	// Run runs the agent in the workspace.
	Run Runner
}

// Configured returns the ports the workspace's configuration names.
func (a *Agent) Configured(ctx context.Context, name string) ([]Port, error) {
	cfg, err := a.Config(ctx, name)
	if err != nil {
		return nil, err
	}
	return FromConfig(cfg), nil
}

// Listening returns the TCP ports processes listen on in the workspace.
func (a *Agent) Listening(ctx context.Context, name string) ([]int, error) {
	var out bytes.Buffer
	if err := a.Run(ctx, name, []string{"ports", "--json"}, nil, &out); err != nil {
		return nil, fmt.Errorf("listing the ports of workspace %s: %w", name, err)
	}
	var res struct {
		Ports []int `json:"ports"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("listing the ports of workspace %s: the agent answered %q: %w", name, out.String(), err)
	}
	return res.Ports, nil
}

// Dial connects to a port inside the workspace. The connection is made
// when the agent runs; if nothing answers there, the returned connection
// ends at once with that error.
func (a *Agent) Dial(ctx context.Context, name string, port int) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	go func() {
		err := a.Run(ctx, name, []string{"dial", strconv.Itoa(port)}, inR, outW)
		if err == nil {
			err = io.EOF
		}
		outW.CloseWithError(err)
		inR.Close()
	}()
	return &pipeConn{r: outR, w: inW, cancel: cancel, name: name, port: port}, nil
}

// pipeConn is a connection relayed by an agent process: reads come from
// its output, writes go to its input, CloseWrite ends its input.
type pipeConn struct {
	r      *io.PipeReader
	w      *io.PipeWriter
	cancel context.CancelFunc
	name   string
	port   int
	once   sync.Once
}

func (c *pipeConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *pipeConn) Write(p []byte) (int, error) { return c.w.Write(p) }

// CloseWrite passes on the end of what is sent.
func (c *pipeConn) CloseWrite() error { return c.w.Close() }

func (c *pipeConn) Close() error {
	c.once.Do(func() {
		c.w.Close()
		c.r.Close()
		c.cancel()
	})
	return nil
}

func (c *pipeConn) LocalAddr() net.Addr              { return agentAddr{c.name, 0} }
func (c *pipeConn) RemoteAddr() net.Addr             { return agentAddr{c.name, c.port} }
func (c *pipeConn) SetDeadline(time.Time) error      { return nil }
func (c *pipeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *pipeConn) SetWriteDeadline(time.Time) error { return nil }

type agentAddr struct {
	name string
	port int
}

func (agentAddr) Network() string  { return "pitlane-agent" }
func (a agentAddr) String() string { return a.name + ":" + strconv.Itoa(a.port) }
