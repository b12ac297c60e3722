package runner_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/internal/storestest"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// setupConn names the connection of the tests' own setup, which connNames
// leaves out.
const setupConn = "test-setup"

// startServer starts a NATS server with the stores the bridge provisions,
// so the booths bind them and their trace events are stored.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	s := natstest.Start(t)
	storestest.Provision(t, natstest.Connect(t, s, nats.Name(setupConn)), stores.Options{
		Trace: trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 16 << 20, Memory: true}})
	return s
}
