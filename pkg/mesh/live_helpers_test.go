package mesh_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// liveMesh is a credentials folder of the test's own and a NATS server that
// follows it as the bridge's embedded server does (natsauth.Live, watched
// every second; not watched unless follow), with the SVC_TRACE stream.
type liveMesh struct {
	dir, matrixFile string
	identities      []string
	s               *server.Server
}

func newLiveMesh(t *testing.T, matrixFile string, follow bool) *liveMesh {
	t.Helper()
	mx, err := matrix.Load(matrixFile)
	if err != nil {
		t.Fatal(err)
	}
	lm := &liveMesh{dir: filepath.Join(t.TempDir(), "mesh"), matrixFile: matrixFile, identities: mx.Identities()}
	if _, err := pki.Init(lm.dir, lm.identities, pki.Options{}); err != nil {
		t.Fatal(err)
	}
	if mx, err = mx.LoadKeys(lm.dir); err != nil {
		t.Fatal(err)
	}
	live := natsauth.NewLive(mx, lm.dir, quiet)
	lm.s = natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: t.TempDir(), RelaxedSync: true, Tune: live.Tune})
	if follow {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); live.Watch(ctx, lm.s, mesh.DefaultReloadInterval) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	bridge, _ := lm.join(t, "bridge")
	js, err := jetstream.New(bridge.Conn())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trace.EnsureStream(t.Context(), js, trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 16 << 20, Memory: true}); err != nil {
		t.Fatal(err)
	}
	return lm
}

// join connects as identity with the folder's credentials, until the test
// ends; the log records what the Mesh logs.
func (lm *liveMesh) join(t *testing.T, identity string) (*mesh.Mesh, *logRecord) {
	t.Helper()
	rec := &logRecord{}
	m, err := mesh.Connect(t.Context(), mesh.Config{Identity: identity, Credentials: mesh.Credentials{Dir: lm.dir},
		MatrixFile: lm.matrixFile, NATSURL: lm.s.ClientURL(), Instance: identity + "-test", Logger: slog.New(rec)})
	if err != nil {
		t.Fatalf("joining as %s: %v", identity, err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m, rec
}

// serve starts identity's booth answering "{}" on paths.
func serve(t *testing.T, m *mesh.Mesh, paths ...string) {
	t.Helper()
	b, err := m.NewBooth(rpc.BoothConfig{Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if err := b.HandleRaw(p, func(context.Context, *rpc.Message) (*rpc.Message, error) {
			return &rpc.Message{Data: []byte(`{}`)}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
}

// load is callers calling in a loop until stopped, counted.
type load struct {
	ok, failed atomic.Int64
	lastOK     atomic.Int64 // unix nanoseconds of the last success
	mu         sync.Mutex
	firstErr   error
	stop       context.CancelFunc
	wg         sync.WaitGroup
}

// startLoad runs each call in its own goroutine, again and again.
func startLoad(calls ...func(context.Context) error) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{stop: cancel}
	for _, call := range calls {
		l.wg.Go(func() {
			for ctx.Err() == nil {
				cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
				err := call(cctx)
				ccancel()
				switch {
				case err == nil:
					l.ok.Add(1)
					l.lastOK.Store(time.Now().UnixNano())
				case ctx.Err() != nil: // stopped mid-call
				default:
					l.failed.Add(1)
					l.mu.Lock()
					if l.firstErr == nil {
						l.firstErr = err
					}
					l.mu.Unlock()
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	return l
}

// end stops the callers and waits for them.
func (l *load) end() { l.stop(); l.wg.Wait() }

func (l *load) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.firstErr
}

// caller returns a call from m to service path.
func caller(m *mesh.Mesh, service, path string) func(context.Context) error {
	return func(ctx context.Context) error {
		return m.Client().Call(ctx, service, path, struct{}{}, nil)
	}
}

// logRecord is a slog handler that keeps the messages logged.
type logRecord struct {
	mu   sync.Mutex
	msgs []string
}

func (r *logRecord) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecord) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, rec.Message)
	r.mu.Unlock()
	return nil
}
func (r *logRecord) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecord) WithGroup(string) slog.Handler      { return r }

// count returns how many messages start with prefix.
func (r *logRecord) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// expireOverlap makes every overlap key of dir expired, as the end of the
// overlap would.
func expireOverlap(t *testing.T, dir string) {
	t.Helper()
	ov, err := pki.ReadOverlap(dir)
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Second)
	for id, keys := range ov.Keys {
		for i := range keys {
			keys[i].Until = past
		}
		ov.Keys[id] = keys
	}
	writeJSON(t, filepath.Join(dir, pki.OverlapFile), ov)
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
