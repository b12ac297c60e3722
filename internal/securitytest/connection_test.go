package securitytest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/pki"
)

// Connection attacks: nobody gets a connection without a certificate from
// the mesh CA made for client use, still valid, AND the NKey of the identity
// that certificate names. Each attacker, once refused, has delivered nothing
// to the booth listening for the gateway's calls.
func TestConnectionAttacksAreRefused(t *testing.T) {
	s := startMesh(t)
	booth := newSpy(t, connectAs(t, s, "fee-calc"), "svc.fee-calc.>", "fee-calc")
	ca := nats.RootCAs(pki.CAFile(dir))
	cert := func(d, name string) nats.Option {
		return nats.ClientCert(filepath.Join(d, name+".pem"), filepath.Join(d, name+"-key.pem"))
	}
	// forced presents a certificate whatever CAs the server says it
	// accepts, as an attacker would (a polite TLS client sends none). It
	// speaks TLS 1.2 so that the server's alert ends the handshake itself and
	// the reason reaches the test every time; under TLS 1.3 the refusal is
	// the same but the alert may race the client's first write.
	forced := func(d, name string) nats.Option {
		pair, err := tls.LoadX509KeyPair(filepath.Join(d, name+".pem"), filepath.Join(d, name+"-key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		roots, err := tlsRoots(pki.CAFile(dir))
		if err != nil {
			t.Fatal(err)
		}
		return nats.Secure(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }})
	}
	stranger, _ := nkeys.CreateUser()

	tests := []struct {
		name string
		opts []nats.Option
		// wantErr is part of the error, lower case: the TLS alert for a
		// refused handshake, "authorization violation" when TLS succeeds and
		// the NKey authentication refuses.
		wantErr string
	}{
		{"client without TLS options", []nats.Option{nkeyOf(t, "gateway")}, "tls"},
		{"no credentials at all", []nats.Option{ca}, "tls"},
		{"certificate from a foreign CA", []nats.Option{forced(evil, "foreign"), nkeyOf(t, "gateway")}, "unknown certificate authority"},
		{"self-signed certificate", []nats.Option{forced(evil, "self-signed"), nkeyOf(t, "gateway")}, "unknown certificate authority"},
		{"expired certificate", []nats.Option{forced(evil, "expired"), nkeyOf(t, "gateway")}, "expired certificate"},
		{"server-only certificate as a client", []nats.Option{forced(dir, "server"), nkeyOf(t, "gateway")}, "bad certificate"},
		{"route certificate as a client", []nats.Option{ca, cert(dir, "route"), nkeyOf(t, "gateway")}, "authorization violation"},
		{"valid certificate, no NKey", []nats.Option{ca, cert(dir, "gateway")}, "authorization violation"},
		{"valid certificate, another identity's NKey", []nats.Option{ca, cert(dir, "gateway"), nkeyOf(t, "payment")}, "authorization violation"},
		{"valid certificate, unknown NKey", []nats.Option{ca, cert(dir, "gateway"), nkeyOption(stranger)}, "authorization violation"},
		{"NKey signing a forged nonce", []nats.Option{ca, cert(dir, "gateway"), forgedNkey(t, "gateway")}, "authorization violation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tryConnect(t, s, tt.opts...)
			if err == nil {
				t.Fatal("connected")
			}
			if !strings.Contains(strings.ToLower(err.Error()), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if n := booth.settled(t); n != 0 {
		t.Errorf("booth was delivered %d messages", n)
	}
}

// forgedNkey presents identity's public key but signs with another key.
func forgedNkey(t *testing.T, identity string) nats.Option {
	t.Helper()
	pub, err := pki.ReadPublicKey(dir, identity)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := nkeys.CreateUser()
	return nats.Nkey(pub, other.Sign)
}

// A plaintext client that ignores the server's demand for TLS and writes
// the protocol anyway is cut off; its publish reaches nobody.
func TestRawPlaintextPublishIsDropped(t *testing.T) {
	s := startMesh(t)
	booth := newSpy(t, connectAs(t, s, "fee-calc"), "svc.fee-calc.>", "fee-calc")
	conn, err := net.DialTimeout("tcp", s.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	info, err := r.ReadString('\n')
	if err != nil || !strings.Contains(info, `"tls_required":true`) {
		t.Fatalf("INFO = %q, %v; want tls_required", info, err)
	}
	_, _ = conn.Write([]byte("CONNECT {\"verbose\":false}\r\nPUB svc.fee-calc.calculate 2\r\nhi\r\nPING\r\n"))
	rest, _ := r.ReadString('\n')
	if strings.HasPrefix(rest, "PONG") {
		t.Fatal("server answered a plaintext PING")
	}
	if _, err := r.ReadByte(); err == nil {
		// Drain until the server closes; a TLS alert may come first.
		for err == nil {
			_, err = r.ReadByte()
		}
	}
	if n := booth.settled(t); n != 0 {
		t.Errorf("booth was delivered %d messages", n)
	}
}

// A TLS client that does not trust the mesh CA cannot be fooled into
// talking to an impostor: the mesh server's certificate verifies only
// against the mesh CA. Here the reverse: a client that trusts only a
// foreign CA refuses the mesh server.
func TestClientRefusesAServerOutsideItsCA(t *testing.T) {
	s := startMesh(t)
	err := tryConnect(t, s, nats.RootCAs(pki.CAFile(filepath.Join(evil, "foreign-ca"))),
		nats.ClientCert(pki.CertFile(dir, "gateway"), pki.KeyFile(dir, "gateway")), nkeyOf(t, "gateway"))
	var uae x509.UnknownAuthorityError
	if err == nil || !(errors.As(err, &uae) || strings.Contains(err.Error(), "unknown authority")) {
		t.Errorf("err = %v, want an unknown-authority error", err)
	}
}

func tlsRoots(caFile string) (*x509.CertPool, error) {
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, errors.New("no CA certificate in " + caFile)
	}
	return pool, nil
}
