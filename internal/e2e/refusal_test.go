package e2e

import (
	"crypto/tls"
	"encoding/json"
	"strings"
	"testing"
)

// The bridge admits only mesh client certificates, and calls only for the
// identities the matrix lets it act for.
func TestTheBridgeRefusesWhomItMayNotCallFor(t *testing.T) {
	m := startMesh(t)
	m.waitForBooths(t, httpsClient(t, certOf(t, dir, "gateway")))
	const body = `{"license_type":"professional-engineer"}`
	calculate := m.url + "/v1/call/fee-calc/calculate"

	refused := []struct {
		name string
		cert []tls.Certificate
	}{
		{"no client certificate", nil},
		{"a foreign CA's certificate", certOf(t, foreign, "gateway")},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			res, err := do(t, httpsClient(t, tt.cert), "POST", calculate, body, "Content-Type: application/json")
			if err == nil {
				t.Fatalf("got %d %s, want the TLS handshake refused", res.status, res.body)
			}
			if !handshakeRefused(err) {
				t.Errorf("err = %v, want a refused handshake", err)
			}
		})
	}

	tests := []struct {
		identity   string
		wantStatus int
		wantMsg    string
	}{
		{"gateway", 200, ""},
		{"payment", 403, `the matrix does not let bridge act for "payment"`},
		{"audit-log", 403, `the matrix does not let bridge act for "audit-log"`},
		{"bridge", 403, `the matrix does not let bridge act for "bridge"`},
	}
	for _, tt := range tests {
		t.Run(tt.identity+"'s certificate", func(t *testing.T) {
			res := mustDo(t, httpsClient(t, certOf(t, dir, tt.identity)), "POST", calculate, body, "Content-Type: application/json")
			if res.status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", res.status, res.body, tt.wantStatus)
			}
			if tt.wantStatus == 200 {
				if !strings.Contains(string(res.body), `"amount":125`) {
					t.Errorf("reply %s, want the fee", res.body)
				}
				return
			}
			var e struct {
				Error struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(res.body, &e); err != nil || res.header.Get("Content-Type") != "application/json" {
				t.Fatalf("body %s (%s), want a JSON error", res.body, res.header.Get("Content-Type"))
			}
			if e.Error.Code != tt.wantStatus || e.Error.Message != tt.wantMsg {
				t.Errorf("error %+v, want %d %q", e.Error, tt.wantStatus, tt.wantMsg)
			}
		})
	}
}

// handshakeRefused reports whether err is the client's view of a server
// refusing its TLS handshake: the alert when it arrives in time, or the
// closed connection when the server hung up first (which HTTP/2 may report
// as a connection it could not establish).
func handshakeRefused(err error) bool {
	for _, s := range []string{"certificate required", "bad certificate", "unknown certificate authority", "broken pipe", "connection reset", "EOF",
		"client conn could not be established"} { // the alert lost as the server hung up: http2 sees no settings
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}
