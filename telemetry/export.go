package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

// durationBuckets are the histogram bucket bounds of creation durations,
// in seconds.
var durationBuckets = []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200}

type resourceValues struct {
	installID, client, version string
}

type pipelineConfig struct {
	endpoint string
	resource resourceValues
	// gate is asked before every export; data is dropped when it says no.
	gate     func() bool
	interval time.Duration
	// timeout bounds one periodic export.
	timeout time.Duration
}

// pipeline is one meter provider with its instruments, exporting through
// OTLP/HTTP.
type pipeline struct {
	provider  *sdkmetric.MeterProvider
	counters  map[string]metric.Int64Counter
	durations metric.Float64Histogram
}

// newPipeline builds the meter provider. Every knob that the OTLP exporter
// would otherwise take from OTEL_* environment variables (endpoint,
// headers, compression, timeout, retries, resource attributes, exemplars)
// is set explicitly, so nothing from the environment can add data to what
// is documented.
func newPipeline(cfg pipelineConfig) (*pipeline, error) {
	endpoint, err := metricsURL(cfg.endpoint)
	if err != nil {
		return nil, err
	}
	exp, err := otlpmetrichttp.New(context.Background(),
		otlpmetrichttp.WithEndpointURL(endpoint),
		otlpmetrichttp.WithHeaders(map[string]string{}),
		otlpmetrichttp.WithCompression(otlpmetrichttp.NoCompression),
		otlpmetrichttp.WithTimeout(cfg.timeout),
		otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}),
		otlpmetrichttp.WithHTTPClient(&http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: cfg.timeout}).DialContext,
			TLSHandshakeTimeout: cfg.timeout,
			MaxIdleConns:        1,
			IdleConnTimeout:     30 * time.Second,
		}}),
		otlpmetrichttp.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality {
			return metricdata.DeltaTemporality
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("set up the OTLP exporter: %w", err)
	}
	rv := cfg.resource
	res := resource.NewSchemaless(
		attribute.String(keyServiceName, "pitlane"),
		attribute.String(keyServiceVersion, normalizeVersion(rv.version)),
		attribute.String(keyOSType, osType()),
		attribute.String(keyHostArch, hostArch()),
		attribute.String(keyClient, normalizeClient(rv.client)),
		attribute.String(keyInstallID, rv.installID),
	)
	// The SDK merges OTEL_RESOURCE_ATTRIBUTES into the provider's resource;
	// the exporter puts the documented resource back before sending.
	reader := sdkmetric.NewPeriodicReader(gatedExporter{Exporter: exp, gate: cfg.gate, res: res},
		sdkmetric.WithInterval(cfg.interval), sdkmetric.WithTimeout(cfg.timeout))
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(reader),
		sdkmetric.WithExemplarFilter(exemplar.AlwaysOffFilter),
	)
	return newInstruments(provider)
}

func newInstruments(provider *sdkmetric.MeterProvider) (*pipeline, error) {
	m := provider.Meter(ScopeName)
	p := &pipeline{provider: provider, counters: map[string]metric.Int64Counter{}}
	for _, in := range Instruments {
		var err error
		switch in.Kind {
		case "counter":
			p.counters[in.Name], err = m.Int64Counter(in.Name, metric.WithUnit(in.Unit), metric.WithDescription(in.Description))
		case "histogram":
			p.durations, err = m.Float64Histogram(in.Name, metric.WithUnit(in.Unit), metric.WithDescription(in.Description),
				metric.WithExplicitBucketBoundaries(durationBuckets...))
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *pipeline) created(outcome, kind, step string, d time.Duration) {
	ctx := context.Background()
	p.counters[instCreations].Add(ctx, 1, metric.WithAttributes(
		attribute.String(keyOutcome, outcome),
		attribute.String(keyConfigKind, kind),
		attribute.String(keyFailedStep, step)))
	if d > 0 {
		p.durations.Record(ctx, d.Seconds(), metric.WithAttributes(
			attribute.String(keyOutcome, outcome),
			attribute.String(keyConfigKind, kind)))
	}
}

func (p *pipeline) count(name string) { p.counters[name].Add(context.Background(), 1) }

func (p *pipeline) ideOpened(ide string) {
	p.counters[instIDEOpens].Add(context.Background(), 1, metric.WithAttributes(attribute.String(keyIDE, ide)))
}

func (p *pipeline) shutdown(ctx context.Context) error { return p.provider.Shutdown(ctx) }

// metricsURL checks an endpoint and adds the standard OTLP metrics path
// when the URL has none.
func metricsURL(endpoint string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("telemetry endpoint %q is not an http(s) URL: set %s or the endpoint in the settings file to a URL such as https://collector.example/v1/metrics", endpoint, EnvEndpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/metrics"
	}
	return u.String(), nil
}

// gatedExporter drops exports while consent is off, skips exports that
// carry no data points (a process that recorded nothing sends nothing), and
// sends exactly the documented resource.
type gatedExporter struct {
	sdkmetric.Exporter
	gate func() bool
	res  *resource.Resource
}

func (g gatedExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	if g.gate != nil && !g.gate() {
		return nil
	}
	if !hasData(rm) {
		return nil
	}
	out := *rm
	out.Resource = g.res
	return g.Exporter.Export(ctx, &out)
}

func hasData(rm *metricdata.ResourceMetrics) bool {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if len(d.DataPoints) > 0 {
					return true
				}
			case metricdata.Histogram[float64]:
				if len(d.DataPoints) > 0 {
					return true
				}
			default:
				return true
			}
		}
	}
	return false
}

// setOTelErrorSink sends OpenTelemetry's error reports and internal logs to
// the debug level of log instead of stderr.
func setOTelErrorSink(log *slog.Logger) {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Debug("telemetry: export failed", "err", err)
	}))
	otel.SetLogger(logr.Discard())
}
