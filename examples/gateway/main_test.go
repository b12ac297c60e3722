package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// meshCredentials writes credentials for the demo matrix's identities in a
// temporary folder and returns it with the matrix and its keys.
func meshCredentials(t *testing.T) (string, *matrix.Matrix) {
	t.Helper()
	dir := t.TempDir()
	m, err := matrix.Load("../../deployments/matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pki.Init(dir, m.Identities(), pki.Options{}); err != nil {
		t.Fatal(err)
	}
	if m, err = m.LoadKeys(dir); err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func TestRunIssuesWithTheMeshCredentialsAndSavesThePDF(t *testing.T) {
	t.Parallel()
	dir, m := meshCredentials(t)
	s := natstest.Start(t)
	pdf := []byte("%PDF-1.4\nAvery Johnson\n%%EOF\n")
	startBooths(t, s, pdf, false)
	srvTLS, err := mesh.Credentials{Dir: dir}.ServerTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	base := startBridge(t, s, srvTLS, bridge.ClientCertificate("bridge", m))
	save := filepath.Join(t.TempDir(), "license.pdf")

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--bridge", base, "--mesh-dir", dir, "--save-license", save}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	want := regexp.MustCompile(`(?m)^license: ` + regexp.QuoteMeta(base) + `/v1/licenses/[0-9a-f-]{36}\nreceipt: [0-9a-f-]{36}\nfee:     125 USD\n(.*\n){3}pdf:     ` +
		regexp.QuoteMeta(save) + ` \(` + strconv.Itoa(len(pdf)) + ` bytes, starts with %PDF\)\n\ntrace ([0-9a-f]{32}) \(12 hops, GET ` +
		regexp.QuoteMeta(base) + `/v1/traces/[0-9a-f]{32}\):\nsequenceDiagram\n(    .*\n){22}$`)
	if !want.MatchString(stdout.String()) {
		t.Errorf("stdout %q does not match %s", stdout.String(), want)
	}
	if got, err := os.ReadFile(save); err != nil || !bytes.Equal(got, pdf) {
		t.Errorf("saved %q (%v), want the PDF the printer stored", got, err)
	}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantMsg  string
	}{
		{"a booth's certificate", []string{"--identity", "payment"}, 1, `fee-calc /calculate: 403 the matrix does not let bridge act for "payment"`},
		{"no credentials", []string{"--mesh-dir", filepath.Join(dir, "none")}, 2, `ca.pem is missing (run meshctl init) ("make run" does it)`},
		{"only the CA", []string{"--ca", pki.CAFile(dir)}, 1, "issuing the license: fee-calc /calculate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"--bridge", base, "--mesh-dir", dir}, tt.args...)
			if code := run(context.Background(), args, &stdout, &stderr); code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantMsg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		wantMsg string
	}{
		{[]string{"--insecure-h2c", "--bridge", "https://127.0.0.1:8443"}, "--insecure-h2c speaks http://"},
		{[]string{"--bridge", "http://127.0.0.1:8443"}, "TLS needs https://"},
		{[]string{"--insecure-h2c", "--ca", "ca.pem"}, "exclusive"},
		{[]string{"--cert", "c.pem"}, "--cert and --key go together"},
		{[]string{"--bridge", "127.0.0.1:8443"}, "want scheme://host:port"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.wantMsg) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.wantMsg)
			}
		})
	}
}
