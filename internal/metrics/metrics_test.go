package metrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/metrics"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/promtest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

type fee struct {
	LicenseType string `json:"license_type"`
	Amount      int    `json:"amount,omitempty"`
}

// startBooth runs a booth of service on a connection of its own, measured
// by m, with extra booth middlewares.
func startBooth(t *testing.T, nc *nats.Conn, m *metrics.Metrics, service string, mw ...rpc.Middleware) *rpc.Booth {
	t.Helper()
	b, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: service, Version: "1.0.0"},
		rpc.WithBoothMiddleware(append([]rpc.Middleware{m.BoothMiddleware()}, mw...)...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	return b
}

// TestMetricsOfRealCalls makes calls through a real NATS server and real
// booths and reads every metric back from a real scrape.
func TestMetricsOfRealCalls(t *testing.T) {
	srv := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	boothMetrics, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}
	callerMetrics, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}

	// fee-calc's handling is traced to SVC_TRACE, and its publisher measured.
	js, err := jetstream.New(natstest.Connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trace.EnsureStream(ctx, js, trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 8 << 20, Memory: true}); err != nil {
		t.Fatal(err)
	}
	feeConn := natstest.Connect(t, srv)
	pub, err := trace.NewPublisher(feeConn, "fee-calc", trace.WithBatching(10, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close(context.Background()) })
	if err := boothMetrics.TracePublisher("fee-calc", pub); err != nil {
		t.Fatal(err)
	}
	if err := boothMetrics.TracePublisher("fee-calc", pub); err == nil {
		t.Fatal("adding fee-calc's publisher twice: no error")
	}
	// A closed publisher drops what it is given, and says so.
	closed, err := trace.NewPublisher(natstest.Connect(t, srv), "payment")
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(ctx); err != nil {
		t.Fatal(err)
	}
	closed.Emit(trace.Event{})
	closed.Emit(trace.Event{})
	if err := boothMetrics.TracePublisher("payment", closed); err != nil {
		t.Fatal(err)
	}

	feeCalc := startBooth(t, feeConn, boothMetrics, "fee-calc", trace.ServerMiddleware(pub, "fee-calc-1"))
	mustHandle(t, rpc.Handle(feeCalc, "/calculate", func(ctx context.Context, req *fee) (*fee, error) {
		return &fee{LicenseType: req.LicenseType, Amount: 125}, nil
	}))
	mustHandle(t, rpc.Handle(feeCalc, "/refuse", func(ctx context.Context, req *fee) (*fee, error) {
		return nil, rpc.Errorf(rpc.CodeConflict, "already charged")
	}))
	release := make(chan struct{})
	payment := startBooth(t, natstest.Connect(t, srv), boothMetrics, "payment")
	mustHandle(t, rpc.Handle(payment, "/hold", func(ctx context.Context, req *fee) (*fee, error) {
		select {
		case <-release:
			return req, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}))
	mustHandle(t, rpc.Handle(payment, "/panic", func(ctx context.Context, req *fee) (*fee, error) {
		panic("handler bug")
	}))
	audit := startBooth(t, natstest.Connect(t, srv), boothMetrics, "audit-log")
	mustHandle(t, rpc.Handle(audit, "/record", func(ctx context.Context, req *fee) (*fee, error) {
		<-ctx.Done() // never answers in time: every attempt times out
		return nil, ctx.Err()
	}))

	client, err := rpc.NewClient(natstest.Connect(t, srv),
		rpc.WithCaller("gateway"),
		rpc.WithAttemptTimeout(100*time.Millisecond),
		rpc.WithRetries(2, time.Millisecond),
		rpc.WithBreaker(rpc.BreakerSettings{Failures: 1, OpenFor: time.Minute, HalfOpenCalls: 1,
			OnStateChange: callerMetrics.BreakerStateChange}),
		rpc.WithCallMiddleware(callerMetrics.ClientMiddleware()),
		rpc.WithAttemptMiddleware(callerMetrics.AttemptMiddleware()))
	if err != nil {
		t.Fatal(err)
	}

	for range 3 {
		if err := client.Call(ctx, "fee-calc", "/calculate", fee{LicenseType: "professional-engineer"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Call(ctx, "fee-calc", "refuse", fee{}, nil); rpc.CodeOf(err) != rpc.CodeConflict {
		t.Fatalf("fee-calc /refuse: %v, want 409", err)
	}

	caller, booths := newScraper(t, callerMetrics), newScraper(t, boothMetrics)

	// A call in flight shows on both sides until it is answered.
	held := make(chan error, 1)
	go func() { held <- client.Call(ctx, "payment", "/hold", fee{}, nil) }()
	natstest.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		return errors.Join(
			caller.families().expect("hms_svc_client_requests_in_flight", map[string]string{"service": "payment"}, 1),
			booths.families().expect("hms_svc_booth_requests_in_flight", map[string]string{"service": "payment"}, 1))
	})
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}

	// A handler's panic is a 500, and a failure for the breaker.
	if err := client.Call(ctx, "payment", "/panic", fee{}, nil); rpc.CodeOf(err) != rpc.CodeInternal {
		t.Fatalf("payment /panic: %v, want 500", err)
	}
	// Every attempt on audit-log times out: two retries, then the breaker opens.
	if err := client.Call(ctx, "audit-log", "/record", fee{}, nil); rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
		t.Fatalf("audit-log /record: %v, want 504", err)
	}

	type series struct {
		name   string
		labels map[string]string
		want   float64
	}
	l := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	callerWant := []series{
		{"hms_svc_client_requests_total", l("service", "fee-calc", "path", "/calculate", "code", "ok"), 3},
		{"hms_svc_client_requests_total", l("service", "fee-calc", "path", "/refuse", "code", "409"), 1},
		{"hms_svc_client_requests_total", l("service", "payment", "path", "/hold", "code", "ok"), 1},
		{"hms_svc_client_requests_total", l("service", "payment", "path", "/panic", "code", "500"), 1},
		{"hms_svc_client_requests_total", l("service", "audit-log", "path", "/record", "code", "504"), 1},
		{"hms_svc_client_request_duration_seconds", l("service", "fee-calc", "path", "/calculate"), 3},
		{"hms_svc_client_request_duration_seconds", l("service", "audit-log", "path", "/record"), 1},
		{"hms_svc_client_requests_in_flight", l("service", "payment"), 0},
		{"hms_svc_client_requests_in_flight", l("service", "audit-log"), 0},
		{"hms_svc_client_attempts_total", l("service", "fee-calc", "path", "/calculate", "code", "ok"), 3},
		{"hms_svc_client_attempts_total", l("service", "audit-log", "path", "/record", "code", "504"), 3},
		{"hms_svc_client_retries_total", l("service", "audit-log", "path", "/record"), 2},
		{"hms_svc_breaker_state_changes_total", l("service", "audit-log", "from", "closed", "to", "open"), 1},
		{"hms_svc_breaker_state", l("service", "audit-log"), 2},
		{"hms_svc_breaker_state", l("service", "payment"), 2},
	}
	boothWant := []series{
		{"hms_svc_booth_requests_total", l("service", "fee-calc", "path", "/calculate", "code", "ok"), 3},
		{"hms_svc_booth_requests_total", l("service", "fee-calc", "path", "/refuse", "code", "409"), 1},
		{"hms_svc_booth_requests_total", l("service", "payment", "path", "/hold", "code", "ok"), 1},
		{"hms_svc_booth_requests_total", l("service", "payment", "path", "/panic", "code", "500"), 1},
		{"hms_svc_booth_requests_total", l("service", "audit-log", "path", "/record", "code", "504"), 3},
		{"hms_svc_booth_request_duration_seconds", l("service", "fee-calc", "path", "/calculate"), 3},
		{"hms_svc_booth_requests_in_flight", l("service", "audit-log"), 0},
		{"hms_svc_trace_events_published_total", l("emitter", "fee-calc"), 4},
		{"hms_svc_trace_events_dropped_total", l("emitter", "fee-calc", "reason", "full"), 0},
		{"hms_svc_trace_events_pending", l("emitter", "fee-calc"), 0},
		{"hms_svc_trace_events_dropped_total", l("emitter", "payment", "reason", "full"), 2},
		{"hms_svc_trace_events_dropped_total", l("emitter", "payment", "reason", "failed"), 0},
	}
	check := func(s *scraper, want []series) func() error {
		return func() error {
			f := s.families()
			var errs []error
			for _, w := range want {
				errs = append(errs, f.expect(w.name, w.labels, w.want))
			}
			return errors.Join(errs...)
		}
	}
	// The booths and the trace publisher finish after the caller has its
	// answer: wait for them.
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, check(booths, boothWant))
	if err := check(caller, callerWant)(); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*scraper{"caller": caller, "booths": booths} {
		text := s.text()
		t.Run("promtool/"+name, func(t *testing.T) { promtest.Check(t, name, []byte(text)) })
	}
}

func mustHandle(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
