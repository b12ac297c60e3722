package matrix_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/pkg/matrix"
)

func demo(t *testing.T) *matrix.Matrix {
	t.Helper()
	m, err := matrix.Load("../../deployments/matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDemoMatrixAllows(t *testing.T) {
	t.Parallel()
	m := demo(t)
	if got, want := m.Identities(), []string{"audit-log", "bridge", "fee-calc", "gateway", "inspector", "license-printer", "observer", "payment", "provisioner"}; !slices.Equal(got, want) {
		t.Errorf("Identities() = %v, want %v", got, want)
	}
	if got, want := m.Services(), []string{"audit-log", "fee-calc", "license-printer", "payment"}; !slices.Equal(got, want) {
		t.Errorf("Services() = %v, want %v", got, want)
	}
	tests := []struct {
		caller, service, path string
		want                  bool
	}{
		{"gateway", "fee-calc", "/calculate", true},
		{"gateway", "fee-calc", "calculate", true},
		{"gateway", "payment", "/charge", true},
		{"gateway", "license-printer", "/generate", true},
		{"gateway", "audit-log", "/record", true},
		{"gateway", "payment", "/refund", false},
		{"gateway", "fee-calc", "/calculate/x", false},
		{"gateway", "fee-calc", "/calc*", false},
		{"gateway", "fee-calc", "", false},
		{"bridge", "fee-calc", "/calculate", false}, // only on the gateway's behalf
		{"payment", "audit-log", "/record", false},
		{"fee-calc", "fee-calc", "/calculate", false},
		{"nobody", "fee-calc", "/calculate", false},
		{"gateway", "nothing", "/calculate", false},
		{"inspector", "audit-log", "/record", false}, // an operator calls nothing
	}
	for _, tt := range tests {
		if got := m.Allowed(tt.caller, tt.service, tt.path); got != tt.want {
			t.Errorf("Allowed(%s, %s, %s) = %v, want %v", tt.caller, tt.service, tt.path, got, tt.want)
		}
	}
	if !m.AllowedFor("bridge", "gateway", "payment", "/charge") {
		t.Error("bridge may not charge on the gateway's behalf")
	}
	if m.AllowedFor("payment", "gateway", "payment", "/charge") {
		t.Error("payment may act for the gateway")
	}
	if m.MayActFor("gateway", "bridge") {
		t.Error("gateway may act for the bridge")
	}
	if got := m.Paths("gateway", "payment"); !slices.Equal(got, []string{"/charge"}) {
		t.Errorf("Paths(gateway, payment) = %v", got)
	}
	in, ok := m.Identity("inspector")
	wantGrants := []matrix.Grant{
		{Store: matrix.StoreStream, Name: "AUDIT", Access: matrix.AccessRead},
		{Store: matrix.StoreStream, Name: "SVC_TRACE", Access: matrix.AccessRead},
	}
	if !ok || in.Kind != matrix.KindOperator || len(in.Calls) != 0 || !slices.EqualFunc(in.JetStream, wantGrants, func(a, b matrix.Grant) bool {
		return a.Store == b.Store && a.Name == b.Name && a.Access == b.Access && len(a.Subjects) == 0
	}) {
		t.Errorf("inspector = %+v, want an operator reading AUDIT and SVC_TRACE and calling nothing", in)
	}
	var provisioners []string
	for _, name := range m.Identities() {
		if id, _ := m.Identity(name); id.Provisioner {
			provisioners = append(provisioners, name)
		}
	}
	if want := []string{"bridge", "provisioner"}; !slices.Equal(provisioners, want) {
		t.Errorf("provisioners %v, want %v", provisioners, want)
	}
	var stores []string
	for _, g := range m.Stores() {
		stores = append(stores, g.Stream())
	}
	if want := []string{"AUDIT", "KV_PAYMENTS", "KV_SVC_DEDUP", "OBJ_LICENSES", "SVC_TRACE"}; !slices.Equal(stores, want) {
		t.Errorf("Stores() = %v, want %v", stores, want)
	}
	if in.Discovery {
		t.Error("inspector may discover: only the observer may")
	}
	ob, ok := m.Identity("observer")
	if !ok || ob.Kind != matrix.KindOperator || !ob.Discovery || len(ob.Calls) != 0 || len(ob.JetStream) != 0 {
		t.Errorf("observer = %+v, want an operator that discovers and calls and reads nothing", ob)
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	const head = "version: 1\nidentities:\n"
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"empty", "", "empty file"},
		{"no version", "identities:\n  a: {kind: booth}\n", "version must be 1"},
		{"unknown top key", head + "  a: {kind: booth}\nextra: 1\n", "field extra not found"},
		{"unknown identity key", head + "  a: {kind: booth, colour: red}\n", "field colour not found"},
		{"duplicate identity", head + "  a: {kind: booth}\n  a: {kind: booth}\n", `"a" already defined`},
		{"no kind", head + "  a: {}\n", "kind is required"},
		{"bad kind", head + "  a: {kind: robot}\n", `unknown kind "robot"`},
		{"bad identity name", head + "  Fee: {kind: booth}\n", "must match"},
		{"reserved identity", head + "  trace: {kind: booth}\n", "reserved"},
		{"credential file name", head + "  server: {kind: booth}\n", "reserved for the credentials folder"},
		{"unknown callee", head + "  g: {kind: gateway, calls: {fee-calc: [/calculate]}}\n", `calls unknown identity "fee-calc"`},
		{"callee not a booth", head + "  g: {kind: gateway, calls: {h: [/x]}}\n  h: {kind: gateway}\n", "not a booth"},
		{"bad path", head + "  g: {kind: gateway, calls: {b: [/a.b]}}\n  b: {kind: booth}\n", `path "/a.b"`},
		{"wildcard path", head + "  g: {kind: gateway, calls: {b: [/a/>]}}\n  b: {kind: booth}\n", "wildcard"},
		{"no paths", head + "  g: {kind: gateway, calls: {b: []}}\n  b: {kind: booth}\n", "no paths"},
		{"duplicate rule", head + "  g: {kind: gateway, calls: {b: [/x, x]}}\n  b: {kind: booth}\n", `duplicate rule for path "/x"`},
		{"star beside paths", head + "  g: {kind: gateway, calls: {b: ['*', /x]}}\n  b: {kind: booth}\n", "every path"},
		{"operator that calls", head + "  o: {kind: operator, calls: {b: [/x]}}\n  b: {kind: booth}\n", "calls are not for kind operator"},
		{"acts_for on an operator", head + "  o: {kind: operator, acts_for: [g]}\n  g: {kind: gateway}\n", "only for kind bridge"},
		{"discovery on a booth", head + "  b: {kind: booth, discovery: true}\n", "discovery is only for kind operator"},
		{"discovery on a gateway", head + "  g: {kind: gateway, discovery: true}\n", "discovery is only for kind operator"},
		{"acts_for on a booth", head + "  b: {kind: booth, acts_for: [g]}\n  g: {kind: gateway}\n", "only for kind bridge"},
		{"acts_for unknown", head + "  br: {kind: bridge, acts_for: [g]}\n", `acts_for unknown identity "g"`},
		{"acts_for itself", head + "  br: {kind: bridge, acts_for: [br]}\n", "names itself"},
		{"grant two stores", head + "  b: {kind: booth, jetstream: [{kv: A, stream: B, access: read}]}\n", "exactly one"},
		{"grant bad access", head + "  b: {kind: booth, jetstream: [{kv: A, access: purge}]}\n", "access must be read or write"},
		{"grant bad name", head + "  b: {kind: booth, jetstream: [{kv: A.B, access: read}]}\n", "store name"},
		{"grant duplicate", head + "  b: {kind: booth, jetstream: [{kv: A, access: read}, {kv: A, access: write}]}\n", "duplicate grant"},
		{"grant mesh subject", head + "  b: {kind: booth, jetstream: [{stream: S, access: write, subjects: [svc.payment.charge]}]}\n", "grant calls instead"},
		{"grant dollar subject", head + "  b: {kind: booth, jetstream: [{stream: S, access: write, subjects: [$JS.API.>]}]}\n", "belong to NATS"},
		{"grant subjects on read", head + "  b: {kind: booth, jetstream: [{stream: S, access: read, subjects: [a]}]}\n", "only for a write grant"},
		{"provisioner booth", head + "  b: {kind: booth, provisioner: true}\n", "provisioner is only for kind bridge or operator, not booth"},
		{"provisioner gateway", head + "  g: {kind: gateway, provisioner: true}\n", "provisioner is only for kind bridge or operator, not gateway"},
		{"bad nkey", head + "  b: {kind: booth, nkey: SUABC}\n", "not a public user NKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := matrix.Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(path, []byte("version: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := matrix.Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want one naming %s", err, path)
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	m := demo(t)
	dir := t.TempDir()
	want := map[string]string{}
	for _, id := range m.Identities() {
		kp, _ := nkeys.CreateUser()
		pub, _ := kp.PublicKey()
		want[id] = pub
		if err := os.WriteFile(filepath.Join(dir, id+".pub"), []byte(pub+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk, err := m.LoadKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	for id, pub := range want {
		if got, ok := mk.PublicKey(id); !ok || got != pub {
			t.Errorf("PublicKey(%s) = %q, %v; want %q", id, got, ok, pub)
		}
	}
	if _, ok := m.PublicKey("gateway"); ok {
		t.Error("LoadKeys changed the original matrix")
	}
	os.Remove(filepath.Join(dir, "payment.pub"))
	if _, err := m.LoadKeys(dir); err == nil || !strings.Contains(err.Error(), "payment") {
		t.Errorf("missing key err = %v, want one naming payment", err)
	}
	if _, err := m.WithKeys(map[string]string{"nobody": want["gateway"]}); err == nil {
		t.Error("WithKeys took a key for an unknown identity")
	}
	if _, err := m.WithKeys(map[string]string{"gateway": "SUAM"}); err == nil {
		t.Error("WithKeys took a key that is not a public user NKey")
	}
}
