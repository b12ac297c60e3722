package runner_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/runner"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// Every request a booth handles is measured and traced, those its call
// verifier refuses included, and Stop publishes the trace events before
// the connections close.
func TestBoothsAreMeasuredAndTraced(t *testing.T) {
	s := startServer(t)
	refuse := func(booth string) ([]rpc.BoothOption, error) {
		return []rpc.BoothOption{rpc.WithBoothMiddleware(func(next rpc.Endpoint) rpc.Endpoint {
			return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
				if req.Header.Get(rpc.HeaderCaller) == "intruder" {
					return nil, rpc.Errorf(rpc.CodePermissionDenied, "intruder may not call %s", booth)
				}
				return next(ctx, req)
			}
		})}, nil
	}
	r, err := runner.Start(t.Context(), runner.Config{InsecureNoCredentials: true,
		NATSURL: s.ClientURL(), Booths: []string{"fee-calc"}, FeeTable: feeTable, InstanceName: "test-1",
		MetricsListen: "127.0.0.1:0", BoothOptions: refuse, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = r.Stop(context.Background())
		}
	})

	nc := natstest.Connect(t, s)
	call := func(caller string, sc trace.SpanContext) error {
		c, err := rpc.NewClient(nc, rpc.WithCaller(caller), rpc.WithAttemptTimeout(2*time.Second),
			rpc.WithAttemptMiddleware(trace.ClientMiddleware(nil, caller)))
		if err != nil {
			t.Fatal(err)
		}
		return c.Call(trace.ContextWithSpan(t.Context(), sc), "fee-calc", "/calculate", booths.FeeRequest{LicenseType: "professional-engineer"}, nil)
	}
	ok := span(t, "4bf92f3577b34da6a3ce929d0e0e4736")
	refused := span(t, "0af7651916cd43dd8448eb211c80319c")
	if err := call("gateway", ok); err != nil {
		t.Fatal(err)
	}
	if err := call("intruder", refused); rpc.CodeOf(err) != rpc.CodePermissionDenied {
		t.Fatalf("intruder's call: %v, want 403", err)
	}

	url := "http://" + r.MetricsAddr().String() + "/metrics"
	natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		body := get(t, url)
		for _, want := range []string{
			`hms_svc_booth_requests_total{code="ok",path="/calculate",service="fee-calc"} 1`,
			`hms_svc_booth_requests_total{code="403",path="/calculate",service="fee-calc"} 1`,
			`hms_svc_booth_requests_in_flight{service="fee-calc"} 0`,
			`hms_svc_trace_events_published_total{emitter="fee-calc"} 2`,
			`go_goroutines`,
		} {
			if !strings.Contains(body, want) {
				return fmt.Errorf("/metrics lacks %s", want)
			}
		}
		return nil
	})

	stopped = true
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sc         trace.SpanContext
		wantCaller string
		wantCode   rpc.Code
	}{{ok, "gateway", 0}, {refused, "intruder", rpc.CodePermissionDenied}} {
		events, err := trace.Get(t.Context(), js, tt.sc.TraceID)
		if err != nil || len(events) != 1 {
			t.Fatalf("trace %s: %+v, %v; want the booth's one span", tt.sc.TraceID, events, err)
		}
		ev := events[0]
		if ev.Kind != trace.KindServer || ev.Service != "fee-calc" || ev.Caller != tt.wantCaller || ev.Code != tt.wantCode ||
			ev.Instance != "test-1" || ev.ParentSpanID == tt.sc.SpanID || ev.ParentSpanID.IsZero() {
			t.Errorf("span %+v, want fee-calc's handling for %s with code %d on test-1, child of the caller's attempt", ev, tt.wantCaller, tt.wantCode)
		}
	}
	if _, err := http.Get(url); err == nil {
		t.Errorf("/metrics still served after Stop")
	}
}

// span returns a span context of trace id, as a caller's handler has.
func span(t *testing.T, id string) trace.SpanContext {
	t.Helper()
	tid, err := trace.ParseTraceID(id)
	if err != nil {
		t.Fatal(err)
	}
	sid, err := trace.ParseSpanID("00f067aa0ba902b7")
	if err != nil {
		t.Fatal(err)
	}
	return trace.SpanContext{TraceID: tid, SpanID: sid, Flags: trace.FlagSampled}
}

func get(t *testing.T, url string) string {
	t.Helper()
	_, body := fetch(t, url)
	return body
}

// fetch GETs url and returns the status and the body.
func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// Without the SVC_TRACE stream (no bridge made it) the booths still stop
// cleanly and soon: their trace events are dropped after the flush timeout,
// and counted.
func TestStopWithoutTheTraceStreamDropsAndCounts(t *testing.T) {
	s := natstest.Start(t)
	r, err := runner.Start(t.Context(), runner.Config{InsecureNoCredentials: true,
		NATSURL: s.ClientURL(), Booths: []string{"fee-calc"}, FeeTable: feeTable,
		FlushTimeout: 300 * time.Millisecond, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	client, err := rpc.NewClient(natstest.Connect(t, s), rpc.WithAttemptTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Call(t.Context(), "fee-calc", "/calculate", booths.FeeRequest{LicenseType: "professional-engineer"}, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := r.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v, want a clean stop", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Stop took %v, want about the 300 ms flush timeout", took)
	}
	families, err := r.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var dropped float64
	for _, f := range families {
		if f.GetName() != "hms_svc_trace_events_dropped_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			dropped += m.GetCounter().GetValue()
		}
	}
	if dropped != 1 {
		t.Errorf("%v trace events counted dropped, want the booth's 1", dropped)
	}
}
