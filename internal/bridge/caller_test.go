package bridge_test

import (
	"context"
	"crypto/tls"
	"sync"
	"testing"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// The bridge calls for the identity of the client certificate, signing as
// itself; a certificate for an identity it may not act for, or none, is
// refused with a JSON error and nothing is published.
func TestClientCertificateNamesWhomTheBridgeCallsFor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m, err := demoMatrix(dir)
	if err != nil {
		t.Fatal(err)
	}
	srvTLS, err := mesh.Credentials{Dir: dir}.ServerTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	// Let the handshake through without a certificate, so the handler's own
	// refusal is what the test sees.
	srvTLS.ClientAuth = tls.VerifyClientCertIfGiven
	signer, err := mesh.Credentials{Dir: dir}.Signer("bridge", m)
	if err != nil {
		t.Fatal(err)
	}
	// The server admits anyone, so the bridge's client signs its calls with
	// a signer of its own; the booth verifies them.
	s := natstest.Start(t)
	plain := member(t, s, "bridge")
	client, err := plain.NewClient(rpc.WithAttemptMiddleware(signer.Middleware()))
	if err != nil {
		t.Fatal(err)
	}
	fx := startMeshAs(t, s, signing{plain, client}, func(c *bridge.Config) {
		c.InsecureH2C, c.TLS = false, srvTLS
		c.Caller = bridge.ClientCertificate("bridge", m)
	})
	verifier, err := calltoken.NewVerifier("fee-calc", m)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var principals []calltoken.Principal
	fx.startBooth(t, "fee-calc", func(b *rpc.Booth) error {
		return b.HandleRaw("/calculate", verifier.Middleware()(func(ctx context.Context, _ *rpc.Message) (*rpc.Message, error) {
			ci, _ := rpc.CallInfoFromContext(ctx)
			p := calltoken.Principal{Caller: ci.Caller, Actor: ci.Actor}
			mu.Lock()
			principals = append(principals, p)
			mu.Unlock()
			return &rpc.Message{Data: []byte(`{"amount":125}`)}, nil
		}))
	})
	w := fx.watch(t)

	clientAs := func(identity string) *tls.Config {
		tc, err := mesh.Credentials{Dir: dir}.TLSConfig("gateway")
		if err != nil {
			t.Fatal(err)
		}
		if identity == "" {
			tc.Certificates = nil
			return tc
		}
		own, err := mesh.Credentials{Dir: dir}.TLSConfig(identity)
		if err != nil {
			t.Fatal(err)
		}
		tc.Certificates = own.Certificates
		return tc
	}
	tests := []struct {
		name       string
		identity   string
		wantStatus int
		wantMsg    string
	}{
		{"gateway", "gateway", 200, ""},
		{"no certificate", "", 401, "a client certificate signed by the mesh CA is required"},
		{"booth certificate", "payment", 403, `the matrix does not let bridge act for "payment"`},
		{"the bridge's own certificate", "bridge", 403, `the matrix does not let bridge act for "bridge"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tlsClient(t, clientAs(tt.identity))
			res := doWith(t, c, "POST", fx.url+"/v1/call/fee-calc/calculate", `{}`, "Content-Type: application/json")
			svc, _ := w.published(t, fx)
			if tt.wantStatus == 200 {
				if res.status != 200 || string(res.body) != `{"amount":125}` || len(svc) != 1 {
					t.Errorf("got %d %s, %d publishes; want 200 and one call", res.status, res.body, len(svc))
				}
				return
			}
			if got := errorOf(t, res); res.status != tt.wantStatus || got.Message != tt.wantMsg {
				t.Errorf("got %d %q, want %d %q", res.status, got.Message, tt.wantStatus, tt.wantMsg)
			}
			if len(svc) != 0 {
				t.Errorf("published %v for a refused request, want nothing", svc)
			}
			// The license download is refused the same way.
			if res := doWith(t, c, "GET", fx.url+"/v1/licenses/lic-1", ""); res.status != tt.wantStatus {
				t.Errorf("license download: %d, want %d", res.status, tt.wantStatus)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if want := (calltoken.Principal{Caller: "gateway", Actor: "bridge"}); len(principals) != 1 || principals[0] != want {
		t.Errorf("the booth saw principals %+v, want one %+v", principals, want)
	}
}

// signing is a member whose client is another.
type signing struct {
	*mesh.Mesh
	client *rpc.Client
}

func (s signing) Client() *rpc.Client { return s.client }

// demoMatrix writes credentials for the demo matrix's identities in dir and
// returns the matrix with their keys.
func demoMatrix(dir string) (*matrix.Matrix, error) {
	m, err := matrix.Load("../../deployments/matrix.yaml")
	if err != nil {
		return nil, err
	}
	if _, err := pki.Init(dir, m.Identities(), pki.Options{}); err != nil {
		return nil, err
	}
	return m.LoadKeys(dir)
}
