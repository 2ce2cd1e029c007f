package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// PreviewSession describes the sample activity Preview records.
const PreviewSession = "one workspace created from a devcontainer.json in 42 s, one creation from a Dockerfile " +
	"that failed while building, one start, one stop, one open in VS Code and one delete"

// Preview runs a sample session (PreviewSession) through the same export
// pipeline a real session uses, with this process's real resource values
// (install id, version, OS, architecture, client), and writes each OTLP
// request exactly as the exporter sent it, in OTLP's JSON encoding, to w.
// The exporter sends to a receiver on the loopback interface inside this
// process; nothing leaves the machine, whatever the consent.
//
// When no install id exists yet, a random one is used for the preview and
// not stored; fresh reports whether that happened.
func (r *Recorder) Preview(ctx context.Context, w io.Writer) (fresh bool, err error) {
	r.mu.Lock()
	r.loadLocked()
	id, client := r.settings.InstallID, r.client
	r.mu.Unlock()
	if !validUUID(id) {
		id, fresh = newInstallID(), true
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fresh, fmt.Errorf("preview needs a loopback port: %w", err)
	}
	bodies := make(chan []byte, 16)
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		b, err := io.ReadAll(req.Body)
		if err == nil {
			select {
			case bodies <- b:
			default:
			}
		}
		rw.WriteHeader(http.StatusOK)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	p, err := newPipeline(pipelineConfig{
		endpoint: "http://" + ln.Addr().String(),
		resource: resourceValues{installID: id, client: client, version: r.opts.Version},
		interval: time.Hour,
		timeout:  5 * time.Second,
	})
	if err != nil {
		return fresh, err
	}
	p.created("success", "devcontainer", "none", 42*time.Second)
	p.created("failure", "dockerfile", "build", 17*time.Second)
	p.count(instStarts)
	p.count(instStops)
	p.ideOpened("vscode")
	p.count(instDeletions)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := p.shutdown(sctx); err != nil {
		return fresh, fmt.Errorf("preview export failed: %w", err)
	}

	n := 0
	for {
		select {
		case b := <-bodies:
			var req colmetricpb.ExportMetricsServiceRequest
			if err := proto.Unmarshal(b, &req); err != nil {
				return fresh, fmt.Errorf("preview: cannot decode the exported request: %w", err)
			}
			out, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(&req)
			if err != nil {
				return fresh, err
			}
			if _, err := fmt.Fprintf(w, "%s\n", out); err != nil {
				return fresh, err
			}
			n++
		default:
			if n == 0 {
				return fresh, errors.New("preview: the exporter sent nothing")
			}
			return fresh, nil
		}
	}
}
