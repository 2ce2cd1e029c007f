// Package telemetrytest provides an OTLP/HTTP metrics receiver on the
// loopback interface for tests of Pitlane's telemetry.
package telemetrytest

import (
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/protobuf/proto"
)

// Receiver accepts OTLP/HTTP metric exports on 127.0.0.1 and keeps every
// request body, raw and decoded.
type Receiver struct {
	// URL is the metrics endpoint (http://127.0.0.1:PORT/v1/metrics).
	URL string

	mu   sync.Mutex
	raw  [][]byte
	reqs []*colmetricpb.ExportMetricsServiceRequest
	errs []error
}

// Start starts a receiver that is closed when the test ends. delay, if
// not zero, is how long it waits before answering each request.
func Start(t testing.TB, delay time.Duration) *Receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := &Receiver{URL: "http://" + ln.Addr().String() + "/v1/metrics"}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil && r.Header.Get("Content-Encoding") == "gzip" {
			var zr *gzip.Reader
			if zr, err = gzip.NewReader(bytes.NewReader(body)); err == nil {
				body, err = io.ReadAll(zr)
			}
		}
		var req colmetricpb.ExportMetricsServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		rc.mu.Lock()
		rc.raw = append(rc.raw, body)
		if err != nil {
			rc.errs = append(rc.errs, err)
		} else {
			rc.reqs = append(rc.reqs, &req)
		}
		rc.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rc
}

// Requests returns the decoded requests so far; a request that could not
// be decoded fails the test.
func (rc *Receiver) Requests(t testing.TB) []*colmetricpb.ExportMetricsServiceRequest {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, err := range rc.errs {
		t.Errorf("receiver could not decode a request: %v", err)
	}
	return append([]*colmetricpb.ExportMetricsServiceRequest(nil), rc.reqs...)
}

// Raw returns the request bodies so far, uncompressed.
func (rc *Receiver) Raw() [][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.raw...)
}

// Count returns how many requests arrived.
func (rc *Receiver) Count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.raw)
}
