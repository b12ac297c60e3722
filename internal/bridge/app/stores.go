package app

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// provisionTimeout bounds provisioning the stores at start: long enough for
// a fresh cluster to elect its JetStream meta leader.
const provisionTimeout = 60 * time.Second

// provisionStores creates or updates every store of the mesh from its
// declaration (internal/stores) when the matrix makes the bridge the
// provisioner, as the demo's does: it runs the embedded server. Otherwise
// the stores are an operator's job (meshctl provision) and it leaves them.
func (a *App) provisionStores(ctx context.Context, cfg Config, m *matrix.Matrix) error {
	if id, _ := m.Identity(cfg.Identity); !id.Provisioner {
		a.log.Info("the matrix does not make the bridge a provisioner: the stores are left to meshctl provision",
			"identity", cfg.Identity)
		return nil
	}
	js, err := jetstream.New(a.member.Conn())
	if err != nil {
		return fmt.Errorf("provisioning the stores: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, provisionTimeout)
	defer cancel()
	o := stores.Options{Replicas: cfg.Replicas, Trace: trace.StreamConfig{
		Replicas: cfg.TraceReplicas, MaxAge: cfg.TraceMaxAge, MaxBytes: cfg.TraceMaxBytes,
	}}
	if _, err := stores.Provision(pctx, js, o, a.log); err != nil {
		return fmt.Errorf("provisioning the stores (--replicas %d, --trace-replicas %d, --trace-max-age %v, --trace-max-bytes %d): %w",
			cfg.Replicas, cfg.TraceReplicas, cfg.TraceMaxAge, cfg.TraceMaxBytes, err)
	}
	return nil
}
