package pki

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"time"
)

// Options adjust Init.
type Options struct {
	// SANs are extra host names or IP addresses for the server and route
	// certificates, besides localhost, 127.0.0.1 and ::1.
	SANs []string
	// Rotate replaces every key and certificate, the CA's included (not
	// the operator's NKey, which signs the revocation list). It is for a
	// mesh that is stopped; Rotate and RotateCA replace them while it runs.
	Rotate bool
}

// Report says what Init did, file stem by file stem ("ca", "server",
// "fee-calc", "fee-calc.nk").
type Report struct {
	Created []string
	Kept    []string
}

// Init makes or completes the credentials folder dir for identities: a CA,
// a server and a route certificate, and per identity a client certificate
// and an NKey. What exists and is still good is kept (so re-running Init
// changes nothing); an expired certificate, one the CA did not sign, or a
// server certificate lacking a requested name is re-issued with its existing
// key. Rotate replaces everything.
func Init(dir string, identities []string, opts Options) (*Report, error) {
	seen := map[string]bool{}
	for _, id := range identities {
		if err := ValidateIdentity(id); err != nil {
			return nil, fmt.Errorf("pki: %w", err)
		}
		if seen[id] {
			return nil, fmt.Errorf("pki: identity %q is listed twice", id)
		}
		seen[id] = true
	}
	dns, ips, err := serverNames(opts.SANs)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	if err := os.Chmod(dir, DirMode); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	in := &initer{dir: dir, rotate: opts.Rotate, rep: &Report{}}
	if err := in.ca(); err != nil {
		return nil, err
	}
	for _, name := range []string{ServerName, RouteName} {
		if err := in.leaf(name, leafSpec(name, dns, ips)); err != nil {
			return nil, err
		}
	}
	for _, id := range identities {
		if err := in.leaf(id, leafSpec(id, nil, nil)); err != nil {
			return nil, err
		}
		if err := in.nkey(id); err != nil {
			return nil, err
		}
	}
	if err := in.operator(); err != nil {
		return nil, err
	}
	return in.rep, nil
}

// leafSpec describes the certificate of name: the server's and the route's
// with the host names and addresses given, an identity's naming it.
func leafSpec(name string, dns []string, ips []net.IP) CertSpec {
	switch name {
	case ServerName:
		return CertSpec{CommonName: "hms-svc server", DNSNames: dns, IPs: ips, Usage: ServerAuth}
	case RouteName:
		return CertSpec{CommonName: "hms-svc route", URIs: []*url.URL{RouteURI}, DNSNames: dns, IPs: ips, Usage: ServerAuth | ClientAuth}
	}
	return CertSpec{CommonName: name, URIs: []*url.URL{IdentityURI(name)}, Usage: ClientAuth}
}

// serverNames splits SANs into host names and IP addresses, loopback first.
func serverNames(sans []string) ([]string, []net.IP, error) {
	dns := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	for _, s := range sans {
		if ip := net.ParseIP(s); ip != nil {
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			continue
		}
		if s == "" || len(s) > 253 {
			return nil, nil, fmt.Errorf("pki: bad SAN %q", s)
		}
		if !slices.Contains(dns, s) {
			dns = append(dns, s)
		}
	}
	return dns, ips, nil
}

type initer struct {
	dir    string
	rotate bool
	rep    *Report
	caCert *x509.Certificate
	caKey  crypto.Signer // loaded only when something must be signed
	caNew  bool
}

func (in *initer) ca() error {
	have, err := exists(CAFile(in.dir))
	if err != nil {
		return err
	}
	if have && !in.rotate {
		cert, err := ReadCert(CAFile(in.dir))
		if err != nil {
			return err
		}
		if time.Now().Before(cert.NotAfter) {
			in.caCert = cert
			in.rep.Kept = append(in.rep.Kept, CAName)
			return nil
		}
	}
	now := time.Now()
	ca, err := NewCA("HMS-SVC internal CA", now.Add(-time.Minute), now.Add(CAValidity))
	if err != nil {
		return err
	}
	if err := WritePair(in.dir, CAName, ca.Cert, ca.Key); err != nil {
		return err
	}
	in.caCert, in.caKey, in.caNew = ca.Cert, ca.Key, true
	in.rep.Created = append(in.rep.Created, CAName)
	return nil
}

// signer returns the CA key, reading it on first use.
func (in *initer) signer() (*CA, error) {
	if in.caKey == nil {
		key, err := ReadKey(KeyFile(in.dir, CAName))
		if err != nil {
			return nil, fmt.Errorf("%w (the CA key is needed to issue certificates; run with rotate to start over)", err)
		}
		in.caKey = key
	}
	return &CA{Cert: in.caCert, Key: in.caKey}, nil
}

// leaf keeps name's certificate if it is still good for spec, or issues it.
func (in *initer) leaf(name string, spec CertSpec) error {
	var key crypto.Signer
	if !in.rotate {
		haveKey, err := exists(KeyFile(in.dir, name))
		if err != nil {
			return err
		}
		if haveKey {
			if key, err = ReadKey(KeyFile(in.dir, name)); err != nil {
				return err
			}
			if cert, err := ReadCert(CertFile(in.dir, name)); err == nil && in.good(cert, key, spec) {
				in.rep.Kept = append(in.rep.Kept, name)
				return nil
			}
		}
	}
	ca, err := in.signer()
	if err != nil {
		return err
	}
	spec.Key = key
	leaf, err := ca.Issue(spec)
	if err != nil {
		return err
	}
	if err := WritePair(in.dir, name, leaf.Cert, leaf.Key); err != nil {
		return err
	}
	in.rep.Created = append(in.rep.Created, name)
	return nil
}

// good reports whether an existing certificate still serves spec.
func (in *initer) good(cert *x509.Certificate, key crypto.Signer, spec CertSpec) bool {
	if in.caNew || cert.CheckSignatureFrom(in.caCert) != nil || time.Now().After(cert.NotAfter) {
		return false
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return false
	}
	for _, d := range spec.DNSNames {
		if !slices.Contains(cert.DNSNames, d) {
			return false
		}
	}
	for _, ip := range spec.IPs {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	for _, u := range spec.URIs {
		if !slices.ContainsFunc(cert.URIs, func(c *url.URL) bool { return c.String() == u.String() }) {
			return false
		}
	}
	return true
}

func (in *initer) nkey(id string) error {
	stem := id + ".nk"
	if !in.rotate {
		have, err := exists(SeedFile(in.dir, id))
		if err != nil {
			return err
		}
		if have {
			kp, err := ReadKeyPair(in.dir, id)
			if err != nil {
				return err
			}
			want, _ := kp.PublicKey()
			if got, err := ReadPublicKey(in.dir, id); err != nil || got != want {
				if err := writePub(in.dir, id, kp); err != nil {
					return err
				}
			}
			in.rep.Kept = append(in.rep.Kept, stem)
			return nil
		}
	}
	if err := writeNKey(in.dir, id); err != nil {
		return err
	}
	in.rep.Created = append(in.rep.Created, stem)
	return nil
}
