package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"

	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// PlainConfig configures the plain Go server child process.
type PlainConfig struct {
	// Listen is a loopback address (port 0 picks one).
	Listen string
	// FeeTable is the fee table the JSON work reads.
	FeeTable string
	// TLSDir, when set, serves HTTPS with the mesh's server certificate
	// from this credentials folder and requires a client certificate from
	// the mesh CA, as the bridge does; otherwise cleartext h2c and HTTP/1.1.
	TLSDir string
}

// RunPlain serves the plain Go server until ctx ends. It prints
// "plain listening addr=ADDR" to out once it accepts connections.
func RunPlain(ctx context.Context, cfg PlainConfig, out io.Writer) error {
	work, err := NewFeeWork(cfg.FeeTable)
	if err != nil {
		return err
	}
	var tc *tls.Config
	if cfg.TLSDir != "" {
		if tc, err = (mesh.Credentials{Dir: cfg.TLSDir}).ServerTLSConfig(); err != nil {
			return err
		}
	}
	if !isLoopback(cfg.Listen) {
		return fmt.Errorf("bench: plain server: %q is not a loopback address", cfg.Listen)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "plain listening addr=%s\n", ln.Addr())
	return ServePlain(ctx, ln, PlainHandler(work), tc)
}

// isLoopback reports whether addr's host is a loopback IP address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
