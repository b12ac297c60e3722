package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// k8s-secrets prints the Secrets of the identities asked for and of the
// NATS servers, and says which flag is wrong.
func TestK8sSecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".mesh")
	if out, code := meshctl(t, "init", "--dir", dir, "--matrix", matrixPath); code != 0 {
		t.Fatalf("init: %d %s", code, out)
	}
	out, code := meshctl(t, "k8s-secrets", "--dir", dir, "--matrix", matrixPath, "--namespace", "hms", "--identity", "fee-calc")
	if code != 0 {
		t.Fatalf("k8s-secrets: %d %s", code, out)
	}
	for _, want := range []string{"kind: Secret", "name: hms-svc-mesh-fee-calc", "name: hms-svc-nats-tls", "namespace: hms", "fee-calc.nk:", "nkeys.conf:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%.600s", want, out)
		}
	}
	if strings.Count(out, "kind: Secret") != 2 || strings.Contains(out, "ca-key") || strings.Contains(out, "payment.nk") {
		t.Errorf("output holds more than fee-calc's and the NATS Secret:\n%.600s", out)
	}
	if out, code := meshctl(t, "k8s-secrets", "--dir", dir, "--matrix", matrixPath, "--identity", "nobody"); code != 1 || !strings.Contains(out, `"nobody"`) {
		t.Errorf("an unknown identity: %d %s, want 1 naming it", code, out)
	}
}
