package booths_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/internal/storestest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// feeTable is the repository's fee table, seen from this package.
var feeTable = filepath.Join("..", "..", "deployments", "fees.yaml")

var testAuditKey = []byte("test-audit-key-0123456789abcdef")

func testConfig() booths.Config {
	return booths.Config{FeeTable: feeTable, AuditKey: testAuditKey, Logger: slog.New(slog.DiscardHandler)}
}

// startServer runs a NATS server with the mesh's stores provisioned, as the
// bridge makes them.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	s := natstest.Start(t)
	storestest.Provision(t, natstest.Connect(t, s), stores.Options{})
	return s
}

// startBooth runs booth name on its own connection to s until the test ends.
func startBooth(t *testing.T, s *server.Server, name string, cfg booths.Config) *rpc.Booth {
	t.Helper()
	nc := natstest.Connect(t, s, nats.Name("test/"+name))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	b, err := booths.Start(ctx, nc, name, cfg)
	if err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Stop(ctx); err != nil {
			t.Errorf("stopping %s: %v", name, err)
		}
	})
	return b
}

// startTogether starts the named booths at the same time, each on its own
// connection, and fails the test (from its own goroutine) if any fails.
func startTogether(t *testing.T, s *server.Server, names ...string) {
	t.Helper()
	errs := make([]error, len(names))
	started := make([]*rpc.Booth, len(names))
	conns := make([]*nats.Conn, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			nc, err := nats.Connect(s.ClientURL())
			if err != nil {
				errs[i] = err
				return
			}
			conns[i] = nc
			started[i], errs[i] = booths.Start(ctx, nc, name, testConfig())
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for i, b := range started {
			if b != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = b.Stop(ctx)
				cancel()
			}
			if conns[i] != nil {
				conns[i].Close()
			}
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("starting %s: %v", names[i], err)
		}
	}
}

// newClient returns a client on its own connection, calling as "gateway"
// with 2 s attempts (the race detector slows JetStream).
func newClient(t *testing.T, s *server.Server) *rpc.Client {
	t.Helper()
	c, err := rpc.NewClient(natstest.Connect(t, s), rpc.WithCaller("gateway"),
		rpc.WithAttemptTimeout(2*time.Second), rpc.WithoutBreaker())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serviceStats gathers $SRV.STATS from the want instances of service.
func serviceStats(t *testing.T, nc *nats.Conn, service string, want int) []micro.Stats {
	t.Helper()
	var (
		mu  sync.Mutex
		got []micro.Stats
	)
	inbox := nats.NewInbox()
	sub, err := nc.Subscribe(inbox, func(m *nats.Msg) {
		var st micro.Stats
		if err := json.Unmarshal(m.Data, &st); err == nil {
			mu.Lock()
			got = append(got, st)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest("$SRV.STATS."+service, inbox, nil); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 2*time.Second, 10*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(got) < want {
			return fmt.Errorf("%d of %d instances of %s answered", len(got), want, service)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	return append([]micro.Stats(nil), got...)
}
