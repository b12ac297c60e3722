package bench

import (
	"context"
	"path/filepath"
	"testing"
	"time"
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
	for _, side := range []string{SideMesh, SideMeshNoTrace, SideRaw, SideRawPlain} {
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
	tc, err := p.FinishTracing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tc.Expected == 0 || tc.Read != tc.Expected || tc.Lost() != 0 || tc.Dropped != 0 {
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
