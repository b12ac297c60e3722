package natsauth_test

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pkitest"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// Credentials are made once for the package: dir holds them, demo is the
// demo matrix with their keys.
var (
	dir  string
	demo *matrix.Matrix
)

func TestMain(m *testing.M) {
	pkitest.Main(m, "natsauth-test", "../../deployments/matrix.yaml", func(pm *pkitest.Mesh) error {
		dir, demo = pm.Dir, pm.Matrix
		return nil
	})
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
	opts, err := mesh.Credentials{Dir: dir}.NATSOptions(identity)
	if err != nil {
		t.Fatal(err)
	}
	return natstest.Connect(t, s, append(opts, extra...)...)
}
