package keyring_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/keyring"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/revocation"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

const small = `
version: 1
identities:
  gateway: {kind: gateway, calls: {fee-calc: [/calculate]}}
  fee-calc: {kind: booth}
`

func setup(t *testing.T) (string, *matrix.Matrix) {
	t.Helper()
	m, err := matrix.Parse([]byte(small))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := pki.Init(dir, m.Identities(), pki.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func TestReadGivesOverlapKeysUntilTheyExpire(t *testing.T) {
	dir, m := setup(t)
	r := keyring.NewReader(dir, m)
	cur, _ := pki.ReadPublicKey(dir, "gateway")
	next, _ := nkeys.CreateUser()
	nextPub, _ := next.PublicKey()
	now := time.Now()
	until := now.Add(time.Minute).UTC()
	ov := pki.Overlap{Version: pki.OverlapVersion, Keys: map[string][]pki.OverlapKey{"gateway": {{Key: nextPub, Until: until}}}}
	data, _ := json.Marshal(ov)
	if err := os.WriteFile(filepath.Join(dir, pki.OverlapFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ks, due, err := r.Read(now)
	if err != nil {
		t.Fatal(err)
	}
	if got := ks.Keys["gateway"]; !slices.Equal(got, []string{cur, nextPub}) {
		t.Errorf("gateway's keys = %v, want its .pub then the overlap key", got)
	}
	if len(ks.Keys["fee-calc"]) != 1 || !due.Equal(until) {
		t.Errorf("fee-calc's keys = %v, due %v; want one key, due %v", ks.Keys["fee-calc"], due, until)
	}
	if ks, due, _ = r.Read(until.Add(time.Second)); len(ks.Keys["gateway"]) != 1 || !due.IsZero() {
		t.Errorf("after the overlap: gateway's keys %v, due %v; want its .pub only, never due", ks.Keys["gateway"], due)
	}
}

func TestRevocationsAreVerifiedAndNeverRolledBack(t *testing.T) {
	dir, m := setup(t)
	r := keyring.NewReader(dir, m)
	op, err := pki.ReadOperator(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	first, _ := (&revocation.List{}).Revoke("gateway", "", now)
	if err := revocation.Write(dir, first, op); err != nil {
		t.Fatal(err)
	}
	ks, _, err := r.Read(now)
	if err != nil || !ks.Revoked["gateway"] || ks.Revoked["fee-calc"] {
		t.Fatalf("revoked = %v (%v), want gateway", ks.Revoked, err)
	}
	second, _ := first.Undo("gateway", now)
	if err := revocation.Write(dir, second, op); err != nil {
		t.Fatal(err)
	}
	if ks, _, err = r.Read(now); err != nil || len(ks.Revoked) != 0 {
		t.Fatalf("after undo: revoked = %v (%v), want none", ks.Revoked, err)
	}
	// Putting the first list back, or deleting the list, would revoke
	// gateway again or un-revoke what list 2 revoked: refused.
	if err := revocation.Write(dir, first, op); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Read(now); err == nil || !strings.Contains(err.Error(), "older than list 2") {
		t.Errorf("an older list: %v, want refused", err)
	}
	if err := os.Remove(revocation.File(dir)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Read(now); err == nil || !strings.Contains(err.Error(), "older than list 2") {
		t.Errorf("the list removed: %v, want refused", err)
	}
	other, _ := nkeys.CreateOperator()
	otherPub, _ := other.PublicKey()
	if err := os.WriteFile(pki.PubFile(dir, pki.OperatorName), []byte(otherPub+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Read(now); err == nil || !strings.Contains(err.Error(), "operator key") {
		t.Errorf("the operator key replaced: %v, want refused", err)
	}
}
