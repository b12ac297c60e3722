package app_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/bridge/app"
	"github.com/hms-svc/hms-svc/internal/bridge/testpki"
	"github.com/hms-svc/hms-svc/internal/natstest"
)

func TestValidateRefusesUnsafeOrIncompleteFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     app.Config
		wantMsg string
	}{
		{"no TLS and no h2c", app.Config{Listen: "127.0.0.1:8443", NATSListen: "127.0.0.1:4222"},
			"pass --tls-cert and --tls-key (and --tls-client-ca to require client certificates), or --insecure-h2c"},
		{"h2c on all interfaces", app.Config{Listen: ":8443", NATSListen: "127.0.0.1:4222", InsecureH2C: true},
			`--insecure-h2c refused: --listen ":8443" is not a loopback address`},
		{"h2c on a public address", app.Config{Listen: "192.0.2.1:8443", NATSListen: "127.0.0.1:4222", InsecureH2C: true},
			"is not a loopback address"},
		{"cert without key", app.Config{Listen: "127.0.0.1:8443", NATSListen: "127.0.0.1:4222", TLSCert: "c.pem"},
			"--tls-cert and --tls-key go together"},
		{"client CA alone", app.Config{Listen: "127.0.0.1:8443", NATSListen: "127.0.0.1:4222", TLSClientCA: "ca.pem", InsecureH2C: true},
			"--tls-client-ca needs --tls-cert"},
		{"h2c and TLS", app.Config{Listen: "127.0.0.1:8443", NATSListen: "127.0.0.1:4222", TLSCert: "c", TLSKey: "k", InsecureH2C: true},
			"exclusive"},
		{"public embedded NATS", app.Config{Listen: "127.0.0.1:8443", NATSListen: "0.0.0.0:4222", InsecureH2C: true},
			"--nats-listen \"0.0.0.0:4222\" refused"},
		{"bad NATS port", app.Config{Listen: "127.0.0.1:8443", NATSListen: "127.0.0.1:x", InsecureH2C: true},
			"--nats-listen"},
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
	if err := (&app.Config{}).Validate(); !errors.Is(err, app.ErrNoTransportSecurity) {
		t.Errorf("empty config: err = %v, want ErrNoTransportSecurity", err)
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

func client(t *testing.T, tlsCfg *tls.Config) *http.Client {
	var p http.Protocols
	if tlsCfg == nil {
		p.SetUnencryptedHTTP2(true)
	} else {
		p.SetHTTP2(true)
	}
	c := &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: tlsCfg}, Timeout: 10 * time.Second}
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

func TestEmbeddedNATSKeepsJetStreamDataAcrossRestarts(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	cfg := app.Config{Listen: "127.0.0.1:0", NATSListen: "127.0.0.1:0", DataDir: data, InsecureH2C: true}
	a, stop := start(t, cfg)
	c := client(t, nil)
	if status, proto, body := get(t, c, "http://"+a.Addr().String()+"/readyz"); status != 200 || proto != 2 {
		t.Fatalf("/readyz: %d over HTTP/%d %s", status, proto, body)
	}
	nc, err := nats.Connect(a.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	store, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "LICENSES"})
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
	status, proto, body := get(t, c, "http://"+a.Addr().String()+"/v1/licenses/lic-1")
	if status != 200 || proto != 2 || !bytes.Equal(body, pdf) {
		t.Errorf("after restart: %d over HTTP/%d %q, want 200 and the stored PDF", status, proto, body)
	}
}

func TestTLSFilesServeHTTP2AndRequireClientCertificates(t *testing.T) {
	t.Parallel()
	pki := testpki.New(t)
	s := natstest.Start(t)
	a, _ := start(t, app.Config{
		Listen: "127.0.0.1:0", NATSURL: s.ClientURL(),
		TLSCert: pki.ServerCert, TLSKey: pki.ServerKey, TLSClientCA: pki.CAFile,
	})
	url := "https://" + a.Addr().String() + "/readyz"
	if status, proto, body := get(t, client(t, pki.ClientTLS(true)), url); status != 200 || proto != 2 {
		t.Errorf("with a client certificate: %d over HTTP/%d %s, want 200 over HTTP/2", status, proto, body)
	}
	_, err := client(t, pki.ClientTLS(false)).Get(url)
	if !handshakeRefused(err) {
		t.Errorf("without a client certificate: err = %v, want a refused handshake", err)
	}
}

func TestBadTLSFilesAreRefused(t *testing.T) {
	t.Parallel()
	pki := testpki.New(t)
	tests := []struct {
		name, cert, key, ca, wantMsg string
	}{
		{"missing cert", "/nonexistent.pem", pki.ServerKey, "", "loading --tls-cert/--tls-key"},
		{"key of another cert", pki.ServerCert, pki.ClientKey, "", "loading --tls-cert/--tls-key"},
		{"CA is not PEM", pki.ServerCert, pki.ServerKey, pki.ServerKey, "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := app.Start(context.Background(), app.Config{
				Listen: "127.0.0.1:0", NATSURL: "nats://127.0.0.1:1",
				TLSCert: tt.cert, TLSKey: tt.key, TLSClientCA: tt.ca,
			})
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantMsg)
			}
		})
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
