package rpc_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// quiet is a logger for booths whose log the test does not read.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startBooth runs a booth for service on its own connection to s; the test
// stops it at cleanup.
func startBooth(t testing.TB, s *server.Server, service string, opts ...rpc.BoothOption) *rpc.Booth {
	t.Helper()
	nc := natstest.Connect(t, s)
	b, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: service, Version: "1.0.0"}, append([]rpc.BoothOption{rpc.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatalf("NewBooth(%s): %v", service, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Stop(ctx); err != nil {
			t.Errorf("stopping booth %s: %v", service, err)
		}
	})
	return b
}

// newClient returns a client on its own connection to s.
func newClient(t testing.TB, s *server.Server, opts ...rpc.Option) *rpc.Client {
	t.Helper()
	c, err := rpc.NewClient(natstest.Connect(t, s), opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// handleRaw serves path on b or fails the test.
func handleRaw(t testing.TB, b *rpc.Booth, path string, h rpc.Endpoint) {
	t.Helper()
	if err := b.HandleRaw(path, h); err != nil {
		t.Fatalf("HandleRaw(%s): %v", path, err)
	}
}

// ok is the reply of handlers that have nothing to say.
func ok() (*rpc.Message, error) { return &rpc.Message{Data: []byte(`{"ok":true}`)}, nil }

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// within returns a context that ends after d, cancelled at cleanup.
func within(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// recv receives from ch, failing the test if nothing comes within 5 s.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("nothing received on %T within 5s", ch)
		panic("unreachable")
	}
}
