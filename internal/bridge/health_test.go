package bridge_test

import (
	"encoding/json"
	"testing"

	"github.com/hms-svc/hms-svc/internal/bridge"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	m := startMesh(t, nil)
	for _, tt := range []struct{ path, wantStatus string }{
		{"/healthz", "ok"},
		{"/readyz", "ready"},
	} {
		res := m.do(t, "GET", tt.path, "")
		var h bridge.Health
		if err := json.Unmarshal(res.body, &h); err != nil || res.status != 200 || h.Status != tt.wantStatus {
			t.Errorf("%s: %d %s, want 200 status %q", tt.path, res.status, res.body, tt.wantStatus)
		}
	}

	m.srv.Shutdown()
	res := m.do(t, "GET", "/readyz", "")
	if e := errorOf(t, res); res.status != 503 || e.Message == "" {
		t.Errorf("/readyz with NATS down: %d %q, want 503", res.status, e.Message)
	}
	if res := m.do(t, "GET", "/healthz", ""); res.status != 200 {
		t.Errorf("/healthz with NATS down: %d, want 200", res.status)
	}
}
