package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/hms-svc/hms-svc/internal/bridge"
)

// Defaults of Config.
const (
	DefaultListen     = "127.0.0.1:8443"
	DefaultNATSListen = "127.0.0.1:4222"
	DefaultDataDir    = ".mesh/data"
)

// ErrNoTransportSecurity is matched by the error Validate returns when
// neither TLS files nor InsecureH2C are given.
var ErrNoTransportSecurity = errors.New("refusing to serve without transport security")

// Config is the process configuration of broker-bridge; its fields mirror
// the command's flags, which the error messages name.
type Config struct {
	// Listen is the HTTP address (--listen, 127.0.0.1:8443).
	Listen string
	// NATSURL is an external NATS server (--nats); empty starts an embedded
	// one on NATSListen (--nats-listen, 127.0.0.1:4222; port 0 picks a free
	// port) with JetStream data in DataDir (--data, .mesh/data).
	NATSURL    string
	NATSListen string
	DataDir    string
	// TLSCert and TLSKey are the server's PEM files (--tls-cert,
	// --tls-key); with TLSClientCA (--tls-client-ca) clients must present a
	// certificate that CA signed.
	TLSCert, TLSKey, TLSClientCA string
	// InsecureH2C serves cleartext HTTP/2 on a loopback Listen address
	// (--insecure-h2c).
	InsecureH2C bool
	// Bridge holds the bridge's limits; its TLS and InsecureH2C are set
	// from the fields above.
	Bridge bridge.Config
	// Logger receives the process's logs (slog.Default()).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.NATSListen == "" {
		c.NATSListen = DefaultNATSListen
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports the first problem of c, after defaults are applied, in
// the command's terms.
func (c *Config) Validate() error {
	tlsFiles := c.TLSCert != "" || c.TLSKey != ""
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return errors.New("--tls-cert and --tls-key go together: pass both")
	case c.TLSClientCA != "" && !tlsFiles:
		return errors.New("--tls-client-ca needs --tls-cert and --tls-key")
	case c.InsecureH2C && tlsFiles:
		return errors.New("--insecure-h2c and --tls-cert/--tls-key are exclusive: pass one")
	case !c.InsecureH2C && !tlsFiles:
		return fmt.Errorf("%w: pass --tls-cert and --tls-key (and --tls-client-ca to require client certificates), or --insecure-h2c for cleartext HTTP/2 on a loopback --listen address", ErrNoTransportSecurity)
	case c.InsecureH2C && !bridge.IsLoopback(c.Listen):
		return fmt.Errorf("--insecure-h2c refused: --listen %q is not a loopback address; serve TLS with --tls-cert and --tls-key instead", c.Listen)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("--listen %q: %v", c.Listen, err)
	}
	if c.NATSURL != "" {
		return nil
	}
	if _, _, err := splitHostPort(c.NATSListen); err != nil {
		return fmt.Errorf("--nats-listen %q: %v", c.NATSListen, err)
	}
	if !bridge.IsLoopback(c.NATSListen) {
		return fmt.Errorf("--nats-listen %q refused: the embedded NATS server has no authentication yet, so it listens on loopback only", c.NATSListen)
	}
	return nil
}

// splitHostPort splits a "host:port" address; port 0 means any free port,
// which embednats spells -1.
func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q must be a number in [0,65535]", p)
	}
	if port == 0 {
		port = -1
	}
	return host, port, nil
}
