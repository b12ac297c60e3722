package hardening_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/hardening"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// quiet is the logger of what no test reads.
var quiet = slog.New(slog.DiscardHandler)

const (
	callPath = "/v1/call/fee-calc/calculate"
	goodBody = `{"license_type":"professional-engineer"}`
	goodRes  = `{"license_type":"professional-engineer","amount":125,"currency":"USD"}`
)

// mesh is the secure mesh as broker-bridge runs it: NATS with TLS, client
// certificates and the matrix's NKey users (plus the watcher), the bridge
// on HTTPS with HTTP/2 and client certificates, and the real fee-calc booth
// verifying call tokens.
type fixture struct {
	srv    *server.Server
	nc     *nats.Conn // the bridge's connection
	bridge *bridge.Bridge
	addr   string // host:port of the bridge
	url    string // https://addr
	client *http.Client
}

// startMesh runs the mesh until the test ends; tune adjusts the bridge's
// config (its limits) before the bridge is made.
func startMesh(t testing.TB, tune func(*bridge.Config)) *fixture {
	t.Helper()
	s := natstest.StartWith(t, embednats.Config{
		Port: -1, StoreDir: t.TempDir(), RelaxedSync: true,
		Tune: func(o *server.Options) error {
			if err := natsauth.Apply(o, demo, demo.Keys(), natsauth.ServerFiles(dir)); err != nil {
				return err
			}
			return hardening.AddWatcher(o, watcherID, watcherKey)
		},
	})
	member := join(t, s, "bridge")
	m := &fixture{srv: s, nc: member.Conn()}
	stls, err := mesh.Credentials{Dir: dir}.ServerTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg := bridge.Config{
		TLS:    stls,
		Caller: bridge.ClientCertificate("bridge", demo),
		Logger: quiet,
	}
	if tune != nil {
		tune(&cfg)
	}
	if m.bridge, err = bridge.New(cfg, member); err != nil {
		t.Fatalf("bridge.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = ln.Addr().String()
	m.url = "https://" + m.addr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.bridge.Serve(ctx, ln) }()
	m.client = m.httpsClient(t)
	t.Cleanup(func() {
		m.client.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	m.startFeeCalc(t)
	// The first call waits for discovery to see the booth.
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		return m.goodCall(t)
	})
	return m
}

// startFeeCalc runs the real fee-calc booth on its own credentials,
// verifying every call's token against the matrix.
func (m *fixture) startFeeCalc(t testing.TB) {
	t.Helper()
	fee := join(t, m.srv, "fee-calc")
	if _, err := booths.Start(t.Context(), fee.Conn(), "fee-calc", booths.Config{
		FeeTable: feeTable, Logger: quiet, NewBooth: fee.NewBooth,
	}); err != nil {
		t.Fatalf("starting fee-calc: %v", err)
	}
}

// join makes a member of the mesh on s as identity, with its credentials,
// until the test ends.
func join(t testing.TB, s *server.Server, identity string) *mesh.Mesh {
	t.Helper()
	m, err := mesh.Connect(t.Context(), mesh.Config{
		Identity: identity, Credentials: mesh.Credentials{Dir: dir}, Matrix: demo,
		NATSURL: s.ClientURL(), Logger: quiet, FlushTimeout: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

// connectAs connects to s as identity with its credentials.
func connectAs(t testing.TB, s *server.Server, identity string) *nats.Conn {
	t.Helper()
	opts, err := mesh.Credentials{Dir: dir}.NATSOptions(identity)
	if err != nil {
		t.Fatal(err)
	}
	return natstest.Connect(t, s, opts...)
}

// gatewayTLS is the TLS client config of the gateway: its certificate,
// trusting the mesh CA.
func gatewayTLS(t testing.TB) *tls.Config {
	t.Helper()
	tc, err := mesh.Credentials{Dir: dir}.TLSConfig("gateway")
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

// httpsClient is a new gateway client speaking HTTP/2 only, on its own
// connections.
func (m *fixture) httpsClient(t testing.TB) *http.Client {
	t.Helper()
	var p http.Protocols
	p.SetHTTP2(true)
	c := &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: gatewayTLS(t)}, Timeout: 10 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// response is an HTTP answer read in full.
type response struct {
	status int
	proto  int
	header http.Header
	body   []byte
}

// do sends one request on c; hdr holds "Name: value" pairs.
func do(c *http.Client, method, url string, body io.Reader, hdr ...string) (response, error) {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return response{}, err
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: res.StatusCode, proto: res.ProtoMajor, header: res.Header, body: data}, nil
}

// goodCall makes a legitimate call and checks its answer.
func (m *fixture) goodCall(t testing.TB) error {
	return goodCallOn(m.client, m.url)
}

func goodCallOn(c *http.Client, url string) error {
	res, err := do(c, http.MethodPost, url+callPath, strings.NewReader(goodBody), "Content-Type: application/json")
	if err != nil {
		return err
	}
	if res.status != http.StatusOK || strings.TrimSpace(string(res.body)) != goodRes {
		return &badAnswer{res}
	}
	return nil
}

type badAnswer struct{ res response }

func (e *badAnswer) Error() string {
	return "legitimate call answered " + http.StatusText(e.res.status) + ": " + string(e.res.body)
}
