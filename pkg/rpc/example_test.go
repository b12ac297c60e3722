package rpc_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

type FeeRequest struct {
	LicenseType string `json:"license_type"`
}

type FeeReply struct {
	Amount   int    `json:"amount"`
	Currency string `json:"currency"`
}

// A booth serves a typed handler; a client calls it by service and path.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	srv, _ := embednats.Start(embednats.Config{Port: -1, StoreDir: dir})
	defer srv.Shutdown()
	nc, _ := nats.Connect(srv.ClientURL())
	defer nc.Close()

	booth, _ := rpc.NewBooth(nc, rpc.BoothConfig{Name: "fee-calc", Version: "1.0.0"})
	_ = rpc.Handle(booth, "/calculate", func(ctx context.Context, req *FeeRequest) (*FeeReply, error) {
		if req.LicenseType != "professional-engineer" {
			return nil, rpc.Errorf(rpc.CodeNotFound, "no fee for license type %q", req.LicenseType)
		}
		return &FeeReply{Amount: 125, Currency: "USD"}, nil
	})
	defer booth.Stop(context.Background())

	client, _ := rpc.NewClient(nc)
	var fee FeeReply
	err := client.Call(context.Background(), "fee-calc", "/calculate", FeeRequest{LicenseType: "professional-engineer"}, &fee)
	fmt.Println(fee.Amount, fee.Currency, err)

	err = client.Call(context.Background(), "fee-calc", "/calculate", FeeRequest{LicenseType: "astronaut"}, &fee)
	fmt.Println(rpc.CodeOf(err), rpc.MessageOf(err))
	// Output:
	// 125 USD <nil>
	// 404 no fee for license type "astronaut"
}
