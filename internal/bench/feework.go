package bench

import (
	"encoding/json"
	"fmt"

	"github.com/hms-svc/hms-svc/internal/booths"
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
	fee, ok := f.table.Fees[req.LicenseType]
	if !ok {
		return nil, fmt.Errorf("unknown license type %q", req.LicenseType)
	}
	return json.Marshal(booths.FeeReply{LicenseType: req.LicenseType, Amount: fee, Currency: f.table.Currency})
}
