// Command outside is a program of another module that joins the mesh with
// pkg/mesh alone: "serve" runs a fee-calc booth, "call" calls it as the
// gateway. Everything it needs comes from the HMS_* environment variables
// (HMS_MESH_DIR, HMS_MATRIX, HMS_NATS_URL).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// FeeRequest and FeeReply are fee-calc's contract.
type FeeRequest struct {
	LicenseType string `json:"license_type"`
}

type FeeReply struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
}

func main() {
	if len(os.Args) != 2 || (os.Args[1] != "serve" && os.Args[1] != "call") {
		fmt.Fprintln(os.Stderr, "usage: outside serve|call")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	if os.Args[1] == "serve" {
		err = serve(ctx)
	} else {
		err = call(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "outside:", err)
		os.Exit(1)
	}
}

// serve runs fee-calc until a signal comes, then drains it.
func serve(ctx context.Context) error {
	cfg := mesh.ConfigFromEnv()
	cfg.Identity = "fee-calc"
	m, err := mesh.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close(context.Background()) // drains: finishes in-flight calls, takes no new

	booth, err := m.NewBooth(rpc.BoothConfig{Version: "1.0.0"})
	if err != nil {
		return err
	}
	err = rpc.Handle(booth, "/calculate", func(ctx context.Context, req *FeeRequest) (*FeeReply, error) {
		if req.LicenseType != "professional-engineer" {
			return nil, rpc.Errorf(rpc.CodeBadRequest, "unknown license type %q", req.LicenseType)
		}
		return &FeeReply{Amount: 125, Currency: "USD"}, nil
	})
	if err != nil {
		return err
	}
	fmt.Println("serving")
	<-ctx.Done()
	return nil
}

// call calls fee-calc as the gateway, once with a good request and once
// with a bad one, and prints both answers.
func call(ctx context.Context) error {
	cfg := mesh.ConfigFromEnv()
	cfg.Identity = "gateway"
	m, err := mesh.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close(context.Background())

	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var fee FeeReply
	err = m.Client().Call(ctx, "fee-calc", "/calculate", FeeRequest{LicenseType: "professional-engineer"}, &fee)
	if err != nil {
		return err
	}
	fmt.Println(fee.Amount, fee.Currency)
	err = m.Client().Call(ctx, "fee-calc", "/calculate", FeeRequest{LicenseType: "astronaut"}, &fee)
	fmt.Println(rpc.CodeOf(err), rpc.MessageOf(err))
	return nil
}
