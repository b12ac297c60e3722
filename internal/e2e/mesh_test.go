package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/bridge/app"
	"github.com/hms-svc/hms-svc/internal/meshcreds"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// quiet is the logger of processes whose log no test reads.
var quiet = slog.New(slog.DiscardHandler)

// mesh is a running secure mesh: the bridge app with its embedded NATS, and
// the four demo booths.
type mesh struct {
	app *app.App
	url string // https://127.0.0.1:port
}

// startMesh runs the bridge as broker-bridge does by default and the demo
// booths, each on its own credentials and verifying tokens, until the test
// ends.
func startMesh(t *testing.T) *mesh {
	t.Helper()
	m := startBridge(t)
	m.startBooths(t)
	return m
}

// startBridge runs the bridge as broker-bridge does by default: HTTPS with
// client certificates, and its embedded NATS with the matrix's
// authorization.
func startBridge(t *testing.T) *mesh {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, app.Config{
		Listen: "127.0.0.1:0", NATSListen: "127.0.0.1:0", DataDir: t.TempDir(),
		MeshDir: dir, MatrixFile: matrixFile, Logger: quiet,
	})
	if err != nil {
		cancel()
		t.Fatalf("starting the bridge: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := a.Wait(); err != nil {
			t.Errorf("bridge: %v", err)
		}
	})
	return &mesh{app: a, url: "https://" + a.Addr().String()}
}

// startBooths runs the four demo booths as booth-runner does.
func (m *mesh) startBooths(t *testing.T) {
	t.Helper()
	for _, name := range booths.Names {
		v, err := rpc.NewCallVerifier(name, demo)
		if err != nil {
			t.Fatal(err)
		}
		b, err := booths.Start(t.Context(), connectAs(t, m.app, name), name, booths.Config{
			FeeTable:     feeTable,
			AuditKey:     []byte("e2e-audit-key-0123456789abcdef"),
			Logger:       quiet,
			BoothOptions: []rpc.BoothOption{rpc.WithBoothMiddleware(v.Middleware())},
		})
		if err != nil {
			t.Fatalf("starting %s on its own credentials: %v", name, err)
		}
		// Registered after the bridge's, so it runs first: booths stop
		// before the bridge, as run-mesh.sh stops them.
		t.Cleanup(func() { _ = b.Stop(context.Background()) })
	}
}

// connectAs connects to the mesh's NATS as identity with its credentials.
func connectAs(t *testing.T, a *app.App, identity string) *nats.Conn {
	t.Helper()
	opts, err := meshcreds.ClientOptions(dir, identity)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(a.NATSURL(), opts...)
	if err != nil {
		t.Fatalf("connecting as %s: %v", identity, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// httpsClient speaks HTTP/2 over TLS only, trusting the mesh CA and
// presenting cert (none when nil).
func httpsClient(t *testing.T, cert []tls.Certificate) *http.Client {
	t.Helper()
	tc, err := meshcreds.ClientTLS(dir, "gateway")
	if err != nil {
		t.Fatal(err)
	}
	tc.Certificates = cert
	var p http.Protocols
	p.SetHTTP2(true)
	c := &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: tc}, Timeout: 10 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// certOf returns identity's client certificate from the credentials folder d.
func certOf(t *testing.T, d, identity string) []tls.Certificate {
	t.Helper()
	tc, err := meshcreds.ClientTLS(d, identity)
	if err != nil {
		t.Fatal(err)
	}
	return tc.Certificates
}

// response is an HTTP answer read in full.
type response struct {
	status int
	proto  int
	header http.Header
	body   []byte
}

// do sends one request; hdr holds "Name: value" pairs.
func do(t *testing.T, c *http.Client, method, url, body string, hdr ...string) (response, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
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
	return response{status: res.StatusCode, proto: res.ProtoMajor, header: res.Header, body: bytes.TrimSpace(data)}, nil
}

// mustDo is do for requests that must get an answer.
func mustDo(t *testing.T, c *http.Client, method, url, body string, hdr ...string) response {
	t.Helper()
	res, err := do(t, c, method, url, body, hdr...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return res
}

// waitForBooths waits until the bridge's discovery lists every demo booth.
func (m *mesh) waitForBooths(t *testing.T, c *http.Client) {
	t.Helper()
	natstest.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		for _, name := range booths.Names {
			res, err := do(t, c, "GET", m.url+"/v1/services/"+name, "")
			if err != nil {
				return err
			}
			if res.status != 200 {
				return &statusError{name, res}
			}
		}
		return nil
	})
}

type statusError struct {
	what string
	res  response
}

func (e *statusError) Error() string {
	return e.what + ": " + http.StatusText(e.res.status) + " " + string(e.res.body)
}
