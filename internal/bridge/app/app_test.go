package app_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/bridge/app"
	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pkitest"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

const matrixFile = "../../../deployments/matrix.yaml"

// Made once by TestMain: meshDir holds credentials for the demo matrix,
// and demo is that matrix with their public keys.
var (
	meshDir string
	demo    *matrix.Matrix
)

func TestMain(m *testing.M) {
	pkitest.Main(m, "bridge-app", matrixFile, func(pm *pkitest.Mesh) error {
		meshDir, demo = pm.Dir, pm.Matrix
		return nil
	})
}

// config is a config on free ports with the test credentials.
func config(t *testing.T) app.Config {
	return app.Config{
		Listen: "127.0.0.1:0", NATSListen: "127.0.0.1:0", DataDir: t.TempDir(),
		MeshDir: meshDir, MatrixFile: matrixFile,
	}
}

func TestValidateRefusesUnsafeOrIncompleteFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     app.Config
		wantMsg string
	}{
		{"h2c on all interfaces", app.Config{Listen: ":8443", InsecureH2C: true, InsecureH2CAs: "gateway"},
			`--insecure-h2c refused: --listen ":8443" is not a loopback address`},
		{"h2c on a public address", app.Config{Listen: "192.0.2.1:8443", InsecureH2C: true, InsecureH2CAs: "gateway"},
			"is not a loopback address"},
		{"h2c for no one", app.Config{InsecureH2C: true},
			"--insecure-h2c needs --insecure-h2c-as IDENTITY"},
		{"h2c-as without h2c", app.Config{InsecureH2CAs: "gateway"},
			"--insecure-h2c-as only applies with --insecure-h2c"},
		{"h2c-as not an identity", app.Config{InsecureH2C: true, InsecureH2CAs: "Gate way"},
			`--insecure-h2c-as "Gate way": not an identity`},
		{"public embedded NATS", app.Config{NATSListen: "0.0.0.0:4222"},
			"--nats-listen \"0.0.0.0:4222\" refused"},
		{"bad NATS port", app.Config{NATSListen: "127.0.0.1:x"},
			"--nats-listen"},
		{"bad listen address", app.Config{Listen: "8443"},
			"--listen \"8443\""},
		{"public monitoring", app.Config{MonitorListen: "0.0.0.0:8081"},
			`--monitor-listen "0.0.0.0:8081" refused: the monitoring listener is plain HTTP without authentication, so it serves a loopback address only`},
		{"monitoring on all interfaces", app.Config{MonitorListen: ":8081"}, `--monitor-listen ":8081" refused`},
		{"bad monitoring address", app.Config{MonitorListen: "8081"}, `--monitor-listen "8081"`},
		{"replicas", app.Config{Replicas: 7}, "--replicas must be 1 to 5"},
		{"bad health address", app.Config{HealthListen: "8080"}, `--health-listen "8080"`},
		{"trace replicas", app.Config{TraceReplicas: 7}, "--trace-replicas must be 1 to 5"},
		{"trace max age", app.Config{TraceMaxAge: time.Millisecond}, "--trace-max-age must be at least 1s"},
		{"trace max bytes", app.Config{TraceMaxBytes: 1000}, "--trace-max-bytes must be at least 1 MiB"},
		{"OTLP endpoint without scheme", app.Config{OTLPEndpoint: "127.0.0.1:4318"}, "--otlp-endpoint: otlp: bad config: OTLP endpoint \"127.0.0.1:4318\" must be an http:// or https:// URL"},
		{"OTLP over gRPC", app.Config{OTLPEndpoint: "grpc://127.0.0.1:4317"}, "--otlp-endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantMsg)
			}
			if _, serr := app.Start(context.Background(), tt.cfg); serr == nil {
				t.Errorf("Start accepted the config")
			}
		})
	}
	if err := (&app.Config{}).Validate(); err != nil {
		t.Errorf("the defaults: %v, want them valid", err)
	}
	// Health answers reveal nothing: any interface may serve them.
	if err := (&app.Config{HealthListen: ":8080"}).Validate(); err != nil {
		t.Errorf("--health-listen :8080: %v, want it valid", err)
	}
}

// Without credentials the bridge does not start, and says how to make them.
func TestMissingCredentialsSayHowToMakeThem(t *testing.T) {
	t.Parallel()
	partial := t.TempDir()
	entries, err := os.ReadDir(meshDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "bridge.nk" {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(meshDir, e.Name()))
		if err := os.WriteFile(filepath.Join(partial, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, dir, wantMsg string
	}{
		{"no folder", filepath.Join(t.TempDir(), "none"), "does not exist"},
		{"no bridge NKey", partial, "bridge.nk is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(t)
			cfg.MeshDir = tt.dir
			_, err := app.Start(context.Background(), cfg)
			if !errors.Is(err, app.ErrNoCredentials) || !strings.Contains(err.Error(), tt.wantMsg) ||
				!strings.Contains(err.Error(), `"meshctl init --dir `+tt.dir+`"`) {
				t.Errorf("err = %v, want ErrNoCredentials saying %q and how to run meshctl init", err, tt.wantMsg)
			}
		})
	}
	cfg := config(t)
	cfg.InsecureH2C, cfg.InsecureH2CAs = true, "payment"
	if _, err := app.Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "does not let bridge act for it") {
		t.Errorf("--insecure-h2c-as payment: err = %v, want the matrix's refusal", err)
	}
}

// start runs the app until the test ends, and checks it stops cleanly.
func start(t *testing.T, cfg app.Config) (*app.App, context.CancelFunc) {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("Start: %v", err)
	}
	var waited bool
	t.Cleanup(func() {
		cancel()
		if !waited {
			if err := a.Wait(); err != nil {
				t.Errorf("Wait: %v", err)
			}
		}
	})
	return a, func() {
		cancel()
		waited = true
		if err := a.Wait(); err != nil {
			t.Errorf("Wait: %v", err)
		}
	}
}

// client speaks HTTP/2 only: over TLS as identity ("" presents no
// certificate), or cleartext when h2c.
func client(t *testing.T, identity string, h2c bool) *http.Client {
	t.Helper()
	var p http.Protocols
	tr := &http.Transport{Protocols: &p}
	if h2c {
		p.SetUnencryptedHTTP2(true)
	} else {
		p.SetHTTP2(true)
		tc, err := mesh.Credentials{Dir: meshDir}.TLSConfig("gateway")
		if err != nil {
			t.Fatal(err)
		}
		if identity == "" {
			tc.Certificates = nil
		} else if tc, err = (mesh.Credentials{Dir: meshDir}).TLSConfig(identity); err != nil {
			t.Fatal(err)
		}
		tr.TLSClientConfig = tc
	}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func get(t *testing.T, c *http.Client, url string) (int, int, []byte) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.ProtoMajor, data
}

// connectAs connects to the app's NATS with identity's credentials.
func connectAs(t *testing.T, a *app.App, identity string) *nats.Conn {
	t.Helper()
	opts, err := mesh.Credentials{Dir: meshDir}.NATSOptions(identity)
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

func TestEmbeddedNATSKeepsJetStreamDataAcrossRestarts(t *testing.T) {
	t.Parallel()
	cfg := config(t)
	a, stop := start(t, cfg)
	c := client(t, "gateway", false)
	if status, proto, body := get(t, c, "https://"+a.Addr().String()+"/readyz"); status != 200 || proto != 2 {
		t.Fatalf("/readyz: %d over HTTP/%d %s", status, proto, body)
	}
	nc := connectAs(t, a, "license-printer")
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	// The bridge provisioned the store at start; license-printer binds it.
	store, err := js.ObjectStore(ctx, "LICENSES")
	if err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4 Avery Johnson")
	if _, err := store.PutBytes(ctx, "lic-1", pdf); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	c.CloseIdleConnections()
	stop()

	a, _ = start(t, cfg)
	status, proto, body := get(t, c, "https://"+a.Addr().String()+"/v1/licenses/lic-1")
	if status != 200 || proto != 2 || !bytes.Equal(body, pdf) {
		t.Errorf("after restart: %d over HTTP/%d %q, want 200 and the stored PDF", status, proto, body)
	}
}

// The embedded server is the mesh's: TLS with a client certificate and an
// NKey from the matrix, or nothing.
func TestEmbeddedNATSAdmitsOnlyMeshIdentities(t *testing.T) {
	t.Parallel()
	a, _ := start(t, config(t))
	gw, err := mesh.Credentials{Dir: meshDir}.TLSConfig("gateway")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []nats.Option
	}{
		{"anonymous plaintext", nil},
		{"certificate without NKey", []nats.Option{nats.Secure(gw)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := nats.Connect(a.NATSURL(), append(tt.opts, nats.Timeout(2*time.Second), nats.NoReconnect())...)
			if err == nil {
				nc.Close()
				t.Fatal("connected, want refused")
			}
		})
	}
	connectAs(t, a, "gateway") // the real credentials connect
}

func TestHTTPSRequiresAMeshClientCertificate(t *testing.T) {
	t.Parallel()
	a, _ := start(t, config(t))
	url := "https://" + a.Addr().String() + "/readyz"
	if status, proto, body := get(t, client(t, "gateway", false), url); status != 200 || proto != 2 {
		t.Errorf("gateway: %d over HTTP/%d %s, want 200 over HTTP/2", status, proto, body)
	}
	_, err := client(t, "", false).Get(url)
	if !handshakeRefused(err) {
		t.Errorf("without a client certificate: err = %v, want a refused handshake", err)
	}
	status, _, body := get(t, client(t, "payment", false), "https://"+a.Addr().String()+"/v1/services")
	if status != 403 || !strings.Contains(string(body), `"code":403`) {
		t.Errorf("payment's certificate: %d %s, want a 403 JSON error", status, body)
	}
}

func TestInsecureH2CActsForTheNamedIdentity(t *testing.T) {
	t.Parallel()
	cfg := config(t)
	cfg.InsecureH2C, cfg.InsecureH2CAs = true, "gateway"
	a, _ := start(t, cfg)
	status, proto, body := get(t, client(t, "", true), "http://"+a.Addr().String()+"/v1/services")
	if status != 200 || proto != 2 {
		t.Errorf("/v1/services over h2c: %d over HTTP/%d %s, want 200 over HTTP/2", status, proto, body)
	}
}

// With --nats the bridge joins an external server with its own credentials.
func TestExternalNATSIsJoinedWithTheBridgeCredentials(t *testing.T) {
	t.Parallel()
	s := natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: t.TempDir(), Tune: func(o *server.Options) error {
		return natsauth.Apply(o, demo, demo.Keys(), natsauth.ServerFiles(meshDir))
	}})
	cfg := config(t)
	cfg.NATSURL = s.ClientURL()
	a, _ := start(t, cfg)
	if status, _, body := get(t, client(t, "gateway", false), "https://"+a.Addr().String()+"/readyz"); status != 200 {
		t.Errorf("/readyz: %d %s, want 200", status, body)
	}
	cz, err := s.Connz(&server.ConnzOptions{Username: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(cz.Conns) != 1 || cz.Conns[0].Name != "bridge" {
		t.Errorf("connections %+v, want the bridge's", cz.Conns)
	}
}

// handshakeRefused reports whether err is the client's view of a server
// refusing its TLS handshake: the alert when it arrives in time, or the
// closed connection when the server hung up first.
func handshakeRefused(err error) bool {
	if err == nil {
		return false
	}
	for _, s := range []string{"certificate required", "bad certificate", "broken pipe", "connection reset", "EOF"} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}
