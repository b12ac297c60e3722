package otlp_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/otlp"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// receiver is an OTLP/HTTP traces endpoint on loopback: it decodes every
// request and answers as answer says for the n-th request (1-based).
type receiver struct {
	url    string
	mu     sync.Mutex
	spans  map[string]int // span id -> times received
	posts  atomic.Int32
	answer func(n int32, w http.ResponseWriter) bool // false: answer 200
}

func newReceiver(t *testing.T, answer func(n int32, w http.ResponseWriter) bool) *receiver {
	t.Helper()
	r := &receiver{spans: map[string]int{}, answer: answer}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if req.Method != http.MethodPost || req.URL.Path != otlp.TracesPath || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "want POST /v1/traces of application/x-protobuf", http.StatusBadRequest)
			return
		}
		n := r.posts.Add(1)
		if r.answer != nil && r.answer(n, w) {
			return
		}
		var td tracepb.TracesData
		if err := proto.Unmarshal(body, &td); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range td.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					r.spans[fmt.Sprintf("%x", s.GetSpanId())]++
				}
			}
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(ts.Close)
	r.url = ts.URL
	return r
}

// received returns how many distinct spans came, and how many came twice.
func (r *receiver) received() (distinct, repeated int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.spans {
		if n > 1 {
			repeated++
		}
	}
	return len(r.spans), repeated
}

// stream starts NATS with SVC_TRACE and returns it with a publisher of
// fee-calc's trace events.
func stream(t *testing.T) (jetstream.JetStream, *trace.Publisher) {
	t.Helper()
	srv := natstest.Start(t)
	js, err := jetstream.New(natstest.Connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trace.EnsureStream(t.Context(), js, trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 16 << 20, Memory: true}); err != nil {
		t.Fatal(err)
	}
	pub, err := trace.NewPublisher(natstest.Connect(t, srv), "fee-calc", trace.WithBatching(10, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close(context.Background()) })
	return js, pub
}

// emit publishes n server spans of fee-calc, each its own trace.
func emit(pub *trace.Publisher, n int, service string) {
	now := time.Now().UTC()
	for i := range n {
		var ev trace.Event
		ev.TraceID[0], ev.TraceID[15] = 1, byte(i)
		ev.SpanID[0], ev.SpanID[6], ev.SpanID[7] = 2, byte(i>>8), byte(i)
		ev.Kind, ev.Service, ev.Path, ev.Attempt = trace.KindServer, service, "/calculate", 1
		ev.Start, ev.Stop = now, now.Add(time.Millisecond)
		ev.DurationUS = 1000
		pub.Emit(ev)
	}
}

// run starts e on js, following from now, until the test ends; stop ends
// it and returns Run's result.
func run(t *testing.T, e *otlp.Exporter, js jetstream.JetStream) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	from := time.Now()
	go func() { done <- e.Run(ctx, js, from) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func newExporter(t *testing.T, cfg otlp.Config) *otlp.Exporter {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	e, err := otlp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func checkStats(e *otlp.Exporter, want otlp.Stats) func() error {
	return func() error {
		got := e.Stats()
		got.LastError = ""
		if got != want {
			return fmt.Errorf("stats %+v, want %+v", got, want)
		}
		return nil
	}
}

// Every span reaches the endpoint once, through answers that ask for a
// retry (503 twice, then 429 with Retry-After), in batches of at most
// BatchSize; the events fee-calc may not have made are withheld and
// counted by the Screen.
func TestEverySpanArrivesOnceThroughRetries(t *testing.T) {
	t.Parallel()
	js, pub := stream(t)
	rcv := newReceiver(t, func(n int32, w http.ResponseWriter) bool {
		switch n {
		case 1, 2:
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return true
		case 3:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return true
		}
		return false
	})
	screen := trace.NewScreen(nil)
	e := newExporter(t, otlp.Config{Endpoint: rcv.url, BatchSize: 7, FlushInterval: 10 * time.Millisecond, Screen: screen})
	run(t, e, js)
	emit(pub, 30, "fee-calc")
	emit(pub, 2, "payment") // forged: fee-calc may not record payment's handling
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, checkStats(e, otlp.Stats{Exported: 30}))
	if distinct, repeated := rcv.received(); distinct != 30 || repeated != 0 {
		t.Errorf("the endpoint got %d distinct spans, %d of them twice; want 30 once each", distinct, repeated)
	}
	if got := screen.Rejected(trace.RejectServerOfAnother); got != 2 {
		t.Errorf("the Screen counted %d forged events, want 2", got)
	}
}

// An answer that no retry mends (400) rejects its batch's spans; a partial
// success rejects those it counts; an endpoint down for longer than
// RetryFor fails the batch. Each is counted, and the exporter goes on.
func TestRejectedAndFailedSpansAreCounted(t *testing.T) {
	t.Parallel()
	t.Run("rejected", func(t *testing.T) {
		t.Parallel()
		js, pub := stream(t)
		rcv := newReceiver(t, func(n int32, w http.ResponseWriter) bool {
			switch n {
			case 1:
				http.Error(w, "malformed", http.StatusBadRequest)
				return true
			case 2:
				w.Header().Set("Content-Type", "application/x-protobuf")
				ps := protowire.AppendTag(nil, 1, protowire.VarintType)
				ps = protowire.AppendVarint(ps, 3)
				ps = protowire.AppendTag(ps, 2, protowire.BytesType)
				ps = protowire.AppendString(ps, "three spans too old")
				b := protowire.AppendTag(nil, 1, protowire.BytesType)
				_, _ = w.Write(protowire.AppendBytes(b, ps))
				return true
			}
			return false
		})
		e := newExporter(t, otlp.Config{Endpoint: rcv.url, BatchSize: 10, FlushInterval: time.Hour})
		run(t, e, js)
		emit(pub, 30, "fee-calc") // three full batches
		natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, checkStats(e, otlp.Stats{Exported: 17, Rejected: 13}))
		if s := e.Stats(); !contains(s.LastError, "three spans too old") {
			t.Errorf("last error %q, want the partial success's message", s.LastError)
		}
	})
	t.Run("failed", func(t *testing.T) {
		t.Parallel()
		js, pub := stream(t)
		rcv := newReceiver(t, func(n int32, w http.ResponseWriter) bool {
			if n <= 3 {
				http.Error(w, "down", http.StatusBadGateway)
				return true
			}
			return false
		})
		e := newExporter(t, otlp.Config{Endpoint: rcv.url, BatchSize: 5, FlushInterval: time.Hour, RetryFor: 250 * time.Millisecond})
		run(t, e, js)
		emit(pub, 10, "fee-calc")
		natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			s := e.Stats()
			if s.Exported+s.Failed != 10 || s.Failed == 0 || s.Failed%5 != 0 {
				return fmt.Errorf("stats %+v, want 10 spans settled, whole batches failed", s)
			}
			return nil
		})
		if s := e.Stats(); !contains(s.LastError, "502 Bad Gateway") {
			t.Errorf("last error %q, want the endpoint's 502", s.LastError)
		}
	})
}

// While the endpoint does not answer, the exporter holds at most its queue
// and one batch, and reads no further: the events wait in the stream, and
// all arrive once it answers again.
func TestAStalledEndpointHoldsMemoryBoundedAndLosesNothing(t *testing.T) {
	t.Parallel()
	js, pub := stream(t)
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free)
	rcv := newReceiver(t, func(n int32, w http.ResponseWriter) bool {
		<-release
		return false
	})
	const queue, batch = 8, 4
	e := newExporter(t, otlp.Config{Endpoint: rcv.url, BatchSize: batch, QueueSize: queue, FlushInterval: time.Millisecond, Timeout: time.Minute})
	stop := run(t, e, js)
	emit(pub, 100, "fee-calc")
	// The first request reaches the endpoint a moment after the exporter
	// counts its batch pending: wait for both.
	held := checkStats(e, otlp.Stats{Pending: queue + batch})
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if err := held(); err != nil {
			return err
		}
		if n := rcv.posts.Load(); n == 0 {
			return fmt.Errorf("no request sent yet")
		}
		return nil
	})
	if n := rcv.posts.Load(); n != 1 {
		t.Errorf("%d requests sent while the first hangs, want 1", n)
	}
	free()
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, checkStats(e, otlp.Stats{Exported: 100}))
	if distinct, repeated := rcv.received(); distinct != 100 || repeated != 0 {
		t.Errorf("the endpoint got %d distinct spans, %d twice; want 100 once each", distinct, repeated)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}
