package app

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/pkg/trace"
)

// streamTimeout bounds creating or updating the SVC_TRACE stream at start.
const streamTimeout = 10 * time.Second

// ensureTraceStream makes sure SVC_TRACE exists with the configured
// retention; the bridge, the stream's provisioner, does it at every start.
func (a *App) ensureTraceStream(ctx context.Context, cfg Config) error {
	js, err := jetstream.New(a.member.Conn())
	if err != nil {
		return fmt.Errorf("trace stream: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, streamTimeout)
	defer cancel()
	if _, err := trace.EnsureStream(sctx, js, trace.StreamConfig{
		Replicas: cfg.TraceReplicas, MaxAge: cfg.TraceMaxAge, MaxBytes: cfg.TraceMaxBytes,
	}); err != nil {
		return fmt.Errorf("creating the trace stream (replicas %d, max age %v, max bytes %d): %w", cfg.TraceReplicas, cfg.TraceMaxAge, cfg.TraceMaxBytes, err)
	}
	return nil
}
