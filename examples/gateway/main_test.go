package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/bridge/testpki"
	"github.com/hms-svc/hms-svc/internal/natstest"
)

func TestRunIssuesOverTLSWithClientCertificate(t *testing.T) {
	t.Parallel()
	pki := testpki.New(t)
	s := natstest.Start(t)
	startBooths(t, s, []byte("%PDF-1.4\n"), false)
	base := startBridge(t, s, pki.ServerTLS(true))

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--bridge", base, "--cert", pki.ClientCert, "--key", pki.ClientKey, "--ca", pki.CAFile}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	want := regexp.MustCompile(`(?m)^license: ` + regexp.QuoteMeta(base) + `/v1/licenses/[0-9a-f-]{36}\nreceipt: [0-9a-f-]{36}\nfee:     125 USD\n`)
	if !want.MatchString(stdout.String()) {
		t.Errorf("stdout %q does not match %s", stdout.String(), want)
	}

	stderr.Reset()
	code = run(context.Background(), []string{"--bridge", base, "--ca", pki.CAFile}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "issuing the license: fee-calc /calculate") {
		t.Errorf("without a client certificate: exit %d, stderr %q; want 1 and the first call refused", code, stderr.String())
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
