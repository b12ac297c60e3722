package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// newHTTPClient returns a client that speaks HTTP/2 only: cleartext (prior
// knowledge) with insecureH2C, else over TLS trusting caFile (the system
// roots when empty) and presenting certFile/keyFile when given.
func newHTTPClient(insecureH2C bool, certFile, keyFile, caFile string, timeout time.Duration) (*http.Client, error) {
	var protos http.Protocols
	tr := &http.Transport{Protocols: &protos}
	if insecureH2C {
		if certFile != "" || keyFile != "" || caFile != "" {
			return nil, errors.New("--insecure-h2c and --cert/--key/--ca are exclusive")
		}
		protos.SetUnencryptedHTTP2(true)
		return &http.Client{Transport: tr, Timeout: timeout}, nil
	}
	protos.SetHTTP2(true)
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("--cert and --key go together: pass both")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("loading --cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("reading --ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s holds no PEM certificate", caFile)
		}
	}
	tr.TLSClientConfig = cfg
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// meshClient returns a client that speaks HTTP/2 over TLS with identity's
// client certificate from the credentials folder dir, trusting only the mesh
// CA.
func meshClient(dir, identity string, timeout time.Duration) (*http.Client, error) {
	cfg, err := mesh.Credentials{Dir: dir}.TLSConfig(identity)
	if err != nil {
		return nil, fmt.Errorf("%w (\"make run\" does it)", err)
	}
	var protos http.Protocols
	protos.SetHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &protos, TLSClientConfig: cfg}, Timeout: timeout}, nil
}
