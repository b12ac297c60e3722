package bench

import (
	"encoding/json"
	"fmt"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// FeeBody is the payload of every pair: the license flow's fee-calc
// request, as the gateway sends it.
var FeeBody = []byte(`{"name":"Avery Johnson","ssn":"123-45-6789","license_type":"professional-engineer"}`)

// FeeWork is the JSON work of fee-calc done without the mesh: decode the
// request, look the fee up, encode the reply. The plain endpoints of every
// pair do exactly this.
type FeeWork struct {
	table *booths.FeeTable
}

// NewFeeWork loads the fee table at path.
func NewFeeWork(path string) (*FeeWork, error) {
	t, err := booths.LoadFeeTable(path)
	if err != nil {
		return nil, err
	}
	return &FeeWork{table: t}, nil
}

// Do answers one request body.
func (f *FeeWork) Do(body []byte) ([]byte, error) {
	var req booths.FeeRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	res, err := f.Reply(&req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

// Reply looks the fee of a decoded request up.
func (f *FeeWork) Reply(req *booths.FeeRequest) (*booths.FeeReply, error) {
	fee, ok := f.table.Fees[req.LicenseType]
	if !ok {
		return nil, rpc.Errorf(rpc.CodeBadRequest, "unknown license type %q", req.LicenseType)
	}
	return &booths.FeeReply{LicenseType: req.LicenseType, Amount: fee, Currency: f.table.Currency}, nil
}
