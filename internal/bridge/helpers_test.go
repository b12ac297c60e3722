package bridge_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// mesh is a NATS server with a running bridge in front of it.
type fixture struct {
	srv    *server.Server
	nc     *nats.Conn // the bridge's connection
	bridge *bridge.Bridge
	url    string // base URL of the bridge
	client *http.Client
	// member is the bridge's membership of the mesh; js the trace stream's
	// JetStream of startTracedMesh.
	member *mesh.Mesh
	js     jetstream.JetStream
	// stop ends Serve and returns its error; later calls return the same.
	stop func() error
}

// startMesh runs NATS and a bridge serving h2c on 127.0.0.1 (or TLS when
// cfg.TLS is set) that calls for the gateway; tune adjusts the config
// before the bridge is made.
func startMesh(t *testing.T, tune func(*bridge.Config)) *fixture {
	t.Helper()
	return startMeshOn(t, natstest.Start(t), tune)
}

// startTracedMesh is startMesh with the SVC_TRACE stream (in memory), in
// which the bridge's trace events are stored.
func startTracedMesh(t *testing.T, tune func(*bridge.Config)) *fixture {
	t.Helper()
	s := natstest.Start(t)
	nc := natstest.Connect(t, s, nats.Name("bridge-trace"))
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trace.EnsureStream(t.Context(), js, trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 16 << 20, Memory: true}); err != nil {
		t.Fatal(err)
	}
	m := startMeshOn(t, s, tune)
	m.js = js
	return m
}

func startMeshOn(t *testing.T, s *server.Server, tune func(*bridge.Config)) *fixture {
	t.Helper()
	return startMeshAs(t, s, member(t, s, "bridge"), tune)
}

// startMeshAs is startMeshOn with the bridge calling as member.
func startMeshAs(t *testing.T, s *server.Server, member bridge.Member, tune func(*bridge.Config)) *fixture {
	t.Helper()
	cfg := bridge.Config{InsecureH2C: true, Caller: bridge.ActAs("gateway"), Logger: testLogger(t)}
	if tune != nil {
		tune(&cfg)
	}
	b, err := bridge.New(cfg, member)
	if err != nil {
		t.Fatalf("bridge.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln) }()
	scheme := "http"
	client := h2cClient(t)
	if cfg.TLS != nil {
		scheme = "https"
		client = nil // the test makes its own TLS client
	}
	var once sync.Once
	var served error
	stop := func() error {
		once.Do(func() {
			if client != nil {
				// Closing idle connections spares shutdown the wait for
				// clients to answer its GOAWAY.
				client.CloseIdleConnections()
			}
			cancel()
			served = <-done
		})
		return served
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &fixture{srv: s, nc: member.Conn(), bridge: b, url: scheme + "://" + ln.Addr().String(), client: client, stop: stop}
}

// member connects to s as identity, with no credentials (s admits anyone),
// until the test ends.
func member(t *testing.T, s *server.Server, identity string) *mesh.Mesh {
	t.Helper()
	m, err := mesh.Connect(t.Context(), mesh.Config{
		Identity: identity, NATSURL: s.ClientURL(), InsecureNoCredentials: true,
		Logger: testLogger(t), FlushTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	// The bridge traces every request: its events are stored, so Close
	// does not wait for a stream that is not there.
	js, err := jetstream.New(m.Conn())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trace.EnsureStream(t.Context(), js, trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 16 << 20, Memory: true}); err != nil {
		t.Fatal(err)
	}
	return m
}

// h2cClient speaks cleartext HTTP/2 only (prior knowledge).
func h2cClient(t *testing.T) *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return protoClient(t, &p, nil)
}

// tlsClient speaks HTTP/2 over TLS only.
func tlsClient(t *testing.T, cfg *tls.Config) *http.Client {
	var p http.Protocols
	p.SetHTTP2(true)
	return protoClient(t, &p, cfg)
}

// h1Client speaks HTTP/1.1 only.
func h1Client(t *testing.T) *http.Client {
	var p http.Protocols
	p.SetHTTP1(true)
	return protoClient(t, &p, nil)
}

// protoClient speaks the protocols p, over TLS with cfg when not nil; its
// idle connections close when the test ends.
func protoClient(t *testing.T, p *http.Protocols, cfg *tls.Config) *http.Client {
	c := &http.Client{Transport: &http.Transport{Protocols: p, TLSClientConfig: cfg}, Timeout: 10 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// boothConn is a connection of its own for a test booth.
func (m *fixture) boothConn(t *testing.T) *nats.Conn {
	t.Helper()
	return natstest.Connect(t, m.srv)
}

// startBooth runs a booth named name on its own connection, with the
// handlers add registers; it is stopped by t.Cleanup.
func (m *fixture) startBooth(t *testing.T, name string, add func(*rpc.Booth) error) *rpc.Booth {
	t.Helper()
	nc := m.boothConn(t)
	b, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: name, Version: "1.0.0"})
	if err != nil {
		t.Fatalf("NewBooth %s: %v", name, err)
	}
	if err := add(b); err != nil {
		t.Fatalf("booth %s: %v", name, err)
	}
	// The booth is discoverable once the server has its subscriptions.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	return b
}

// response is an HTTP answer read in full.
type response struct {
	status int
	proto  int
	header http.Header
	body   []byte
}

// do sends a request to the bridge; hdr is "Name: value" pairs.
func (m *fixture) do(t *testing.T, method, path, body string, hdr ...string) response {
	t.Helper()
	return doWith(t, m.client, method, m.url+path, body, hdr...)
}

func doWith(t *testing.T, c *http.Client, method, url, body string, hdr ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("NewRequest %s: %v", url, err)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", url, err)
	}
	return response{status: res.StatusCode, proto: res.ProtoMajor, header: res.Header, body: data}
}

// post sends a JSON call.
func (m *fixture) post(t *testing.T, path, body string, hdr ...string) response {
	t.Helper()
	return m.do(t, http.MethodPost, path, body, append([]string{"Content-Type: application/json"}, hdr...)...)
}

// errorOf decodes a JSON error answer, failing the test if it is not one.
func errorOf(t *testing.T, r response) bridge.ErrorDetail {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type = %q, want application/json (body %s)", ct, r.body)
	}
	var e bridge.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s is not {\"error\":{...}}: %v", r.body, err)
	}
	if e.Error.Code != r.status {
		t.Errorf("error code %d differs from HTTP status %d", e.Error.Code, r.status)
	}
	return e.Error
}

// watcher records the messages published on the mesh's request subjects,
// leaving out trace events (the bridge's record of its own hop), discovery,
// inbox and JetStream API traffic.
type watcher struct {
	nc       *nats.Conn
	svc, all *nats.Subscription
}

func (m *fixture) watch(t *testing.T) *watcher {
	t.Helper()
	w := &watcher{nc: m.boothConn(t)}
	var err error
	if w.svc, err = w.nc.SubscribeSync("svc.>"); err != nil {
		t.Fatal(err)
	}
	if w.all, err = w.nc.SubscribeSync(">"); err != nil {
		t.Fatal(err)
	}
	if err := w.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return w
}

// published flushes the bridge's connection, then the watcher's, so that
// anything the bridge published has reached the watcher, and returns the
// subjects published since the last look.
func (w *watcher) published(t *testing.T, m *fixture) (svc, other []string) {
	t.Helper()
	if err := m.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []*nats.Subscription{w.svc, w.all} {
		for {
			msg, err := sub.NextMsg(5 * time.Millisecond)
			if err != nil {
				break
			}
			switch {
			case sub == w.svc && !strings.HasPrefix(msg.Subject, "svc.trace."):
				svc = append(svc, msg.Subject)
			case !hasAnyPrefix(msg.Subject, "$SRV.", "_INBOX.", "$JS.", "svc."):
				other = append(other, msg.Subject)
			}
		}
	}
	return svc, other
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// testLogger sends logs to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
