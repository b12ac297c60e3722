package app

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/metrics"
	"github.com/hms-svc/hms-svc/internal/otlp"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// startExport starts, with --otlp-endpoint, the OTLP exporter: it follows
// SVC_TRACE from from (the bridge's start) until ctx ends and sends every
// span to the endpoint; its counters are in the bridge's metrics. Wait
// waits for it.
func (a *App) startExport(ctx context.Context, cfg Config, from time.Time) error {
	if cfg.OTLPEndpoint == "" {
		return nil
	}
	screen := trace.NewScreen(cfg.Logger)
	e, err := otlp.New(otlp.Config{Endpoint: cfg.OTLPEndpoint, Screen: screen, Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("--otlp-endpoint: %w", err)
	}
	js, err := jetstream.New(a.member.Conn())
	if err != nil {
		return fmt.Errorf("OTLP export: %w", err)
	}
	met := a.member.Metrics()
	met.TraceScreen(screen)
	if err := met.Registry().Register(metrics.NewExportCollector(e)); err != nil {
		return fmt.Errorf("OTLP export metrics: %w", err)
	}
	a.exported = make(chan error, 1)
	go func() {
		err := e.Run(ctx, js, from)
		if err != nil { // the bridge serves on; say so now, not at the stop
			a.log.Error("OTLP export stopped: no more spans are sent", "url", e.URL(), "error", err)
		}
		a.exported <- err
	}()
	a.log.Info("exporting trace spans over OTLP/HTTP", "url", e.URL())
	return nil
}
