package meshcreds

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/hms-svc/hms-svc/internal/pki"
)

// need checks that every path exists, naming the first missing one.
func need(paths ...string) error {
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("meshcreds: %s is missing (run meshctl init)", p)
			}
			return fmt.Errorf("meshcreds: %w", err)
		}
	}
	return nil
}

// caPool reads the mesh CA from dir.
func caPool(dir string) (*x509.CertPool, error) {
	path := pki.CAFile(dir)
	if err := need(path); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("meshcreds: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("meshcreds: %s holds no PEM certificate", path)
	}
	return pool, nil
}

// keyPair reads name's certificate and key from dir.
func keyPair(dir, name string) (tls.Certificate, error) {
	cert, key := pki.CertFile(dir, name), pki.KeyFile(dir, name)
	if err := need(cert, key); err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("meshcreds: %s / %s: %w", cert, key, err)
	}
	return pair, nil
}
