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
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/runner"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// quiet is the logger of processes whose log no test reads.
var quiet = slog.New(slog.DiscardHandler)

// mesh is a running secure mesh: the bridge app with its embedded NATS and
// its monitoring listener, and the four demo booths run as booth-runner
// runs them.
type fixture struct {
	app     *app.App
	url     string // https://127.0.0.1:port
	monitor string // http://127.0.0.1:port of the monitoring listener
	booths  *runner.Runner
}

// startMesh runs the bridge as broker-bridge does by default and the demo
// booths, each on its own credentials and verifying tokens, until the test
// ends.
func startMesh(t *testing.T) *fixture {
	t.Helper()
	m := startBridge(t)
	m.startBooths(t)
	return m
}

// startBridge runs the bridge as broker-bridge does by default (HTTPS with
// client certificates, its embedded NATS with the matrix's authorization)
// and as make run adds: a monitoring listener on loopback. One thing
// differs: each attempt may take 2 s rather than 300 ms, since on a loaded
// test machine a first call (a JetStream store made, a PDF drawn) can take
// longer and be retried, which is right but would vary the hops a trace
// test counts. tune may change the config before the start.
func startBridge(t *testing.T, tune ...func(*app.Config)) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := app.Config{
		Listen: "127.0.0.1:0", NATSListen: "127.0.0.1:0", DataDir: t.TempDir(),
		MeshDir: dir, MatrixFile: matrixFile, MonitorListen: "127.0.0.1:0", Logger: quiet,
		ClientOptions: []rpc.Option{rpc.WithAttemptTimeout(2 * time.Second)},
	}
	for _, f := range tune {
		f(&cfg)
	}
	a, err := app.Start(ctx, cfg)
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
	return &fixture{app: a, url: "https://" + a.Addr().String(), monitor: "http://" + a.MonitorAddr().String()}
}

// startBooths runs the four demo booths as booth-runner does: each on its
// own credentials, traced, measured and verifying call tokens, with the
// process's metrics on a loopback listener.
func (m *fixture) startBooths(t *testing.T) {
	t.Helper()
	r, err := runner.Start(t.Context(), runner.Config{
		NATSURL: m.app.NATSURL(), Demo: true, FeeTable: feeTable, InstanceName: "e2e-1",
		MetricsListen: "127.0.0.1:0", Logger: quiet,
		Credentials: mesh.Credentials{Dir: dir}, MatrixFile: matrixFile,
	})
	if err != nil {
		t.Fatalf("starting the booths on their own credentials: %v", err)
	}
	// Registered after the bridge's, so it runs first: booths stop
	// before the bridge, as run-mesh.sh stops them.
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Errorf("booths: %v", err)
		}
	})
	m.booths = r
}

// connectAs connects to the mesh's NATS as identity with its credentials.
func connectAs(t *testing.T, a *app.App, identity string) *nats.Conn {
	t.Helper()
	opts, err := mesh.Credentials{Dir: dir}.NATSOptions(identity)
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
	tc, err := mesh.Credentials{Dir: dir}.TLSConfig("gateway")
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
	tc, err := mesh.Credentials{Dir: d}.TLSConfig(identity)
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
func (m *fixture) waitForBooths(t *testing.T, c *http.Client) {
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
