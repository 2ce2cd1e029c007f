package telemetry

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

// receiver is an OTLP/HTTP metrics receiver on 127.0.0.1 that keeps every
// request body it gets, raw and decoded.
type receiver struct {
	URL string

	mu   sync.Mutex
	raw  [][]byte
	reqs []*colmetricpb.ExportMetricsServiceRequest
	errs []error
}

// delay, if set, is how long the receiver waits before answering.
func startReceiver(t testing.TB, delay time.Duration) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{URL: "http://" + ln.Addr().String() + "/v1/metrics"}
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

func (rc *receiver) requests(t testing.TB) []*colmetricpb.ExportMetricsServiceRequest {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, err := range rc.errs {
		t.Errorf("receiver could not decode a request: %v", err)
	}
	return append([]*colmetricpb.ExportMetricsServiceRequest(nil), rc.reqs...)
}

func (rc *receiver) rawBodies() [][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.raw...)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.raw)
}
