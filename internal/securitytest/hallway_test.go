package securitytest

import (
	"context"
	"testing"

	"github.com/hms-svc/hms-svc/pkg/calltoken"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// The whole hallway as the mesh wires it: every booth on its own identity's
// connection, the bridge calling on the gateway's behalf with signed tokens,
// all through the secure broker. Avery's four calls go through, each booth
// knows the gateway called through the bridge, and a call the matrix does not
// grant is refused before it is sent.
func TestSecureHallwayEndToEnd(t *testing.T) {
	s := startMesh(t)
	calls := map[string]string{"fee-calc": "/calculate", "payment": "/charge", "license-printer": "/generate", "audit-log": "/record"}
	booths := map[string]*countingBooth{}
	for svc, path := range calls {
		booths[svc] = startCountingBooth(t, connectAs(t, s, svc), svc, path)
	}
	signer, err := mesh.Credentials{Dir: dir}.Signer("bridge", demo)
	if err != nil {
		t.Fatal(err)
	}
	client, err := rpc.NewClient(connectAs(t, s, "bridge"), rpc.WithAttemptMiddleware(signer.Middleware()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := calltoken.OnBehalfOf(context.Background(), "gateway")
	for svc, path := range calls {
		if err := client.Call(ctx, svc, path, map[string]any{}, nil); err != nil {
			t.Errorf("%s %s: %v", svc, path, err)
		}
		if got := booths[svc].last.Load(); got != (calltoken.Principal{Caller: "gateway", Actor: "bridge"}) {
			t.Errorf("%s saw %+v, want the gateway through the bridge", svc, got)
		}
	}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		svc  string
		path string
	}{
		{"bridge as itself", context.Background(), "fee-calc", "/calculate"},
		{"ungranted path", ctx, "payment", "/refund"},
		{"for a booth", calltoken.OnBehalfOf(context.Background(), "audit-log"), "payment", "/charge"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := client.Call(tt.ctx, tt.svc, tt.path, map[string]any{}, nil)
			if rpc.CodeOf(err) != rpc.CodePermissionDenied {
				t.Errorf("err = %v, want 403", err)
			}
		})
	}
	for svc, b := range booths {
		if got := b.runs.Load(); got != 1 {
			t.Errorf("%s ran %d times, want 1", svc, got)
		}
	}
}
