package mesh_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// secureServer runs a NATS server secured as the mesh's is (TLS with the
// mesh CA's client certificates, an NKey user per identity with the
// matrix's permissions) with the SVC_TRACE stream, until the test ends.
func secureServer(t testing.TB) *server.Server {
	t.Helper()
	s := natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: t.TempDir(), RelaxedSync: true,
		Tune: func(o *server.Options) error {
			return natsauth.Apply(o, demo, demo.Keys(), natsauth.ServerFiles(dir))
		}})
	bridge := join(t, s, "bridge")
	js, err := jetstream.New(bridge.Conn())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trace.EnsureStream(t.Context(), js, trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 16 << 20, Memory: true}); err != nil {
		t.Fatal(err)
	}
	return s
}

// join connects to s as identity with its credentials, until the test
// ends.
func join(t testing.TB, s *server.Server, identity string, tune ...func(*mesh.Config)) *mesh.Mesh {
	t.Helper()
	cfg := mesh.Config{Identity: identity, Credentials: mesh.Credentials{Dir: dir}, MatrixFile: matrixFile,
		NATSURL: s.ClientURL(), Instance: identity + "-test", Logger: quiet}
	for _, f := range tune {
		f(&cfg)
	}
	m, err := mesh.Connect(t.Context(), cfg)
	if err != nil {
		t.Fatalf("joining as %s: %v", identity, err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}
