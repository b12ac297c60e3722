package bridge_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/natstest"
)

func TestUnknownServicesCostAtMostOneSweepPerInterval(t *testing.T) {
	t.Parallel()
	m := startMesh(t, func(c *bridge.Config) { c.DiscoveryMinInterval = time.Hour })
	w := m.boothConn(t)
	sweeps, err := w.SubscribeSync("$SRV.INFO")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := m.post(t, fmt.Sprintf("/v1/call/no-such-%d/x", i), `{}`)
			if res.status != 404 {
				t.Errorf("unknown service %d: status %d, want 404", i, res.status)
			}
		}()
	}
	wg.Wait()
	if err := m.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, _, _ := sweeps.Pending()
	// Serve's first periodic sweep may or may not have run yet.
	if got < 1 || got > 2 {
		t.Errorf("20 unknown services caused %d sweeps, want 1 on demand (+1 periodic)", got)
	}
}

func TestServicesGoneLongerThanForgetAreUnknown(t *testing.T) {
	t.Parallel()
	m := startMesh(t, func(c *bridge.Config) {
		c.DiscoveryMinInterval = time.Millisecond
		c.DiscoveryForget = 100 * time.Millisecond
	})
	_, booth := rawBooth(t, m, `{}`)
	if res := m.post(t, "/v1/call/fee-calc/calculate", `{}`); res.status != 200 {
		t.Fatalf("call: status %d (body %s)", res.status, res.body)
	}
	if err := booth.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 3*time.Second, 20*time.Millisecond, func() error {
		if res := m.do(t, "GET", "/v1/services/fee-calc", ""); res.status != 404 {
			return fmt.Errorf("services/fee-calc: %d %s", res.status, res.body)
		}
		return nil
	})
	res := m.post(t, "/v1/call/fee-calc/calculate", `{}`)
	if e := errorOf(t, res); res.status != 404 {
		t.Errorf("call to a forgotten service: %d %q, want 404", res.status, e.Message)
	}
}
