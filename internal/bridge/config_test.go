package bridge_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/natstest"
)

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	m := member(t, natstest.Start(t), "bridge")
	dir := credentials(t)
	tests := []struct {
		name    string
		cfg     bridge.Config
		wantMsg string
	}{
		{"no transport", bridge.Config{}, "no transport security"},
		{"both transports", bridge.Config{InsecureH2C: true, TLS: serverTLS(t, dir, false)}, "exclusive"},
		{"TLS without certificate", bridge.Config{TLS: clientTLS(t, dir, false)}, "no server certificate"},
		{"negative timeout", bridge.Config{InsecureH2C: true, CallTimeout: -1}, "CallTimeout must be positive"},
		{"default above max", bridge.Config{InsecureH2C: true, MaxCallTimeout: 1}, "above MaxCallTimeout"},
		{"negative body", bridge.Config{InsecureH2C: true, MaxBodyBytes: -1}, "MaxBodyBytes"},
		{"bad bucket", bridge.Config{InsecureH2C: true, LicenseBucket: "a.b"}, "LicenseBucket"},
		{"no caller", bridge.Config{InsecureH2C: true}, "no Caller"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bridge.New(tt.cfg, m)
			if !errors.Is(err, bridge.ErrConfig) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want ErrConfig containing %q", err, tt.wantMsg)
			}
		})
	}
}

func TestServeRefusesH2COffLoopback(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	b, err := bridge.New(bridge.Config{InsecureH2C: true, Caller: bridge.ActAs("gateway")}, member(t, s, "bridge"))
	if err != nil {
		t.Fatal(err)
	}
	// A listener that claims a public address; nothing is accepted on it.
	ln := fakeAddrListener{addr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 8443}}
	err = b.Serve(context.Background(), ln)
	if !errors.Is(err, bridge.ErrNotLoopback) {
		t.Errorf("err = %v, want ErrNotLoopback", err)
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1:8443": true, "127.1.2.3:1": true, "[::1]:8443": true, "localhost:8443": true,
		"::1": true, "0.0.0.0:8443": false, ":8443": false, "192.0.2.1:8443": false,
		"[::]:8443": false, "example.com:8443": false, "": false,
	} {
		if got := bridge.IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

type fakeAddrListener struct{ addr net.Addr }

func (l fakeAddrListener) Accept() (net.Conn, error) { return nil, errors.New("not accepting") }
func (l fakeAddrListener) Close() error              { return nil }
func (l fakeAddrListener) Addr() net.Addr            { return l.addr }
