package securitytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/pkitest"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// Made once for the package by TestMain.
var (
	// dir is the mesh's credentials folder for the demo matrix.
	dir string
	// demo is the demo matrix with the keys in dir.
	demo *matrix.Matrix
	// evil holds the attacker's certificates: "<name>.pem"/"<name>-key.pem"
	// for foreign (signed by another CA), self-signed, expired (signed by
	// the mesh CA, expired yesterday); all name the gateway.
	evil string
)

func TestMain(m *testing.M) {
	pkitest.Main(m, "securitytest", "../../deployments/matrix.yaml", func(pm *pkitest.Mesh) error {
		dir, demo = pm.Dir, pm.Matrix
		evil = filepath.Join(pm.Root, "evil")
		return makeEvil()
	})
}

func makeEvil() error {
	// A foreign CA's certificate for "gateway".
	foreign := filepath.Join(evil, "foreign-ca")
	if _, err := pki.Init(foreign, []string{"gateway"}, pki.Options{}); err != nil {
		return err
	}
	leaf, err := pki.ReadCert(pki.CertFile(foreign, "gateway"))
	if err != nil {
		return err
	}
	key, err := pki.ReadKey(pki.KeyFile(foreign, "gateway"))
	if err != nil {
		return err
	}
	if err := pki.WritePair(evil, "foreign", leaf, key); err != nil {
		return err
	}
	// The mesh CA's certificate for "gateway" that expired yesterday.
	ca, err := pki.LoadCA(dir)
	if err != nil {
		return err
	}
	now := time.Now()
	expired, err := ca.Issue(pki.CertSpec{CommonName: "gateway", URIs: []*url.URL{pki.IdentityURI("gateway")},
		Usage: pki.ClientAuth, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	if err != nil {
		return err
	}
	if err := pki.WritePair(evil, "expired", expired.Cert, expired.Key); err != nil {
		return err
	}
	// A self-signed client certificate for "gateway".
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gateway"},
		URIs:      []*url.URL{pki.IdentityURI("gateway")},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return err
	}
	self, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	return pki.WritePair(evil, "self-signed", self, k)
}
