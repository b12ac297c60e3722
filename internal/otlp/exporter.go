package otlp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/hms-svc/hms-svc/internal/wait"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// Backoff between tries of a batch: doubling from the first, at most the
// last, each a random wait between half of it and all of it.
const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
)

// Exporter sends the trace events of SVC_TRACE to an OTLP/HTTP endpoint.
// Make one with New and start it with Run; Stats may be read meanwhile.
type Exporter struct {
	cfg   Config
	url   string
	queue chan trace.Event
	ran   atomic.Bool
	warn  *limitedLog

	exported, failed, rejected atomic.Uint64
	pending                    atomic.Int64
	lastErr                    atomic.Pointer[string]
}

// Stats are an Exporter's counters of spans.
type Stats struct {
	// Exported spans the endpoint took.
	Exported uint64
	// Failed spans were dropped after RetryFor of tries that found the
	// endpoint unreachable or busy (429, 502, 503, 504), or when the
	// exporter stopped before it could send them.
	Failed uint64
	// Rejected spans the endpoint refused: every span of a request it
	// answered with another error status, or the spans its partial success
	// counted as rejected. Retrying them would not help.
	Rejected uint64
	// Pending events are queued or in the batch being sent.
	Pending int64
	// LastError is the last failure or rejection, or "".
	LastError string
}

// New returns an Exporter for cfg, or an error wrapping ErrConfig that
// names what is wrong.
func New(cfg Config) (*Exporter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, _ := TracesURL(cfg.Endpoint)
	return &Exporter{cfg: cfg, url: u, queue: make(chan trace.Event, cfg.QueueSize), warn: &limitedLog{log: cfg.Logger}}, nil
}

// URL returns the URL the spans are posted to.
func (e *Exporter) URL() string { return e.url }

// Stats returns the exporter's counters.
func (e *Exporter) Stats() Stats {
	s := Stats{Exported: e.exported.Load(), Failed: e.failed.Load(), Rejected: e.rejected.Load(), Pending: e.pending.Load()}
	if p := e.lastErr.Load(); p != nil {
		s.LastError = *p
	}
	return s
}

// Run follows SVC_TRACE on js from the time from (zero: only events stored
// from now on) and exports every event that trace.Follow passes on, until
// ctx ends; it then sends what is queued within FinalFlush and returns nil.
// It returns Follow's error when the stream cannot be followed (a missing
// stream is rpc.CodeNotFound). Run may be called once.
func (e *Exporter) Run(ctx context.Context, js jetstream.JetStream, from time.Time) error {
	if !e.ran.CompareAndSwap(false, true) {
		return errors.New("otlp: Run called twice")
	}
	// Sending outlives ctx by FinalFlush, for what is queued then.
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(e.cfg.FinalFlush, cancelSend) })
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { e.send(sendCtx) })

	err := trace.Follow(ctx, js, from, func(ev trace.Event) error {
		select {
		case e.queue <- ev:
			e.pending.Add(1)
			return nil
		case <-ctx.Done(): // the queue is full and the exporter stops
			return ctx.Err()
		}
	}, trace.WithScreen(e.cfg.Screen))
	close(e.queue) // Follow has returned: nothing sends on it any more
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// send batches the queued events and exports each batch, until the queue
// is closed and drained; when ctx ends first the events left are counted
// as failed.
func (e *Exporter) send(ctx context.Context) {
	batch := make([]trace.Event, 0, e.cfg.BatchSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var due <-chan time.Time
	flush := func() {
		if len(batch) > 0 {
			e.export(ctx, batch)
			clear(batch)
			batch = batch[:0]
		}
		timer.Stop()
		due = nil
	}
	for {
		select {
		case ev, ok := <-e.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, ev)
			if len(batch) == 1 {
				timer.Reset(e.cfg.FlushInterval)
				due = timer.C
			}
			if len(batch) >= e.cfg.BatchSize || ctx.Err() != nil {
				flush()
			}
		case <-due:
			flush()
		}
	}
}

// export sends one batch, retrying while the endpoint may take it later,
// and counts its spans by outcome.
func (e *Exporter) export(ctx context.Context, batch []trace.Event) {
	n := uint64(len(batch))
	defer e.pending.Add(-int64(n))
	body, err := proto.Marshal(Request(batch))
	if err != nil { // generated messages of valid events always encode
		e.settleRejected(n, fmt.Errorf("encoding %d spans: %w", n, err))
		return
	}
	giveUp := time.Now().Add(e.cfg.RetryFor)
	backoff := firstBackoff
	for try := 1; ; try++ {
		out := e.post(ctx, body)
		if out.err == nil {
			e.exported.Add(n - min(out.rejected, n))
			if out.rejected > 0 {
				e.settleRejected(min(out.rejected, n), fmt.Errorf("the endpoint rejected %d of %d spans: %s", out.rejected, n, out.message))
			}
			return
		}
		if !out.retry {
			e.settleRejected(n, out.err)
			return
		}
		pause := out.after
		if pause == 0 {
			pause = wait.Jitter(backoff)
			backoff = min(2*backoff, maxBackoff)
		}
		if ctx.Err() != nil || time.Now().Add(pause).After(giveUp) || !wait.Sleep(ctx, pause) {
			err := fmt.Errorf("%d spans dropped after %d tries: %w", n, try, out.err)
			e.lastErr.Store(new(err.Error()))
			e.failed.Add(n)
			e.warn.printf("OTLP export failed; the spans are dropped and counted (hms_svc_otlp_spans_failed_total, reason failed)", "url", e.url, "error", err)
			return
		}
	}
}

// settleRejected counts n spans as rejected.
func (e *Exporter) settleRejected(n uint64, err error) {
	e.rejected.Add(n)
	e.lastErr.Store(new(err.Error()))
	e.warn.printf("OTLP endpoint rejected spans; they are dropped and counted (hms_svc_otlp_spans_failed_total, reason rejected)", "url", e.url, "error", err)
}
