package sidecar_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/hardening"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/pkitest"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/internal/storestest"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

const (
	matrixFile = "testdata/matrix.yaml"
	// watcherID may subscribe to ">": the tests' eye on what is published.
	watcherID = "watcher"
)

// Made once by TestMain.
var (
	dir        string
	tm         *matrix.Matrix
	watcherKey string
	quiet      = slog.New(slog.NewTextHandler(io.Discard, nil))
)

func TestMain(m *testing.M) {
	pkitest.Main(m, "sidecar", matrixFile, func(pm *pkitest.Mesh) (err error) {
		dir, tm = pm.Dir, pm.Matrix
		watcherKey, err = pki.ReadPublicKey(dir, watcherID)
		return err
	}, watcherID)
}

// secureServer runs a NATS server secured as the mesh's is, with the
// SVC_TRACE stream and the watcher admitted, until the test ends.
func secureServer(t *testing.T) *server.Server {
	t.Helper()
	s := natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: t.TempDir(), RelaxedSync: true,
		Tune: func(o *server.Options) error {
			if err := natsauth.Apply(o, tm, tm.Keys(), natsauth.ServerFiles(dir)); err != nil {
				return err
			}
			return hardening.AddWatcher(o, watcherID, watcherKey)
		}})
	storestest.Provision(t, join(t, s, "bridge").Conn(), stores.Options{Trace: trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 16 << 20, Memory: true}})
	return s
}

// join connects to s as identity with its credentials, until the test ends.
func join(t *testing.T, s *server.Server, identity string) *mesh.Mesh {
	t.Helper()
	m, err := mesh.Connect(t.Context(), mesh.Config{Identity: identity, Credentials: mesh.Credentials{Dir: dir},
		Matrix: tm, NATSURL: s.ClientURL(), Instance: identity + "-test", Logger: quiet})
	if err != nil {
		t.Fatalf("joining as %s: %v", identity, err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

// watch subscribes the watcher to every call subject (svc.>, trace events
// left out) and returns a function that reports what was published since.
func watch(t *testing.T, s *server.Server, flush *nats.Conn) func() []string {
	t.Helper()
	opts, err := mesh.Credentials{Dir: dir}.NATSOptions(watcherID)
	if err != nil {
		t.Fatal(err)
	}
	nc := natstest.Connect(t, s, opts...)
	sub, err := nc.SubscribeSync("svc.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		if err := flush.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			msg, err := sub.NextMsg(20 * time.Millisecond)
			if err != nil {
				return got
			}
			if len(msg.Subject) < 10 || msg.Subject[:10] != "svc.trace." {
				got = append(got, msg.Subject)
			}
		}
	}
}

// inspector returns JetStream as the inspector, who may read SVC_TRACE.
func inspector(t *testing.T, s *server.Server) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(join(t, s, "inspector").Conn())
	if err != nil {
		t.Fatal(err)
	}
	return js
}
