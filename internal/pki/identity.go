package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// TrustDomain is the authority of the URIs that name identities.
const TrustDomain = "hms-svc"

// RouteURI names the NATS route certificate. Its path has two segments, so no
// identity (always one segment) can ever be mistaken for it.
var RouteURI = &url.URL{Scheme: "spiffe", Host: TrustDomain, Path: "/mesh/route"}

// ErrNoIdentity is matched by the error of IdentityOf for a certificate that
// names no mesh identity.
var ErrNoIdentity = errors.New("certificate names no mesh identity")

// IdentityURI returns the URI SAN that names identity:
// "spiffe://hms-svc/<identity>".
func IdentityURI(identity string) *url.URL {
	return &url.URL{Scheme: "spiffe", Host: TrustDomain, Path: "/" + identity}
}

// ValidateIdentity checks an identity name: a valid service name that Init
// does not use for its own files.
func ValidateIdentity(name string) error {
	if err := subjects.ValidateService(name); err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	if reservedNames[name] {
		return fmt.Errorf("identity %q is reserved for the mesh's own certificate files", name)
	}
	return nil
}

// IdentityOf returns the identity a client certificate names in its URI SAN.
// It does not verify the certificate: call it on a verified chain's leaf.
// The Common Name, when set, must agree with the URI.
func IdentityOf(cert *x509.Certificate) (string, error) {
	if cert == nil {
		return "", fmt.Errorf("%w: no certificate", ErrNoIdentity)
	}
	found := ""
	for _, u := range cert.URIs {
		if u.Scheme != "spiffe" || u.Host != TrustDomain {
			continue
		}
		name := strings.TrimPrefix(u.Path, "/")
		if ValidateIdentity(name) != nil {
			continue
		}
		if found != "" && found != name {
			return "", fmt.Errorf("%w: certificate names two identities (%q, %q)", ErrNoIdentity, found, name)
		}
		found = name
	}
	if found == "" {
		return "", fmt.Errorf("%w: no spiffe://%s/<identity> URI SAN", ErrNoIdentity, TrustDomain)
	}
	if cn := cert.Subject.CommonName; cn != "" && cn != found {
		return "", fmt.Errorf("%w: common name %q disagrees with URI identity %q", ErrNoIdentity, cn, found)
	}
	return found, nil
}
