package securitytest

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Avery's same-day license through the secure hallway: the real demo booths,
// each on its own identity's connection with only the permissions the
// matrix gives it and checking every call's token, and the bridge calling
// for the gateway. It proves the generated permissions are enough for the
// booths' JetStream use and the bridge's license download.
func TestAveryThroughTheSecureHallway(t *testing.T) {
	s := startMesh(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	provisionStores(t, s)
	for _, name := range booths.Names {
		v, err := calltoken.NewVerifier(name, demo)
		if err != nil {
			t.Fatal(err)
		}
		b, err := booths.Start(ctx, connectAs(t, s, name), name, booths.Config{
			FeeTable:     "../../deployments/fees.yaml",
			AuditKey:     []byte("0123456789abcdef0123456789abcdef"),
			Logger:       quiet,
			BoothOptions: []rpc.BoothOption{rpc.WithBoothMiddleware(v.Middleware())},
		})
		if err != nil {
			t.Fatalf("starting %s with its own credentials: %v", name, err)
		}
		t.Cleanup(func() { _ = b.Stop(context.Background()) })
	}
	signer, err := mesh.Credentials{Dir: dir}.Signer("bridge", demo)
	if err != nil {
		t.Fatal(err)
	}
	bridgeConn := connectAs(t, s, "bridge")
	client, err := rpc.NewClient(bridgeConn, rpc.WithAttemptMiddleware(signer.Middleware()), rpc.WithAttemptTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	gw := calltoken.OnBehalfOf(ctx, "gateway")

	var fee struct {
		Amount   float64 `json:"amount"`
		Currency string  `json:"currency"`
	}
	if err := client.Call(gw, "fee-calc", "/calculate", map[string]string{"license_type": "professional-engineer"}, &fee); err != nil {
		t.Fatalf("fee-calc: %v", err)
	}
	if err := client.Call(gw, "payment", "/charge", map[string]any{"amount": fee.Amount, "currency": fee.Currency}, nil); err != nil {
		t.Fatalf("payment: %v", err)
	}
	var lic struct {
		ID string `json:"id"`
	}
	if err := client.Call(gw, "license-printer", "/generate", map[string]string{
		"name": "Avery Johnson", "license_type": "professional-engineer"}, &lic); err != nil {
		t.Fatalf("license-printer: %v", err)
	}
	if err := client.Call(gw, "audit-log", "/record", map[string]any{
		"user": "123-45-6789", "fee": fee.Amount, "doc_id": lic.ID}, nil); err != nil {
		t.Fatalf("audit-log: %v", err)
	}
	js, err := jetstream.New(bridgeConn)
	if err != nil {
		t.Fatal(err)
	}
	r, err := booths.OpenLicense(ctx, js, lic.ID)
	if err != nil {
		t.Fatalf("bridge reading the license: %v", err)
	}
	pdf, err := io.ReadAll(r)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("license is %d bytes (%v), want a PDF", len(pdf), err)
	}
}
