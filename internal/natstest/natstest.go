// Package natstest starts real NATS servers in-process for tests: port -1,
// JetStream stores in t.TempDir(), shut down by t.Cleanup.
package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/embednats"
)

// Start runs an embedded NATS server with JetStream for the test.
func Start(tb testing.TB) *server.Server {
	tb.Helper()
	return StartWith(tb, embednats.Config{Port: -1, StoreDir: tb.TempDir()})
}

// StartWith runs an embedded server with cfg for the test.
func StartWith(tb testing.TB, cfg embednats.Config) *server.Server {
	tb.Helper()
	s, err := embednats.Start(cfg)
	if err != nil {
		tb.Fatalf("starting NATS: %v", err)
	}
	tb.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// Connect opens a connection to s, closed by t.Cleanup.
func Connect(tb testing.TB, s *server.Server, opts ...nats.Option) *nats.Conn {
	tb.Helper()
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		tb.Fatalf("connecting to NATS: %v", err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// CheckFor calls fn every interval until it returns nil, and fails the test
// with fn's last error if timeout passes first.
func CheckFor(tb testing.TB, timeout, interval time.Duration, fn func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met after %v: %v", timeout, err)
		}
		time.Sleep(interval)
	}
}
