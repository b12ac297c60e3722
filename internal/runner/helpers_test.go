package runner_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// setupConn names the connection of the tests' own setup, which connNames
// leaves out.
const setupConn = "test-setup"

// startServer starts a NATS server with the SVC_TRACE stream the bridge
// makes, so the booths' trace events are stored.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	s := natstest.Start(t)
	js, err := jetstream.New(natstest.Connect(t, s, nats.Name(setupConn)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := trace.EnsureStream(ctx, js, trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 16 << 20, Memory: true}); err != nil {
		t.Fatal(err)
	}
	return s
}
