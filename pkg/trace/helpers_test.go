package trace

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/natstest"
)

func timeAt(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// recorder is an Emitter that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Emit(ev Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// startJS runs a NATS server with the SVC_TRACE stream and returns it with
// a JetStream context on a connection of its own.
func startJS(t *testing.T) (*server.Server, jetstream.JetStream) {
	t.Helper()
	srv := natstest.Start(t)
	js := jsFor(t, natstest.Connect(t, srv))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := EnsureStream(ctx, js, StreamConfig{MaxAge: time.Hour, MaxBytes: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	return srv, js
}

func jsFor(t testing.TB, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// newPublisher starts a publisher that batches briefly and is closed (and
// so flushed) by t.Cleanup if the test has not closed it.
func newPublisher(t *testing.T, nc *nats.Conn, service string, opts ...PublisherOption) *Publisher {
	t.Helper()
	opts = append([]PublisherOption{WithBatching(100, 5*time.Millisecond)}, opts...)
	p, err := NewPublisher(nc, service, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

func closePublishers(t *testing.T, pubs ...*Publisher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, p := range pubs {
		if err := p.Close(ctx); err != nil {
			t.Fatalf("closing publisher of %s: %v", p.Subject(), err)
		}
		if d := p.Dropped(); d != 0 {
			t.Fatalf("publisher of %s dropped %d events: %s", p.Subject(), d, p.Stats().LastError)
		}
	}
}

// follow collects every event stored from the stream's beginning on, until
// the test ends.
func follow(t *testing.T, js jetstream.JetStream) *recorder {
	t.Helper()
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Follow(ctx, js, time.Unix(1, 0), func(ev Event) error { rec.Emit(ev); return nil }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Follow: %v", err)
		}
	})
	return rec
}
