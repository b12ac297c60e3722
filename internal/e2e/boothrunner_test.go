package e2e

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/runner"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// booth-runner's secure setup: a booth connects with its own identity's
// credentials and checks call tokens, so a call without one never reaches
// the handler while the bridge's call for the gateway does.
func TestBoothRunnerSecureSetupConnectsAndVerifies(t *testing.T) {
	m := startBridge(t)
	r, err := runner.Start(t.Context(), runner.Config{NATSURL: m.app.NATSURL(), Booths: []string{"fee-calc"},
		FeeTable: feeTable, Credentials: mesh.Credentials{Dir: dir}, MatrixFile: matrixFile, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })

	// The gateway may publish to fee-calc, but not without a token.
	msg, err := connectAs(t, m.app, "gateway").Request("svc.fee-calc.calculate", []byte(`{"license_type":"professional-engineer"}`), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if code := msg.Header.Get("Nats-Service-Error-Code"); code != "401" {
		t.Errorf("untokened call answered %q %s, want 401", code, msg.Data)
	}
	gw := httpsClient(t, certOf(t, dir, "gateway"))
	natstest.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		res, err := do(t, gw, "POST", m.url+"/v1/call/fee-calc/calculate", `{"license_type":"professional-engineer"}`, "Content-Type: application/json")
		if err != nil {
			return err
		}
		if res.status != 200 || !strings.Contains(string(res.body), `"amount":125`) {
			return &statusError{"fee-calc through the bridge", res}
		}
		return nil
	})
}

func TestBoothRunnerWithoutCredentialsSaysHowToMakeThem(t *testing.T) {
	tests := []struct {
		name, dir, matrix string
		want              error
		wantMsg           string
	}{
		{"no folder", filepath.Join(t.TempDir(), "none"), matrixFile, runner.ErrNoCredentials, `does not exist; create them with "meshctl init --dir `},
		{"no keys", t.TempDir(), matrixFile, runner.ErrNoCredentials, `.pub: no such file or directory`},
		{"no matrix", dir, filepath.Join(t.TempDir(), "matrix.yaml"), runner.ErrConfig, "--matrix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runner.Start(t.Context(), runner.Config{Demo: true, Credentials: mesh.Credentials{Dir: tt.dir}, MatrixFile: tt.matrix})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want %v saying %q", err, tt.want, tt.wantMsg)
			}
		})
	}
}
