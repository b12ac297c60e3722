package faulttest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/runner"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/internal/storestest"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// How these tests join the mesh: the secure hallway, as deployed. Servers
// require TLS client certificates from the mesh CA and an NKey per identity
// with the permissions the matrix gives it; booths check every call's
// token. Everything about credentials is in this file.

// secure sets a server's options up as the mesh's servers are: use it as
// the tune of every server a test starts.
func secure(o *server.Options) error {
	return natsauth.Apply(o, demo, demo.Keys(), natsauth.ServerFiles(credsDir))
}

// identityOptions returns the options that make a connection speak as
// identity: its client certificate, its NKey and its inbox prefix.
func identityOptions(identity string) ([]nats.Option, error) {
	return mesh.Credentials{Dir: credsDir}.NATSOptions(identity)
}

// childArgs returns booth-runner's arguments to run booth as instance on
// the NATS servers at url, with the mesh's credentials and matrix.
func childArgs(url, booth, instance string) []string {
	return []string{"--nats", url, "--booth", booth, "--instance-name", instance,
		"--mesh-dir", credsDir, "--matrix", matrixFile}
}

// runnerConfig is booth-runner's in-process config for booths on url: each
// on its own identity's credentials, each checking call tokens.
func runnerConfig(url string, booths ...string) runner.Config {
	return runner.Config{NATSURL: url, Booths: booths, Credentials: mesh.Credentials{Dir: credsDir}, Matrix: demo, Logger: quiet()}
}

// provision creates the mesh's stores on the servers at url with replicas
// copies, as the provisioner identity, as the bridge does at start.
func provision(t *testing.T, url string, replicas int) {
	t.Helper()
	storestest.Provision(t, meshConn(t, url, "provisioner"), stores.Options{Replicas: replicas})
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

// gatewayClient returns a client that calls as the gateway over nc (a
// connection of the gateway's), signing every attempt's call token.
func gatewayClient(t *testing.T, nc *nats.Conn, opts ...rpc.Option) *rpc.Client {
	t.Helper()
	signer, err := mesh.Credentials{Dir: credsDir}.Signer("gateway", demo)
	if err != nil {
		t.Fatal(err)
	}
	client, err := rpc.NewClient(nc, append([]rpc.Option{rpc.WithCaller("gateway"),
		rpc.WithAttemptMiddleware(signer.Middleware())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return client
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
