package bench

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

const (
	testDemoMatrix = "../../deployments/matrix.yaml"
	testFeeTable   = "../../deployments/fees.yaml"
)

// Every side of the in-process pairs answers the fee-calc request, and the
// events of the traced calls are all read back from SVC_TRACE.
func TestRPCPairSidesAnswerAndTracesArrive(t *testing.T) {
	dir := t.TempDir()
	c, err := NewCreds(filepath.Join(dir, "mesh"), testDemoMatrix)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := NewRPCPair(ctx, c, dir, testFeeTable)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, side := range []string{SideMesh, SideMeshNoTrace, SideRaw, SideRawPlain, SideRawHeaders, SideOnce, SidePlainCall, SideSidecar} {
		t.Run(side, func(t *testing.T) {
			op, err := p.Op(side)
			if err != nil {
				t.Fatal(err)
			}
			p.Use(side)
			res, err := Closed(ctx, 2, 0, 100*time.Millisecond, op)
			if err != nil {
				t.Fatal(err)
			}
			if res.Calls == 0 {
				t.Errorf("no call completed")
			}
		})
	}
	if got := p.HeaderBytes(); got < 300 {
		t.Errorf("a mesh call's headers take %d bytes: want the call token, request id, caller, deadline and traceparent", got)
	}
	for _, h := range []string{rpc.HeaderAuthorization, rpc.HeaderRequestID, rpc.HeaderCaller, rpc.HeaderTimeout, rpc.HeaderTraceparent} {
		if p.meshHeader.Get(h) == "" {
			t.Errorf("the captured mesh headers lack %s", h)
		}
	}
	tc, err := p.FinishTracing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tc.Expected == 0 || tc.Emitted < tc.Expected || tc.Read != tc.Emitted || tc.Lost() != 0 || tc.Dropped != 0 {
		t.Errorf("trace count %+v: want every expected event read, none lost or dropped", tc)
	}
}

func TestBenchMatrixGrantsTheRawEndpoint(t *testing.T) {
	c, err := NewCreds(t.TempDir(), testDemoMatrix)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Matrix.Allowed("gateway", RawService, "/calculate") {
		t.Errorf("gateway may not call %s /calculate", RawService)
	}
	if !c.Matrix.Allowed("gateway", "fee-calc", "/calculate") {
		t.Errorf("the demo grants were lost: gateway may not call fee-calc /calculate")
	}
}
