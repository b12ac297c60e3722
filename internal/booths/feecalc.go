package booths

import (
	"context"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// FeeRequest is fee-calc's /calculate request; other fields are ignored.
type FeeRequest struct {
	LicenseType string `json:"license_type"`
}

// FeeReply is fee-calc's /calculate reply.
type FeeReply struct {
	LicenseType string  `json:"license_type"`
	Amount      float64 `json:"amount"`
	Currency    string  `json:"currency"`
}

// startFeeCalc loads the fee table, refusing to start on a bad one, and
// serves /calculate.
func startFeeCalc(_ context.Context, nc *nats.Conn, cfg Config) (*rpc.Booth, error) {
	table, err := LoadFeeTable(cfg.feeTable())
	if err != nil {
		return nil, err
	}
	// A table lookup neither blocks nor waits: served inline, a call skips
	// the hand-off to the worker pool.
	return newBooth(nc, cfg, "fee-calc", "Fee for a license type, from the fee table", "/calculate",
		calculate(table), extras{endpoint: []rpc.EndpointOption{rpc.Inline()}})
}

func calculate(t *FeeTable) rpc.Handler[FeeRequest, FeeReply] {
	known := strings.Join(t.Types(), ", ")
	return func(_ context.Context, req *FeeRequest) (*FeeReply, error) {
		if req.LicenseType == "" {
			return nil, rpc.Errorf(rpc.CodeBadRequest, "license_type is required; known types: %s", known)
		}
		fee, ok := t.Fees[req.LicenseType]
		if !ok {
			return nil, rpc.Errorf(rpc.CodeBadRequest, "unknown license type %s; known types: %s", clip(req.LicenseType), known)
		}
		return &FeeReply{LicenseType: req.LicenseType, Amount: fee, Currency: t.Currency}, nil
	}
}
