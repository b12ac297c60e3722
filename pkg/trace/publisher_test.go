package trace

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// event returns a valid event of trace tid for publisher tests.
func event(tid TraceID, i int) Event {
	now := time.Now()
	return Event{TraceID: tid, SpanID: newSpanID(), Kind: KindServer, Service: "fee-calc",
		Path: "/calculate", Attempt: 1, RequestID: fmt.Sprint("req-", i), Start: now, Stop: now}
}

func TestPublisherRejectsBadConfig(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nc := natstest.Connect(t, srv)
	tests := []struct {
		name    string
		service string
		opts    []PublisherOption
		want    string
	}{
		{"reserved service", "trace", nil, "reserved"},
		{"bad service", "Fee.Calc", nil, "service"},
		{"zero buffer", "fee-calc", []PublisherOption{WithBuffer(0)}, "buffer"},
		{"huge batch", "fee-calc", []PublisherOption{WithBatching(20000, time.Millisecond)}, "batch size"},
		{"zero in flight", "fee-calc", []PublisherOption{WithMaxInFlight(0)}, "max in flight"},
		{"zero tries", "fee-calc", []PublisherOption{WithPublishTries(0, time.Millisecond)}, "tries"},
		{"zero ack timeout", "fee-calc", []PublisherOption{WithAckTimeout(0)}, "ack timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPublisher(nc, tt.service, tt.opts...)
			if err == nil {
				_ = p.Close(context.Background())
				t.Fatalf("NewPublisher accepted %s", tt.name)
			}
			if !strings.Contains(err.Error(), tt.want) || rpc.CodeOf(err) != rpc.CodeBadRequest {
				t.Errorf("error %q (code %d) does not name %q with code 400", err, rpc.CodeOf(err), tt.want)
			}
		})
	}
}

func TestEnsureStream(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	js := jsFor(t, natstest.Connect(t, srv))
	ctx := context.Background()
	if _, err := EnsureStream(ctx, js, StreamConfig{Replicas: 2 * 3}); err == nil || !strings.Contains(err.Error(), "Replicas") {
		t.Errorf("Replicas 6 accepted: %v", err)
	}
	if _, err := EnsureStream(ctx, js, StreamConfig{MaxBytes: 10}); err == nil || !strings.Contains(err.Error(), "MaxBytes") {
		t.Errorf("MaxBytes 10 accepted: %v", err)
	}
	s, err := EnsureStream(ctx, js, StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	if cfg.MaxAge != DefaultMaxAge || cfg.MaxBytes != DefaultMaxBytes || cfg.Replicas != 1 || cfg.Subjects[0] != "svc.trace.>" || !cfg.AllowDirect {
		t.Errorf("default stream config %+v", cfg)
	}
	// Running it again updates the limits.
	s, err = EnsureStream(ctx, js, StreamConfig{MaxAge: time.Hour, MaxBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if cfg := s.CachedInfo().Config; cfg.MaxAge != time.Hour || cfg.MaxBytes != 8<<20 {
		t.Errorf("updated stream has MaxAge %v MaxBytes %d, want 1h and 8 MiB", cfg.MaxAge, cfg.MaxBytes)
	}
}

// The NATS server restarts (same port, same store) while events are
// emitted: every event emitted is published once and read back once.
func TestNoEventLostAcrossServerRestart(t *testing.T) {
	dir := t.TempDir()
	srv := natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: dir})
	port := srv.Addr().(*net.TCPAddr).Port
	nc := natstest.Connect(t, srv, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	js := jsFor(t, nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := EnsureStream(ctx, js, StreamConfig{MaxAge: time.Hour, MaxBytes: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	pub := newPublisher(t, nc, "fee-calc", WithBuffer(10000), WithAckTimeout(time.Second), WithPublishTries(20, 50*time.Millisecond))
	live := follow(t, jsFor(t, natstest.Connect(t, srv, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))))
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		s, err := js.Stream(ctx, "SVC_TRACE")
		if err == nil && s.CachedInfo().State.Consumers != 1 {
			err = fmt.Errorf("Follow's consumer is not there yet")
		}
		return err
	})
	tid := newTraceID(time.Now())
	const per = 1000
	emit := func(from int) {
		for i := from; i < from+per; i++ {
			pub.Emit(event(tid, i))
			if i%100 == 0 {
				runtime.Gosched() // let batches leave while emitting
			}
		}
	}
	emit(0)
	srv.Shutdown()
	srv.WaitForShutdown()
	emit(per) // while the server is down
	natstest.StartWith(t, embednats.Config{Port: port, StoreDir: dir})
	emit(2 * per) // while the client reconnects
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if nc.Stats().Reconnects < 1 {
		t.Fatal("the client never reconnected: the restart was not exercised")
	}
	if st := pub.Stats(); st.Published != 3*per || pub.Dropped() != 0 || st.Pending != 0 {
		t.Fatalf("stats %+v, want %d published, none dropped or pending", st, 3*per)
	}
	got, err := Get(ctx, js, tid)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range got {
		seen[e.RequestID] = true
	}
	if len(got) != 3*per || len(seen) != 3*per {
		t.Fatalf("Get read %d events (%d distinct), want %d published", len(got), len(seen), 3*per)
	}
	// The live reader, following through the restart, saw each once too.
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		all := live.all()
		seen := map[string]bool{}
		for _, e := range all {
			seen[e.RequestID] = true
		}
		if len(all) != 3*per || len(seen) != 3*per {
			return fmt.Errorf("Follow read %d events (%d distinct), want %d", len(all), len(seen), 3*per)
		}
		return nil
	})
}

// JetStream never acknowledges (a subscriber swallows the messages and no
// stream stores them): Emit still returns at once, the publisher holds no
// more than its capacity, and every event is either pending or counted as
// dropped.
func TestStalledJetStreamNeverBlocksEmit(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t) // no SVC_TRACE stream
	sink := natstest.Connect(t, srv)
	if _, err := sink.Subscribe("svc.trace.>", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	pub := newPublisher(t, natstest.Connect(t, srv), "fee-calc",
		WithBuffer(1000), WithBatching(100, time.Millisecond), WithMaxInFlight(2), WithAckTimeout(time.Minute))
	// Let the publisher fill its in-flight window and block on it.
	tid := newTraceID(time.Now())
	for i := range 300 {
		pub.Emit(event(tid, i))
	}
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if n := len(pub.slots); n != 2 {
			return fmt.Errorf("%d batches in flight, want 2", n)
		}
		return nil
	})

	const n = 100_000
	ev := event(tid, 0)
	var slowest time.Duration
	start := time.Now()
	for range n {
		t0 := time.Now()
		pub.Emit(ev)
		slowest = max(slowest, time.Since(t0))
	}
	took := time.Since(start)
	t.Logf("%d Emits while stalled: %v in all, %v per Emit, slowest %v", n, took, took/n, slowest)
	if took > 2*time.Second {
		t.Errorf("%d Emits took %v while JetStream was stalled", n, took)
	}

	emitted := uint64(300 + n)
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if got := pub.Dropped() + uint64(pub.Pending()); got != emitted {
			return fmt.Errorf("dropped %d + pending %d = %d, want %d emitted", pub.Dropped(), pub.Pending(), got, emitted)
		}
		return nil
	})
	if p := pub.Pending(); p > int64(pub.Capacity()) || p < 1000 {
		t.Errorf("pending %d, want at least the buffer (1000) and at most the capacity %d", p, pub.Capacity())
	}
	if pub.Published() != 0 {
		t.Errorf("published %d without a stream", pub.Published())
	}
	// Closing gives up when its ctx ends: the rest is counted as dropped.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := pub.Close(ctx); rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
		t.Errorf("Close = %v, want a deadline error", err)
	}
	if pub.Dropped() != emitted || pub.Pending() != 0 {
		t.Errorf("after Close: dropped %d pending %d, want %d dropped, 0 pending", pub.Dropped(), pub.Pending(), emitted)
	}
	pub.Emit(ev)
	if pub.Dropped() != emitted+1 {
		t.Errorf("Emit after Close not counted as dropped")
	}
}

// No stream takes the subject: each batch fails, is retried a bounded number
// of times, then its events are counted as dropped with the reason kept.
func TestMissingStreamDropsAfterBoundedTries(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	pub := newPublisher(t, natstest.Connect(t, srv), "fee-calc", WithPublishTries(3, time.Millisecond))
	tid := newTraceID(time.Now())
	for i := range 250 {
		pub.Emit(event(tid, i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := pub.Stats()
	if st.Published != 0 || st.DroppedFailed != 250 || st.DroppedFull != 0 {
		t.Fatalf("stats %+v, want 250 dropped after failing", st)
	}
	if !strings.Contains(st.LastError, "no response from stream") {
		t.Errorf("last error %q does not say the stream did not answer", st.LastError)
	}
}

// On a three-node cluster the stream has three replicas, and events survive
// the loss of the stream's leader.
func TestReplicatedStreamOnCluster(t *testing.T) {
	c := natstest.StartCluster(t, 3, nil)
	nc, err := nats.Connect(c.URLs(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js := jsFor(t, nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := EnsureStream(ctx, js, StreamConfig{Replicas: 3, MaxAge: time.Hour, MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.Replicas; got != 3 {
		t.Fatalf("stream has %d replicas, want 3", got)
	}
	pub := newPublisher(t, nc, "fee-calc", WithAckTimeout(time.Second), WithPublishTries(30, 50*time.Millisecond))
	tid := newTraceID(time.Now())
	for i := range 50 {
		pub.Emit(event(tid, i))
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if pub.Published() != 50 {
			return fmt.Errorf("%d published, want 50", pub.Published())
		}
		return nil
	})
	leader := c.StreamLeader("SVC_TRACE")
	if leader < 0 {
		t.Fatal("no stream leader")
	}
	c.Stop(leader)
	for i := 50; i < 100; i++ {
		pub.Emit(event(tid, i))
	}
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if pub.Published() != 100 || pub.Dropped() != 0 {
		t.Fatalf("published %d dropped %d, want 100 and 0: %s", pub.Published(), pub.Dropped(), pub.Stats().LastError)
	}
	var got []Event
	natstest.CheckFor(t, 15*time.Second, 100*time.Millisecond, func() error {
		got, err = Get(ctx, js, tid)
		if err == nil && len(got) != 100 {
			err = fmt.Errorf("read %d events, want 100", len(got))
		}
		return err
	})
}

// Batches are cut before a message could outgrow the server's maximum
// payload, and invalid events are dropped and counted, not published.
func TestPublisherBoundsMessagesAndDropsInvalidEvents(t *testing.T) {
	t.Parallel()
	srv, js := startJS(t)
	nc := natstest.Connect(t, srv)
	pub := newPublisher(t, nc, "fee-calc", WithBatching(1000, 50*time.Millisecond))
	tid := newTraceID(time.Now())
	const n = 300
	for i := range n {
		ev := event(tid, i)
		ev.Path = "/" + strings.Repeat("\x01", 5000) // clamped, and six bytes each once escaped
		ev.Error = strings.Repeat("e", 1000)
		pub.Emit(ev)
	}
	pub.Emit(Event{TraceID: tid, SpanID: newSpanID(), Kind: KindServer}) // no service, path or times
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := pub.Stats(); st.Published != n || st.DroppedInvalid != 1 || !strings.Contains(st.LastError, "service is missing") {
		t.Fatalf("stats %+v, want %d published and the invalid event dropped", st, n)
	}
	s, err := js.Stream(ctx, "SVC_TRACE")
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.CachedInfo().State.Msgs
	for seq := uint64(1); seq <= msgs; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if size := len(m.Data); size > int(nc.MaxPayload())*3/4 {
			t.Errorf("message %d has %d bytes, over the budget", seq, size)
		}
	}
	if msgs < 2 {
		t.Errorf("%d events of ~7 KB each went in %d message(s), want several", n, msgs)
	}
	got, err := Get(ctx, js, tid)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n || len(got[0].Path) != maxPathLen || len(got[0].Error) > maxErrorText+len("…") {
		t.Errorf("read %d events, path %d bytes, error %d bytes; want %d clamped events", len(got), len(got[0].Path), len(got[0].Error), n)
	}
}

// Calls flow through gateway -> license-printer -> audit-log while the NATS
// server restarts: every event the three publishers emitted is published,
// and the stream holds exactly those, once each.
func TestNoEventLostWhileCallsFlowAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	srv := natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: dir})
	port := srv.Addr().(*net.TCPAddr).Port
	reconnect := []nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(20 * time.Millisecond)}
	js := jsFor(t, natstest.Connect(t, srv, reconnect...))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := EnsureStream(ctx, js, StreamConfig{MaxAge: time.Hour, MaxBytes: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	c := startChain(t, srv, func(name string, nc *nats.Conn) Emitter {
		return newPublisher(t, nc, name, WithAckTimeout(time.Second), WithPublishTries(20, 50*time.Millisecond))
	}, reconnect...)

	callCtx := context.Background()
	calls := func(n int) (ok int) {
		for range n {
			cctx, cancel := context.WithTimeout(callCtx, 200*time.Millisecond)
			if c.gateway.Call(cctx, "license-printer", "/generate", printReq{Name: "Avery Johnson"}, nil) == nil {
				ok++
			}
			cancel()
		}
		return ok
	}
	before := calls(50)
	srv.Shutdown()
	srv.WaitForShutdown()
	during := calls(5) // refused: no server
	natstest.StartWith(t, embednats.Config{Port: port, StoreDir: dir})
	var after int
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if after += calls(1); after == 0 {
			return fmt.Errorf("no call succeeds yet after the restart")
		}
		return nil
	})
	after += calls(50)
	t.Logf("calls that succeeded: %d before, %d while down, %d after the restart", before, during, after)
	if before != 50 || during != 0 {
		t.Errorf("%d calls before and %d while down succeeded, want 50 and 0", before, during)
	}

	c.stopBooths(t)
	pubs := []*Publisher{c.pubGW, c.pubLic, c.pubAud}
	closePublishers(t, pubs...) // fails on any drop
	var published uint64
	for _, p := range pubs {
		published += p.Published()
	}
	read := follow(t, js)
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		all := read.all()
		spans := map[SpanID]bool{}
		for _, e := range all {
			spans[e.SpanID] = true
		}
		if uint64(len(all)) != published || len(spans) != len(all) {
			return fmt.Errorf("read %d events (%d distinct), want the %d published", len(all), len(spans), published)
		}
		return nil
	})
	// Each successful call is four hops; failed attempts add client events.
	if least := uint64(4 * (before + after)); published < least {
		t.Errorf("published %d events, want at least %d for %d successful calls", published, least, before+after)
	}
}
