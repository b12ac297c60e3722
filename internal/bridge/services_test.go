package bridge_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

func TestServicesListInstancesAndEndpoints(t *testing.T) {
	t.Parallel()
	m := startMesh(t, nil)
	noop := func(ctx context.Context, _ *struct{}) (*struct{}, error) { return &struct{}{}, nil }
	var ids []string
	for range 2 {
		b := m.startBooth(t, "fee-calc", func(b *rpc.Booth) error {
			if err := rpc.Handle(b, "/calculate", noop); err != nil {
				return err
			}
			return rpc.Handle(b, "/tables/current", noop)
		})
		ids = append(ids, b.Info().ID)
	}
	m.startBooth(t, "payment", func(b *rpc.Booth) error { return rpc.Handle(b, "/charge", noop) })

	res := m.do(t, "GET", "/v1/services", "")
	if res.status != 200 || res.proto != 2 {
		t.Fatalf("status %d over HTTP/%d (body %s)", res.status, res.proto, res.body)
	}
	var list bridge.ServiceList
	if err := json.Unmarshal(res.body, &list); err != nil {
		t.Fatalf("decoding %s: %v", res.body, err)
	}
	if len(list.Services) != 2 || list.Services[0].Name != "fee-calc" || list.Services[1].Name != "payment" {
		t.Fatalf("services = %+v, want fee-calc and payment", list.Services)
	}
	fee := list.Services[0]
	gotIDs := map[string]bool{}
	for _, in := range fee.Instances {
		gotIDs[in.ID] = true
	}
	if len(fee.Instances) != 2 || !gotIDs[ids[0]] || !gotIDs[ids[1]] {
		t.Errorf("fee-calc instances = %+v, want ids %v", fee.Instances, ids)
	}
	if len(fee.Versions) != 1 || fee.Versions[0] != "1.0.0" {
		t.Errorf("fee-calc versions = %v, want [1.0.0]", fee.Versions)
	}
	wantEPs := []bridge.EndpointInfo{
		{Name: "calculate", Subject: "svc.fee-calc.calculate", Path: "/calculate"},
		{Name: "tables_current", Subject: "svc.fee-calc.tables.current", Path: "/tables/current"},
	}
	if len(fee.Endpoints) != len(wantEPs) {
		t.Fatalf("fee-calc endpoints = %+v, want %+v", fee.Endpoints, wantEPs)
	}
	for i, want := range wantEPs {
		if got := fee.Endpoints[i]; got != want {
			t.Errorf("endpoint %d = %+v, want %+v", i, got, want)
		}
	}

	res = m.do(t, "GET", "/v1/services/payment", "")
	var pay bridge.ServiceInfo
	if err := json.Unmarshal(res.body, &pay); err != nil || res.status != 200 {
		t.Fatalf("services/payment: %d %s (%v)", res.status, res.body, err)
	}
	if len(pay.Instances) != 1 || len(pay.Endpoints) != 1 || pay.Endpoints[0].Path != "/charge" {
		t.Errorf("payment = %+v, want one instance serving /charge", pay)
	}

	res = m.do(t, "GET", "/v1/services/audit-log", "")
	if e := errorOf(t, res); res.status != 404 || e.Message != `unknown service "audit-log"` {
		t.Errorf("unknown service: %d %q, want 404", res.status, e.Message)
	}
}
