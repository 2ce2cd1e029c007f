package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pitlane/pitlane/internal/agent"
	"github.com/pitlane/pitlane/internal/credentials"
	"github.com/pitlane/pitlane/internal/source"
	"github.com/pitlane/pitlane/internal/workspace"
)

// credentialForwarder serves git's credential questions from a workspace
// for as long as a process there runs: beside the process, a Docker exec
// runs the agent's relay, whose standard input and output carry the
// questions to this process and the answers back. This process answers
// with the user's own git, as the workspace's policy allows.
type credentialForwarder struct{ a *app }

func (f *credentialForwarder) GitCredentialHelper() string { return agent.GitCredentialHelper }

func (f *credentialForwarder) Forward(ctx context.Context, ws *workspace.Workspace, user string, delay time.Duration) *workspace.Forwarding {
	nonce := make([]byte, 8)
	rand.Read(nonce)
	sock := agent.RelaySocket(hex.EncodeToString(nonce))
	ctx, cancel := context.WithCancel(ctx)
	ready := make(chan error, 1)
	r := &relayRun{ready: ready}
	go func() {
		if delay > 0 {
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				r.report(ctx.Err())
				return
			}
		}
		f.run(ctx, ws, user, sock, r)
	}()
	return &workspace.Forwarding{
		Env:   []string{agent.CredentialsEnv + "=" + sock},
		Ready: ready,
		Stop: func() {
			r.stop()
			cancel()
		},
	}
}

// relayRun is the state of one forwarding channel.
type relayRun struct {
	ready   chan<- error
	once    sync.Once
	mu      sync.Mutex
	answers io.Closer // the relay's standard input, closed to end it
	stopped bool
}

func (r *relayRun) report(err error) { r.once.Do(func() { r.ready <- err }) }

func (r *relayRun) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	if r.answers != nil {
		r.answers.Close()
	}
}

func (f *credentialForwarder) run(ctx context.Context, ws *workspace.Workspace, user, sock string, r *relayRun) {
	mgr, err := f.a.managerFor(ctx, ws.Name)
	if err != nil {
		r.report(err)
		return
	}
	srv := &credentials.Server{Workspace: ws.Name, Dir: mgr.Dir(ws.Name), Remotes: ownRemoteHosts(mgr, ws)}
	bin, err := agentBinary()
	if err != nil {
		r.report(err)
		return
	}
	sum, err := agentSum(bin)
	if err != nil {
		r.report(err)
		return
	}
	for attempt := 0; ; attempt++ {
		toRelay, answers := io.Pipe()
		fromRelay, questions := io.Pipe()
		r.mu.Lock()
		if r.stopped {
			r.mu.Unlock()
			r.report(context.Canceled)
			return
		}
		r.answers = answers
		r.mu.Unlock()
		var readyOnce bool
		served := make(chan struct{})
		go func() {
			srv.Serve(ctx, fromRelay, answers, func() { readyOnce = true; r.report(nil) })
			close(served)
		}()
		var errb bytes.Buffer
		code, err := mgr.Exec(ctx, ws.Name, workspace.ExecOptions{
			Cmd:  []string{agent.Path(sum), "agent", "credential-relay", sock},
			User: user, Dir: "/", Stdin: toRelay, Stdout: questions, Stderr: &errb, Bare: true,
		})
		questions.Close()
		<-served
		answers.Close()
		if readyOnce || ctx.Err() != nil {
			r.report(ctx.Err())
			return
		}
		if err == nil && (code == 126 || code == 127) && attempt == 0 {
			if err := installAgent(ctx, mgr, ws, bin, sum, io.Discard); err != nil {
				r.report(err)
				return
			}
			continue
		}
		if err == nil {
			err = fmt.Errorf("the credential relay in workspace %s exited with status %d: %s", ws.Name, code, strings.TrimSpace(errb.String()))
		}
		r.report(err)
		return
	}
}

// ownRemoteHosts are the hosts a workspace gets credentials for by
// default: the git source's host (from its label, which the workspace
// cannot change) and the remotes recorded at create.
func ownRemoteHosts(mgr *workspace.Manager, ws *workspace.Workspace) []string {
	var hosts []string
	if !ws.Source.Local {
		if h := source.Host(ws.Source.URL); h != "" {
			hosts = append(hosts, h)
		}
	}
	if p, err := mgr.Personal(ws.Name); err == nil {
		for _, h := range p.RemoteHosts {
			if !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
	}
	return hosts
}
