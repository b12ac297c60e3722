package bridge_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

func TestTLSServesHTTP2(t *testing.T) {
	t.Parallel()
	dir := credentials(t)
	m := startMesh(t, func(c *bridge.Config) { c.InsecureH2C = false; c.TLS = serverTLS(t, dir, false) })
	rawBooth(t, m, `{"amount":125}`)
	res := doWith(t, tlsClient(t, clientTLS(t, dir, false)), "POST", m.url+"/v1/call/fee-calc/calculate", `{}`, "Content-Type: application/json")
	if res.status != 200 || res.proto != 2 || string(res.body) != `{"amount":125}` {
		t.Errorf("got %d over HTTP/%d %s, want 200 over HTTP/2", res.status, res.proto, res.body)
	}
}

func TestTLSWithClientCARequiresAClientCertificate(t *testing.T) {
	t.Parallel()
	dir := credentials(t)
	m := startMesh(t, func(c *bridge.Config) { c.InsecureH2C = false; c.TLS = serverTLS(t, dir, true) })

	res := doWith(t, tlsClient(t, clientTLS(t, dir, true)), "GET", m.url+"/healthz", "")
	if res.status != 200 || res.proto != 2 {
		t.Errorf("with a client certificate: %d over HTTP/%d, want 200 over HTTP/2", res.status, res.proto)
	}

	_, err := tlsClient(t, clientTLS(t, dir, false)).Get(m.url + "/healthz")
	if !handshakeRefused(err) {
		t.Errorf("without a client certificate: err = %v, want a refused handshake", err)
	}

	other := credentials(t) // a client certificate from another CA
	cfg := clientTLS(t, dir, false)
	cfg.Certificates = clientTLS(t, other, true).Certificates
	_, err = tlsClient(t, cfg).Get(m.url + "/healthz")
	if err == nil {
		t.Errorf("with a certificate from another CA: no error, want a refused handshake")
	}
}

// credentials makes a mesh credentials folder with the identity gateway,
// as pki.Init writes it, in a test directory; each call makes a new CA.
func credentials(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := pki.Init(dir, []string{"gateway"}, pki.Options{}); err != nil {
		t.Fatalf("pki.Init: %v", err)
	}
	return dir
}

// serverTLS is the mesh server certificate of dir with no protocols named,
// so the bridge must offer HTTP/2 itself; with requireClient, clients must
// present a certificate the CA of dir signed.
func serverTLS(t *testing.T, dir string, requireClient bool) *tls.Config {
	t.Helper()
	cfg, err := mesh.Credentials{Dir: dir}.ServerTLSConfig()
	if err != nil {
		t.Fatalf("ServerTLSConfig: %v", err)
	}
	cfg.NextProtos = nil
	if !requireClient {
		cfg.ClientAuth, cfg.ClientCAs = tls.NoClientCert, nil
	}
	return cfg
}

// clientTLS trusts the CA of dir and, when withCert is true, presents the
// gateway's certificate.
func clientTLS(t *testing.T, dir string, withCert bool) *tls.Config {
	t.Helper()
	cfg, err := mesh.Credentials{Dir: dir}.TLSConfig("gateway")
	if err != nil {
		t.Fatalf("TLSConfig: %v", err)
	}
	if !withCert {
		cfg.Certificates = nil
	}
	return cfg
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
