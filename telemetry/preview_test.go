package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/pitlane/pitlane/telemetry/telemetrytest"
)

// TestPreviewIsWhatIsSent checks that preview prints, as OTLP JSON, the same
// request a real session with the same activity sends to a receiver
// (timestamps aside).
func TestPreviewIsWhatIsSent(t *testing.T) {
	cleanEnv(t)
	rc := telemetrytest.Start(t, 0)
	r := newRecorder(t, rc, "jetbrains")
	enable(t, r)
	must(t, r.SetIDEConsent(true, true))

	var out bytes.Buffer
	fresh, err := r.Preview(context.Background(), &out)
	must(t, err)
	if fresh {
		t.Error("preview made up an install id although one is stored")
	}
	if rc.Count() != 0 {
		t.Error("preview sent something to the configured endpoint")
	}
	var previewed []*colmetricpb.ExportMetricsServiceRequest
	dec := json.NewDecoder(&out)
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("preview output is not JSON: %v", err)
		}
		var req colmetricpb.ExportMetricsServiceRequest
		if err := protojson.Unmarshal(raw, &req); err != nil {
			t.Fatalf("preview output is not an OTLP request: %v", err)
		}
		previewed = append(previewed, &req)
	}
	checkPayload(t, previewed, "jetbrains")

	// The same session, recorded for real.
	r.WorkspaceCreated("success", "devcontainer", "", 42*time.Second)
	r.WorkspaceCreated("failure", "dockerfile", "build", 17*time.Second)
	r.WorkspaceStarted()
	r.WorkspaceStopped()
	r.IDEOpened("vscode")
	r.WorkspaceDeleted()
	shutdown(t, r)
	sent := rc.Requests(t)
	if len(sent) != 1 || len(previewed) != 1 {
		t.Fatalf("sent %d requests, previewed %d; want 1 each", len(sent), len(previewed))
	}
	a, b := comparable(previewed[0]), comparable(sent[0])
	if !proto.Equal(a, b) {
		t.Errorf("preview differs from what is sent:\npreview: %v\nsent:    %v", a, b)
	}
}

func TestPreviewWithoutInstallID(t *testing.T) {
	cleanEnv(t)
	r := New(Options{ConfigDir: t.TempDir()})
	var out bytes.Buffer
	fresh, err := r.Preview(context.Background(), &out)
	must(t, err)
	if !fresh {
		t.Error("preview did not say its install id is made up")
	}
	if r.Status().InstallID != "" {
		t.Error("preview stored an install id")
	}
}

// comparable returns a copy of req with timestamps cleared and data points
// in a fixed order.
func comparable(req *colmetricpb.ExportMetricsServiceRequest) *colmetricpb.ExportMetricsServiceRequest {
	req = proto.Clone(req).(*colmetricpb.ExportMetricsServiceRequest)
	for _, rm := range req.ResourceMetrics {
		for _, sm := range rm.ScopeMetrics {
			sort.Slice(sm.Metrics, func(i, j int) bool { return sm.Metrics[i].Name < sm.Metrics[j].Name })
			for _, m := range sm.Metrics {
				switch d := m.Data.(type) {
				case *metricpb.Metric_Sum:
					for _, dp := range d.Sum.DataPoints {
						dp.StartTimeUnixNano, dp.TimeUnixNano = 0, 0
					}
					sort.Slice(d.Sum.DataPoints, func(i, j int) bool {
						return fmt.Sprint(d.Sum.DataPoints[i].Attributes) < fmt.Sprint(d.Sum.DataPoints[j].Attributes)
					})
				case *metricpb.Metric_Histogram:
					for _, dp := range d.Histogram.DataPoints {
						dp.StartTimeUnixNano, dp.TimeUnixNano = 0, 0
					}
					sort.Slice(d.Histogram.DataPoints, func(i, j int) bool {
						return fmt.Sprint(d.Histogram.DataPoints[i].Attributes) < fmt.Sprint(d.Histogram.DataPoints[j].Attributes)
					})
				}
			}
		}
	}
	return req
}
