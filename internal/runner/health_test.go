package runner_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/runner"
)

// /readyz follows the booths' NATS connections and the drain; /healthz only
// that the process serves; nothing else is on the health listener.
func TestHealthListener(t *testing.T) {
	s := startServer(t)
	r, err := runner.Start(t.Context(), runner.Config{InsecureNoCredentials: true,
		NATSURL: s.ClientURL(), Booths: []string{"fee-calc"}, FeeTable: feeTable, InstanceName: "test-1",
		HealthListen: "127.0.0.1:0", Logger: quiet(), DrainTimeout: time.Second, FlushTimeout: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = r.Stop(context.Background())
		}
	})
	if r.HealthAddr() == nil || r.MetricsAddr() != nil {
		t.Fatalf("health %v, metrics %v: want only the health listener", r.HealthAddr(), r.MetricsAddr())
	}
	base := "http://" + r.HealthAddr().String()
	probe := func(path string) (int, string) { return fetch(t, base+path) }
	for path, want := range map[string]string{"/healthz": `"status":"ok"`, "/readyz": `"status":"ready"`} {
		if code, body := probe(path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d %s, want 200 holding %s", path, code, body, want)
		}
	}
	if code, _ := probe("/metrics"); code != 404 {
		t.Errorf("GET /metrics on the health listener: %d, want 404", code)
	}

	s.Shutdown()
	natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if code, body := probe("/readyz"); code != 503 || !strings.Contains(body, "fee-calc: NATS connection is") {
			return fmt.Errorf("/readyz with NATS down: %d %s, want 503 naming fee-calc's connection", code, body)
		}
		return nil
	})
	if code, _ := probe("/healthz"); code != 200 {
		t.Errorf("/healthz with NATS down: %d, want 200", code)
	}

	stopped = true
	_ = r.Stop(context.Background()) // NATS is gone: the drain's errors are not this test's
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the health listener still answers after Stop")
	}
}

func TestHealthListenValidated(t *testing.T) {
	err := runner.Config{InsecureNoCredentials: true, Booths: []string{"fee-calc"}, HealthListen: "8080"}.Validate()
	if err == nil || !strings.Contains(err.Error(), `--health-listen "8080"`) {
		t.Errorf("Validate: %v, want the bad --health-listen named", err)
	}
	if err := (runner.Config{InsecureNoCredentials: true, Booths: []string{"fee-calc"}, HealthListen: ":8080"}).Validate(); err != nil {
		t.Errorf("--health-listen :8080: %v, want any interface accepted", err)
	}
}
