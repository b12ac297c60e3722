package securitytest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/internal/storestest"
	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// quiet is the logger of booths whose log no test reads.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startMesh runs the embedded server exactly as the mesh does: natsauth.Apply
// with the demo matrix and the credentials in dir.
func startMesh(t *testing.T) *server.Server {
	t.Helper()
	return natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: t.TempDir(),
		Tune: func(o *server.Options) error {
			return natsauth.Apply(o, demo, demo.Keys(), natsauth.ServerFiles(dir))
		}})
}

// provisionStores creates the mesh's stores on s as the provisioner, as the
// bridge does at start.
func provisionStores(t *testing.T, s *server.Server) {
	t.Helper()
	storestest.Provision(t, connectAs(t, s, "provisioner"), stores.Options{})
}

// violations collects a connection's asynchronous errors (permission
// violations).
type violations struct {
	mu   sync.Mutex
	errs []string
}

func (v *violations) handler() nats.Option {
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		v.mu.Lock()
		defer v.mu.Unlock()
		v.errs = append(v.errs, err.Error())
	})
}

// waitFor waits until an error containing all of parts (in any case) has
// been reported.
func (v *violations) waitFor(t *testing.T, parts ...string) {
	t.Helper()
	natstest.CheckFor(t, 2*time.Second, 5*time.Millisecond, func() error {
		v.mu.Lock()
		defer v.mu.Unlock()
	next:
		for _, e := range v.errs {
			for _, p := range parts {
				if !strings.Contains(strings.ToLower(e), strings.ToLower(p)) {
					continue next
				}
			}
			return nil
		}
		return errors.New("no error containing " + strings.Join(parts, " and ") + "; got " + strings.Join(v.errs, " | "))
	})
}

// connectAs connects to s as identity with its real credentials.
func connectAs(t *testing.T, s *server.Server, identity string, extra ...nats.Option) *nats.Conn {
	t.Helper()
	opts, err := mesh.Credentials{Dir: dir}.NATSOptions(identity)
	if err != nil {
		t.Fatal(err)
	}
	return natstest.Connect(t, s, append(opts, extra...)...)
}

// nkeyOf returns the NKey option of identity's real seed.
func nkeyOf(t *testing.T, identity string) nats.Option {
	t.Helper()
	kp, err := pki.ReadKeyPair(dir, identity)
	if err != nil {
		t.Fatal(err)
	}
	return nkeyOption(kp)
}

func nkeyOption(kp nkeys.KeyPair) nats.Option {
	pub, _ := kp.PublicKey()
	return nats.Nkey(pub, kp.Sign)
}

// tryConnect connects with exactly opts and returns the error; a connection
// that succeeds is closed at cleanup.
func tryConnect(t *testing.T, s *server.Server, opts ...nats.Option) error {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), append([]nats.Option{nats.Timeout(2 * time.Second)}, opts...)...)
	if err == nil {
		t.Cleanup(nc.Close)
	}
	return err
}

// spy is a raw subscriber that keeps what it is delivered.
type spy struct {
	nc  *nats.Conn
	ch  chan *nats.Msg
	mu  sync.Mutex
	got []*nats.Msg
}

func newSpy(t *testing.T, nc *nats.Conn, subject, queue string) *spy {
	t.Helper()
	// A channel subscription: the connection's reader puts each message in
	// the channel in wire order, so after a flush round trip every message
	// the server sent before its PONG is in it.
	s := &spy{nc: nc, ch: make(chan *nats.Msg, 4096)}
	var err error
	if queue == "" {
		_, err = nc.ChanSubscribe(subject, s.ch)
	} else {
		_, err = nc.ChanQueueSubscribe(subject, queue, s.ch)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return s
}

// settled returns how many messages the spy has been delivered, once
// everything the server sent it has arrived.
func (s *spy) settled(t *testing.T) int {
	t.Helper()
	if err := s.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		select {
		case m := <-s.ch:
			s.got = append(s.got, m)
		default:
			return len(s.got)
		}
	}
}

// countingBooth runs service as an rpc.Booth on nc with a call verifier,
// serving paths; it counts handler runs and keeps the last principal.
type countingBooth struct {
	runs atomic.Int32
	last atomic.Value // calltoken.Principal
}

func startCountingBooth(t *testing.T, nc *nats.Conn, service string, paths ...string) *countingBooth {
	t.Helper()
	v, err := calltoken.NewVerifier(service, demo)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: service}, rpc.WithBoothMiddleware(v.Middleware()), rpc.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	cb := &countingBooth{}
	for _, p := range paths {
		err := b.HandleRaw(p, func(ctx context.Context, m *rpc.Message) (*rpc.Message, error) {
			cb.runs.Add(1)
			ci, _ := rpc.CallInfoFromContext(ctx)
			p := calltoken.Principal{Caller: ci.Caller, Actor: ci.Actor}
			cb.last.Store(p)
			return &rpc.Message{Data: []byte(`{"ok":true}`)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The server must hold the booth's subscriptions before another
	// connection sends to them.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return cb
}
