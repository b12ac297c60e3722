package rpc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// A NATS outage is not the booth's fault: calls made while the connection is
// down fail with ErrNotConnected, the breaker stays closed, and calls succeed
// again as soon as the server is back.
func TestBreakerIgnoresNATSOutage(t *testing.T) {
	node := natstest.StartNode(t, nil)
	boothConn, err := nats.Connect(node.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer boothConn.Close()
	b, err := rpc.NewBooth(boothConn, rpc.BoothConfig{Name: "fee-calc", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop(context.Background())
	handleRaw(t, b, "/calculate", func(context.Context, *rpc.Message) (*rpc.Message, error) { return ok() })

	nc, err := nats.Connect(node.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	client, err := rpc.NewClient(nc, rpc.WithAttemptTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CallRaw(within(t, time.Second), "fee-calc", "/calculate", []byte(`{}`)); err != nil {
		t.Fatalf("call before the outage: %v", err)
	}

	node.Stop()
	for i := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, err := client.CallRaw(ctx, "fee-calc", "/calculate", []byte(`{}`))
		cancel()
		if !errors.Is(err, rpc.ErrNotConnected) {
			t.Fatalf("call %d during the outage: err = %v, want ErrNotConnected", i+1, err)
		}
	}
	if got := client.BreakerState("fee-calc"); got != "closed" {
		t.Fatalf("breaker after the outage = %s, want closed", got)
	}

	node.Restart()
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		_, err := client.CallRaw(within(t, time.Second), "fee-calc", "/calculate", []byte(`{}`))
		return err
	})
}
