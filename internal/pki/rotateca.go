package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// RotateCA replaces the CA while the mesh runs. It makes a new CA and adds
// it to the trust bundle ca.pem (after the current one), waits opts.Wait,
// then makes it the issuer (first in ca.pem, its key in ca-key.pem) and
// signs the certificates of names again with it, each keeping its key. The
// old CA stays trusted until RetireOldCA. A rotation interrupted after the
// first step is finished by running RotateCA again.
func RotateCA(dir string, names []string, opts RotateOptions) (*Report, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	certs, err := ReadCerts(CAFile(dir))
	if err != nil {
		return nil, err
	}
	next, err := LoadCA(dir) // reads the first certificate: replaced below
	if err != nil {
		return nil, err
	}
	resume, err := exists(CertFile(dir, NextCAName))
	if err != nil {
		return nil, err
	}
	if resume {
		if next.Cert, err = ReadCert(CertFile(dir, NextCAName)); err != nil {
			return nil, err
		}
		if next.Key, err = ReadKey(KeyFile(dir, NextCAName)); err != nil {
			return nil, err
		}
	} else {
		now := time.Now()
		if next, err = NewCA("HMS-SVC internal CA", now.Add(-time.Minute), now.Add(CAValidity)); err != nil {
			return nil, err
		}
		if err := WritePair(dir, NextCAName, next.Cert, next.Key); err != nil {
			return nil, err
		}
		if err := writeBundle(dir, append(certs, next.Cert)); err != nil {
			return nil, err
		}
		time.Sleep(opts.Wait)
	}
	others := slices.DeleteFunc(certs, func(c *x509.Certificate) bool { return c.Equal(next.Cert) })
	if err := writeBundle(dir, append([]*x509.Certificate{next.Cert}, others...)); err != nil {
		return nil, err
	}
	key, err := KeyPEM(next.Key)
	if err != nil {
		return nil, err
	}
	if err := WriteFile(KeyFile(dir, CAName), key, SecretMode); err != nil {
		return nil, fmt.Errorf("pki: writing the CA key: %w", err)
	}
	rep := &Report{Created: []string{CAName}}
	for _, n := range names {
		if err := reissue(dir, next, n, true); err != nil {
			return nil, err
		}
		rep.Created = append(rep.Created, n)
	}
	for _, f := range []string{CertFile(dir, NextCAName), KeyFile(dir, NextCAName)} {
		if err := os.Remove(f); err != nil {
			return nil, fmt.Errorf("pki: %w", err)
		}
	}
	return rep, nil
}

// RetireOldCA removes from the trust bundle every CA but the issuer, once
// the certificates of names are all signed by the issuer. It reports
// whether there was an old CA to remove.
func RetireOldCA(dir string, names []string) (bool, error) {
	if have, err := exists(CertFile(dir, NextCAName)); err != nil || have {
		if have {
			err = errors.New("pki: a CA rotation is under way: finish it first (meshctl rotate --ca)")
		}
		return false, err
	}
	certs, err := ReadCerts(CAFile(dir))
	if err != nil {
		return false, err
	}
	if len(certs) == 1 {
		return false, nil
	}
	for _, n := range names {
		cert, err := ReadCert(CertFile(dir, n))
		if err != nil {
			return false, err
		}
		if cert.CheckSignatureFrom(certs[0]) != nil {
			return false, fmt.Errorf("pki: %s is not signed by the current CA yet: finish the CA rotation (meshctl rotate --ca) first", CertFile(dir, n))
		}
	}
	return true, writeBundle(dir, certs[:1])
}

// writeBundle writes certs as the trust bundle ca.pem, the issuer first.
func writeBundle(dir string, certs []*x509.Certificate) error {
	var b bytes.Buffer
	for _, c := range certs {
		b.Write(CertPEM(c))
	}
	if err := WriteFile(CAFile(dir), b.Bytes(), PublicMode); err != nil {
		return fmt.Errorf("pki: writing the trust bundle: %w", err)
	}
	return nil
}
