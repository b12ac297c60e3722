package faulttest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/runner"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// How these tests join the mesh. identityOptions and childArgs are the one
// place that says how a connection authenticates: when the hallway requires
// TLS and NKey credentials, they change here (and the servers' tune), not
// in the tests.

// identityOptions returns the options that make a connection speak as
// identity: booth-runner's own hook, so in-process booths, callers and
// child processes authenticate alike.
func identityOptions(identity string) ([]nats.Option, error) {
	return runner.IdentityOptions(identity)
}

// childArgs returns booth-runner's arguments to run booth as instance on
// the NATS servers at url.
func childArgs(url, booth, instance string) []string {
	return []string{"--nats", url, "--booth", booth, "--instance-name", instance}
}

// meshConn connects to url as identity, reconnecting forever, closed when
// the test ends.
func meshConn(t *testing.T, url, identity string, extra ...nats.Option) *nats.Conn {
	t.Helper()
	id, err := identityOptions(identity)
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]nats.Option{
		nats.Name("faulttest/" + identity),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
	}, id...)
	nc, err := nats.Connect(url, append(opts, extra...)...)
	if err != nil {
		t.Fatalf("connecting %s to %s: %v", identity, url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// runnerConfig is booth-runner's in-process config for booths on url.
func runnerConfig(url string, booths ...string) runner.Config {
	return runner.Config{NATSURL: url, Booths: booths, Identity: identityOptions, Logger: quiet()}
}

// countAttempts is a client attempt middleware that counts every attempt.
func countAttempts(n *atomic.Int64) rpc.Middleware {
	return func(next rpc.Endpoint) rpc.Endpoint {
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			n.Add(1)
			return next(ctx, req)
		}
	}
}
