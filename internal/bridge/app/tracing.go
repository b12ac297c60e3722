package app

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/metrics"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// streamTimeout bounds creating or updating the SVC_TRACE stream at start.
const streamTimeout = 10 * time.Second

// startTracing makes sure SVC_TRACE exists with the configured retention,
// starts the bridge's trace publisher on its connection and the process's
// metrics (the publisher's counters and the Go runtime's included), and
// hands both to the bridge's config.
func (a *App) startTracing(ctx context.Context, cfg Config, bcfg *bridge.Config) error {
	js, err := jetstream.New(a.nc)
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
	if a.pub, err = trace.NewPublisher(a.nc, cfg.Identity); err != nil {
		return err
	}
	m, err := metrics.New()
	if err != nil {
		return err
	}
	if err := m.TracePublisher(cfg.Identity, a.pub); err != nil {
		return err
	}
	m.Registry().MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	bcfg.Trace, bcfg.Metrics = a.pub, m
	return nil
}
