package mesh_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// A reload that finds an inconsistent folder (here a seed whose public key
// the folder does not publish, as a rotation half copied would leave) is
// refused with an error naming it, and the Mesh keeps calling with what it
// had; the watch logs it and applies the folder once it is right again.
func TestReloadKeepsTheCredentialsWhenTheFolderIsWrong(t *testing.T) {
	lm := newLiveMesh(t, twoCallers, true)
	fee, _ := lm.join(t, "fee-calc")
	serve(t, fee, "/calculate")
	gw, gwLog := lm.join(t, "gateway")
	seedFile := pki.SeedFile(lm.dir, "gateway")
	good, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	stray, _ := nkeys.CreateUser()
	seed, _ := stray.Seed()
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	err = gw.Reload(t.Context())
	if !errors.Is(err, mesh.ErrNoCredentials) || !strings.Contains(err.Error(), "is not a key the credentials publish for it") {
		t.Fatalf("Reload: %v, want ErrNoCredentials naming the unpublished seed", err)
	}
	waitLogged(t, []*logRecord{gwLog}, "credentials not reloaded", 1)
	if err := gw.Client().Call(t.Context(), "fee-calc", "/calculate", struct{}{}, nil); err != nil {
		t.Fatalf("a call after the refused reload: %v", err)
	}
	if err := os.WriteFile(seedFile, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := gw.Reload(t.Context()); err != nil {
		t.Fatalf("Reload of the right folder: %v", err)
	}
}
