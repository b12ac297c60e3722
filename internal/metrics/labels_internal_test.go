package metrics

import (
	"context"
	"errors"
	"testing"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

func TestRoutesCapLabelSets(t *testing.T) {
	r := newRoutes(2)
	calls := []struct{ service, path, wantService, wantPath string }{
		{"fee-calc", "calculate", "fee-calc", "/calculate"},
		{"fee-calc", "/calculate", "fee-calc", "/calculate"}, // the same route
		{"payment", "/charge", "payment", "/charge"},
		{"payment", "/refund", Other, Other}, // past the cap
		{"fee-calc", "/calculate", "fee-calc", "/calculate"},
	}
	for _, c := range calls {
		gotService, gotPath := r.labels(c.service, c.path)
		if gotService != c.wantService || gotPath != c.wantPath {
			t.Errorf("labels(%q, %q) = %q, %q; want %q, %q", c.service, c.path, gotService, gotPath, c.wantService, c.wantPath)
		}
	}
}

func TestCodeLabels(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantBooth string
	}{
		{"success", nil, "ok"},
		{"coded", rpc.Errorf(rpc.CodeConflict, "charged"), "409"},
		{"canceled is a timeout for the caller", context.Canceled, "504"},
		{"deadline", context.DeadlineExceeded, "504"},
		{"uncoded", errors.New("disk on fire"), "500"},
		{"out of range", rpc.Errorf(rpc.Code(302), "moved"), "500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := codeLabel(boothCode(tt.err)); got != tt.wantBooth {
				t.Errorf("booth code label of %v = %q, want %q", tt.err, got, tt.wantBooth)
			}
		})
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	if _, err := New(WithMaxRoutes(0)); err == nil {
		t.Error("WithMaxRoutes(0): no error")
	}
	if _, err := New(nil); err == nil {
		t.Error("nil option: no error")
	}
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.TracePublisher("", nil); err == nil {
		t.Error("TracePublisher with no name: no error")
	}
}
