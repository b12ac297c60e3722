package bench

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// The plain Go server answers the fee request like fee-calc, over h2c and
// over HTTPS with a mesh client certificate, and the HTTP/2 generator
// drives it.
func TestPlainServerAnswersOverH2CAndMTLS(t *testing.T) {
	c, err := NewCreds(t.TempDir(), testDemoMatrix)
	if err != nil {
		t.Fatal(err)
	}
	work, err := NewFeeWork(testFeeTable)
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := mesh.Credentials{Dir: c.Dir}.ServerTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	gw, err := mesh.Credentials{Dir: c.Dir}.TLSConfig("gateway")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		server *tls.Config
		scheme string
		client *http.Client
	}{
		{"h2c", nil, "http", h2cClient()},
		{"mTLS", serverTLS, "https", tlsClient(gw)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- ServePlain(ctx, ln, PlainHandler(work), tt.server) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("ServePlain: %v", err)
				}
			}()
			url := tt.scheme + "://" + ln.Addr().String() + callPath
			res, err := tt.client.Post(url, "application/json", strings.NewReader(string(FeeBody)))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if got, want := string(body), `{"license_type":"professional-engineer","amount":125,"currency":"USD"}`; got != want || res.ProtoMajor != 2 {
				t.Errorf("got %s %q, want HTTP/2 %q", res.Proto, got, want)
			}
			if tt.server != nil {
				g := NewH2Gen(url, gw, 2, 2)
				defer g.Close()
				r, err := g.Run(context.Background(), 0, 100*time.Millisecond)
				if err != nil || r.Calls == 0 {
					t.Errorf("generator: %d calls, err %v; want some and no error", r.Calls, err)
				}
			}
		})
	}
}

func TestParseH2Load(t *testing.T) {
	ok := `finished in 3.00s, 12345.67 req/s, 1.23MB/s
requests: 37037 total, 37037 started, 37037 done, 37037 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 37037 2xx, 0 3xx, 0 4xx, 0 5xx`
	r, err := parseH2Load(ok)
	if err != nil {
		t.Fatal(err)
	}
	if r.Calls != 37037 || r.Elapsed != 3*time.Second {
		t.Errorf("got %d calls in %v, want 37037 in 3s", r.Calls, r.Elapsed)
	}
	rare := strings.Replace(ok, "0 4xx", "5 4xx", 1)
	if r, err := parseH2Load(rare); err != nil || r.Errors != 5 {
		t.Errorf("5 failures in 37037: %d counted, err %v; want 5 counted and the run kept", r.Errors, err)
	}
	many := strings.Replace(ok, "0 5xx", "3000 5xx", 1)
	if _, err := parseH2Load(many); err == nil {
		t.Errorf("a run with 8%% 5xx answers was accepted")
	}
	if _, err := parseH2Load("garbage"); err == nil {
		t.Errorf("unreadable output was accepted")
	}
}
