package natsauth_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/natsauth"
)

func TestPermissionsOfTheDemo(t *testing.T) {
	tests := []struct {
		identity           string
		wantPub, wantNoPub []string
		wantSub, wantNoSub []string
		wantResponses      bool
	}{
		{
			identity:  "gateway",
			wantPub:   []string{"svc.fee-calc.calculate", "svc.payment.charge", "svc.license-printer.generate", "svc.audit-log.record", "svc.trace.gateway"},
			wantNoPub: []string{"svc.payment.>", "$SRV.>", "$JS.API.INFO"},
			wantSub:   []string{"_INBOX.gateway.>"},
			wantNoSub: []string{"_INBOX.>"},
		},
		{
			identity: "bridge",
			wantPub: []string{"svc.payment.charge", "$SRV.>", "$JS.API.STREAM.INFO.OBJ_LICENSES", "$JS.API.CONSUMER.CREATE.OBJ_LICENSES.>",
				// the bridge provisions every store
				"$JS.API.INFO", "$JS.API.STREAM.CREATE.OBJ_LICENSES", "$JS.API.STREAM.UPDATE.AUDIT", "$JS.API.STREAM.UPDATE.KV_SVC_DEDUP"},
			wantNoPub: []string{"$O.LICENSES.>", "$KV.PAYMENTS.>", "$JS.API.STREAM.CREATE.*", "$JS.API.STREAM.CREATE.>"},
			wantSub:   []string{"_INBOX.bridge.>"},
		},
		{
			identity:  "provisioner",
			wantPub:   []string{"$JS.API.INFO", "$JS.API.STREAM.INFO.AUDIT", "$JS.API.STREAM.CREATE.KV_PAYMENTS", "$JS.API.STREAM.UPDATE.SVC_TRACE"},
			wantNoPub: []string{"$KV.PAYMENTS.>", "audit.records", "$JS.API.DIRECT.GET.AUDIT", "$JS.API.CONSUMER.CREATE.AUDIT", "$SRV.>"},
			wantSub:   []string{"_INBOX.provisioner.>"},
		},
		{
			identity:      "fee-calc",
			wantPub:       []string{"svc.trace.fee-calc"},
			wantNoPub:     []string{"svc.fee-calc.calculate"},
			wantSub:       []string{"svc.fee-calc.> fee-calc", "$SRV.*", "$SRV.*.fee-calc", "$SRV.*.fee-calc.*"},
			wantNoSub:     []string{"svc.fee-calc.>", "$SRV.>"},
			wantResponses: true,
		},
		{
			identity:      "payment",
			wantPub:       []string{"$KV.PAYMENTS.>", "$JS.API.STREAM.INFO.KV_PAYMENTS", "$JS.API.DIRECT.GET.KV_PAYMENTS.>"},
			wantNoPub:     []string{"$JS.API.STREAM.PURGE.KV_PAYMENTS", "$JS.API.STREAM.CREATE.KV_PAYMENTS", "$JS.API.STREAM.UPDATE.KV_SVC_DEDUP", "$O.LICENSES.>"},
			wantResponses: true,
		},
		{
			identity:      "audit-log",
			wantPub:       []string{"audit.records", "$JS.API.STREAM.INFO.AUDIT", "$JS.API.STREAM.MSG.GET.AUDIT"},
			wantNoPub:     []string{"$JS.API.STREAM.PURGE.AUDIT", "$JS.API.STREAM.DELETE.AUDIT", "$JS.API.STREAM.MSG.DELETE.AUDIT", "$JS.API.STREAM.CREATE.AUDIT", "$JS.API.STREAM.UPDATE.AUDIT"},
			wantResponses: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.identity, func(t *testing.T) {
			p, err := natsauth.Permissions(demo, tt.identity)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.wantPub {
				if !slices.Contains(p.Publish.Allow, s) {
					t.Errorf("publish allow lacks %q", s)
				}
			}
			for _, s := range tt.wantNoPub {
				if slices.Contains(p.Publish.Allow, s) {
					t.Errorf("publish allow has %q", s)
				}
			}
			for _, s := range tt.wantSub {
				if !slices.Contains(p.Subscribe.Allow, s) {
					t.Errorf("subscribe allow lacks %q", s)
				}
			}
			for _, s := range tt.wantNoSub {
				if slices.Contains(p.Subscribe.Allow, s) {
					t.Errorf("subscribe allow has %q", s)
				}
			}
			wantDeny := append(slices.Clone(natsauth.DeniedJetStream), natsauth.DeniedStoreEdits...)
			if id, _ := demo.Identity(tt.identity); id.Provisioner {
				wantDeny = natsauth.DeniedJetStream
			}
			if !slices.Equal(p.Publish.Deny, wantDeny) {
				t.Errorf("publish deny = %v, want %v", p.Publish.Deny, wantDeny)
			}
			for _, s := range p.Publish.Allow {
				if strings.Contains(s, "PURGE") || strings.Contains(s, ".DELETE.") && !strings.Contains(s, "CONSUMER") {
					t.Errorf("publish allow has destructive %q", s)
				}
			}
			if got := p.Response != nil; got != tt.wantResponses {
				t.Errorf("allow_responses = %v, want %v", got, tt.wantResponses)
			}
		})
	}
	if _, err := natsauth.Permissions(demo, "nobody"); err == nil {
		t.Error("permissions for an unknown identity")
	}
}
