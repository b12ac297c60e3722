package revocation_test

import (
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/revocation"
)

func operator(t *testing.T) (nkeys.KeyPair, string) {
	t.Helper()
	kp, err := nkeys.CreateOperator()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	return kp, pub
}

func TestListRoundTripsAndCounts(t *testing.T) {
	op, pub := operator(t)
	dir := t.TempDir()
	empty, err := revocation.Read(dir, pub)
	if err != nil || empty.Seq != 0 || len(empty.Entries) != 0 {
		t.Fatalf("no file: %+v, %v; want an empty list", empty, err)
	}
	now := time.Now()
	l, err := empty.Revoke("payment", "key leaked", now)
	if err != nil {
		t.Fatal(err)
	}
	if l, err = l.Revoke("audit-log", "", now); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Revoke("payment", "", now); err == nil {
		t.Error("revoking twice: no error")
	}
	if err := revocation.Write(dir, l, op); err != nil {
		t.Fatal(err)
	}
	got, err := revocation.Read(dir, pub)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 2 || len(got.Entries) != 2 || got.Entries[0].Identity != "audit-log" || got.Entries[1].Reason != "key leaked" {
		t.Errorf("read back %+v", got)
	}
	undone, err := got.Undo("payment", now)
	if err != nil || undone.Seq != 3 || undone.Has("payment") || !undone.Has("audit-log") {
		t.Errorf("undo: %+v, %v", undone, err)
	}
	if _, err := undone.Undo("payment", now); err == nil {
		t.Error("undoing what is not revoked: no error")
	}
}

// Nobody without the operator's seed can make or change a list the mesh
// accepts: not a booth with its own (user) NKey, not another operator, not
// an edit of a signed list, not an unsigned one.
func TestOnlyTheOperatorCanSignAList(t *testing.T) {
	op, pub := operator(t)
	other, _ := operator(t)
	booth, _ := nkeys.CreateUser()
	l := &revocation.List{Seq: 1, Issued: time.Now(), Entries: []revocation.Entry{{Identity: "payment", At: time.Now()}}}
	good, err := revocation.Sign(l, op)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := revocation.Parse(good, pub); err != nil {
		t.Fatalf("the operator's list: %v", err)
	}
	if _, err := revocation.Sign(l, booth); err == nil {
		t.Error("a booth's user NKey signed a list")
	}
	byOther, _ := revocation.Sign(l, other)
	parts := strings.Split(strings.TrimSpace(string(good)), ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	edited := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "payment", "fee-calc", 1))) + "." + parts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	tests := map[string][]byte{
		"another operator": byOther,
		"edited entries":   []byte(edited),
		"alg none":         []byte(none),
		"garbage":          []byte("not a list"),
	}
	for name, data := range tests {
		if _, err := revocation.Parse(data, pub); !errors.Is(err, revocation.ErrBadList) {
			t.Errorf("%s: err = %v, want ErrBadList", name, err)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(revocation.File(dir), byOther, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := revocation.Read(dir, pub); err == nil || !strings.Contains(err.Error(), "not signed by the operator key") {
		t.Errorf("reading a foreign list: %v", err)
	}
}
