package natsauth_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/meshcreds"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// Credentials are made once for the package: dir holds them, demo is the
// demo matrix with their keys.
var (
	dir  string
	demo *matrix.Matrix
)

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	d, err := os.MkdirTemp("", "natsauth-test")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(d)
	dir = d
	mx, err := matrix.Load("../../deployments/matrix.yaml")
	if err != nil {
		return 0, err
	}
	if _, err := pki.Init(dir, mx.Identities(), pki.Options{}); err != nil {
		return 0, err
	}
	if demo, err = mx.LoadKeys(dir); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// startMesh runs an embedded server configured by Apply.
func startMesh(t *testing.T) *server.Server {
	t.Helper()
	return natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: t.TempDir(),
		Tune: func(o *server.Options) error {
			return natsauth.Apply(o, demo, demo.Keys(), natsauth.ServerFiles(dir))
		}})
}

// connectAs connects to s as identity with its credentials.
func connectAs(t *testing.T, s *server.Server, identity string, extra ...nats.Option) *nats.Conn {
	t.Helper()
	opts, err := meshcreds.ClientOptions(dir, identity)
	if err != nil {
		t.Fatal(err)
	}
	return natstest.Connect(t, s, append(opts, extra...)...)
}
