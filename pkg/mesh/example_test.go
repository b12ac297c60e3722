package mesh_test

import (
	"context"
	"fmt"
	"os"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// A booth and a caller, each a member of the mesh. The example runs on a
// bare NATS server, hence InsecureNoCredentials; in the mesh, set
// Credentials and MatrixFile (or HMS_MESH_DIR and HMS_MATRIX) instead, as
// testdata/outside does.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	srv, _ := embednats.Start(embednats.Config{Port: -1, StoreDir: dir})
	defer srv.Shutdown()
	ctx := context.Background()
	join := func(identity string) *mesh.Mesh {
		m, err := mesh.Connect(ctx, mesh.Config{Identity: identity, NATSURL: srv.ClientURL(), InsecureNoCredentials: true, Logger: quiet})
		if err != nil {
			panic(err)
		}
		return m
	}

	fee := join("fee-calc")
	defer fee.Close(ctx)
	booth, _ := fee.NewBooth(rpc.BoothConfig{Version: "1.0.0"})
	_ = rpc.Handle(booth, "/calculate", func(ctx context.Context, req *feeRequest) (*feeReply, error) {
		return &feeReply{Amount: 125, Currency: "USD"}, nil
	})

	gateway := join("gateway")
	defer gateway.Close(ctx)
	var got feeReply
	err := gateway.Client().Call(ctx, "fee-calc", "/calculate", feeRequest{LicenseType: "professional-engineer"}, &got)
	fmt.Println(got.Amount, got.Currency, err)
	// Output: 125 USD <nil>
}

// Connect names what is missing, and connects nothing.
func ExampleConnect_missing() {
	_, err := mesh.Connect(context.Background(), mesh.Config{Identity: "fee-calc"})
	fmt.Println(err)
	// Output: mesh: bad config: no matrix: set Config.MatrixFile (HMS_MATRIX) or Config.Matrix
}
