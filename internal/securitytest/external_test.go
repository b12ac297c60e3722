package securitytest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/pki"
)

// startExternal runs a server from the config text `meshctl nats-config`
// prints, as an external server would run it.
func startExternal(t *testing.T) *server.Server {
	t.Helper()
	conf, err := natsauth.Config(demo, demo.Keys(), natsauth.ConfigOptions{Dir: dir, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(path, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	opts.Port, opts.NoLog, opts.NoSigs = -1, true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(5e9) {
		t.Fatal("external server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// What a NATS config cannot do: tie a certificate to an NKey. On a server
// run from the generated config, the gateway's certificate with the payment
// booth's NKey connects, but as payment: the NKey decides the identity and
// its permissions, and a certificate alone grants nothing. Impersonating an
// identity still takes that identity's NKey seed. (The embedded server binds
// the two and refuses this connection: TestConnectionAttacksAreRefused.)
func TestExternalConfigNKeyIsTheIdentity(t *testing.T) {
	s := startExternal(t)
	booth := newSpy(t, connectAs(t, s, "fee-calc"), "svc.fee-calc.>", "fee-calc")
	var v violations
	nc, err := nats.Connect(s.ClientURL(), nats.RootCAs(pki.CAFile(dir)),
		nats.ClientCert(pki.CertFile(dir, "gateway"), pki.KeyFile(dir, "gateway")),
		nkeyOf(t, "payment"), nats.CustomInboxPrefix(natsauth.InboxPrefix("payment")), v.handler())
	if err != nil {
		t.Fatalf("external server refused a mesh certificate with a mesh NKey: %v", err)
	}
	defer nc.Close()
	if err := nc.Publish("svc.fee-calc.calculate", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	v.waitFor(t, "Permissions Violation", "svc.fee-calc.calculate")
	if n := booth.settled(t); n != 0 {
		t.Errorf("the gateway's certificate let payment's NKey reach fee-calc: %d messages", n)
	}
	// The generated config refuses the same attacks at the TLS layer as the
	// embedded server does.
	for _, name := range []string{"foreign", "expired"} {
		err := tryConnect(t, s, nats.RootCAs(pki.CAFile(dir)),
			nats.ClientCert(filepath.Join(evil, name+".pem"), filepath.Join(evil, name+"-key.pem")), nkeyOf(t, "gateway"))
		if err == nil {
			t.Errorf("external server accepted the %s certificate", name)
		}
	}
	if err := tryConnect(t, s, nats.RootCAs(pki.CAFile(dir))); err == nil {
		t.Error("external server accepted a client with no credentials")
	}
}
