package bridge_test

import (
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/bridge/testpki"
)

func TestTLSServesHTTP2(t *testing.T) {
	t.Parallel()
	pki := testpki.New(t)
	m := startMesh(t, func(c *bridge.Config) { c.InsecureH2C = false; c.TLS = pki.ServerTLS(false) })
	rawBooth(t, m, `{"amount":125}`)
	res := doWith(t, tlsClient(t, pki.ClientTLS(false)), "POST", m.url+"/v1/call/fee-calc/calculate", `{}`, "Content-Type: application/json")
	if res.status != 200 || res.proto != 2 || string(res.body) != `{"amount":125}` {
		t.Errorf("got %d over HTTP/%d %s, want 200 over HTTP/2", res.status, res.proto, res.body)
	}
}

func TestTLSWithClientCARequiresAClientCertificate(t *testing.T) {
	t.Parallel()
	pki := testpki.New(t)
	m := startMesh(t, func(c *bridge.Config) { c.InsecureH2C = false; c.TLS = pki.ServerTLS(true) })

	res := doWith(t, tlsClient(t, pki.ClientTLS(true)), "GET", m.url+"/healthz", "")
	if res.status != 200 || res.proto != 2 {
		t.Errorf("with a client certificate: %d over HTTP/%d, want 200 over HTTP/2", res.status, res.proto)
	}

	_, err := tlsClient(t, pki.ClientTLS(false)).Get(m.url + "/healthz")
	if !handshakeRefused(err) {
		t.Errorf("without a client certificate: err = %v, want a refused handshake", err)
	}

	other := testpki.New(t) // a client certificate from another CA
	cfg := pki.ClientTLS(false)
	cfg.Certificates = other.ClientTLS(true).Certificates
	_, err = tlsClient(t, cfg).Get(m.url + "/healthz")
	if err == nil {
		t.Errorf("with a certificate from another CA: no error, want a refused handshake")
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
