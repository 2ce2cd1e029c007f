package bridge

import (
	"sync"

	lsp "go.lsp.dev/protocol"

	"github.com/pitlane/pitlane/internal/workspace"
	"github.com/pitlane/pitlane/protocol"
)

// progress reports an engine operation as `$/progress` notifications
// against the client's token. Without a token it reports nothing. It is
// safe for concurrent use, and calls after end are dropped.
type progress struct {
	s     *Server
	token *protocol.ProgressToken

	mu   sync.Mutex
	step string
	done bool
}

func (s *Server) beginProgress(token *protocol.ProgressToken, title string) *progress {
	p := &progress{s: s, token: token}
	if token != nil {
		s.notify(protocol.MethodProgress, &protocol.ProgressParams{
			Token: *token,
			Value: &protocol.WorkDoneProgressBegin{Kind: lsp.WorkDoneProgressKindBegin, Title: title, Cancellable: true},
		})
	}
	return p
}

// Step implements workspace.Progress.
func (p *progress) Step(title string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step = title
	p.send("")
}

// Output implements workspace.Progress.
func (p *progress) Output(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.send(line)
}

// Prebuilt implements workspace.PrebuiltReporter: the IDE learns that the
// image came from the cache.
func (p *progress) Prebuilt(pi workspace.PrebuiltImage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sendReport(&protocol.ProgressReport{Prebuilt: &protocol.PrebuiltImage{
		Key: pi.Key, Image: pi.Image, Built: pi.Built, Baked: pi.Baked, PulledFrom: pi.PulledFrom,
	}})
}

// send is called with p.mu held, so reports keep their order.
func (p *progress) send(output string) {
	p.sendReport(&protocol.ProgressReport{Output: output})
}

func (p *progress) sendReport(r *protocol.ProgressReport) {
	if p.token == nil || p.done {
		return
	}
	r.Kind = lsp.WorkDoneProgressKindReport
	r.Message = p.step
	p.s.notify(protocol.MethodProgress, &protocol.ProgressParams{Token: *p.token, Value: r})
}

func (p *progress) end(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token == nil || p.done {
		return
	}
	p.done = true
	p.s.notify(protocol.MethodProgress, &protocol.ProgressParams{
		Token: *p.token,
		Value: &protocol.WorkDoneProgressEnd{Kind: lsp.WorkDoneProgressKindEnd, Message: msg},
	})
}
