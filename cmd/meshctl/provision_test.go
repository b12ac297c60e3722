package main

import (
	"strings"
	"testing"
)

// meshctl provision creates the stores as the provisioner identity, is a
// no-op the second time, and is refused to another identity and for a bad
// flag, naming why.
func TestProvisionOnTheSecureMesh(t *testing.T) {
	srv, dir := secureTraceMesh(t) // SVC_TRACE exists, with a shorter retention
	conn := []string{"--nats", srv.ClientURL(), "--mesh-dir", dir}

	out, code := meshctl(t, append([]string{"provision"}, conn...)...)
	if code != 0 || !strings.Contains(out, "provisioned 5 stores on "+srv.ClientURL()+" as provisioner: 4 created, 1 updated, 0 unchanged") ||
		!strings.Contains(out, "created   kv PAYMENTS (stream KV_PAYMENTS): 1 replica(s)") {
		t.Fatalf("first run: exit %d %q", code, out)
	}
	out, code = meshctl(t, append([]string{"provision"}, conn...)...)
	if code != 0 || !strings.Contains(out, "0 created, 0 updated, 5 unchanged") {
		t.Errorf("second run: exit %d %q, want nothing changed", code, out)
	}
	out, code = meshctl(t, append([]string{"provision", "--as", "payment", "--timeout", "20s"}, conn...)...)
	if code != 1 || !strings.Contains(out, "only the provisioner may create or update a store") || !strings.Contains(out, "$JS.API.STREAM.INFO.AUDIT") {
		t.Errorf("as payment: exit %d %q, want 1 naming the refused API", code, out)
	}
	out, code = meshctl(t, append([]string{"provision", "--replicas", "7"}, conn...)...)
	if code != 1 || !strings.Contains(out, "replicas must be 1 to 5") {
		t.Errorf("--replicas 7: exit %d %q, want 1 naming the bad count", code, out)
	}
}
