package booths

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"
)

// keepReplicas returns the replica count a booth asks of stream at start:
// want, unless the stream already keeps more copies. Lowering it would
// throw away copies an operator chose to keep (a cluster's 3 replicas, by
// an instance started with the single-server default), so the larger count
// is kept and the choice logged; lowering is an operator's explicit act.
func keepReplicas(ctx context.Context, js jetstream.JetStream, stream string, want int, log *slog.Logger) (int, error) {
	s, err := js.Stream(ctx, stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return want, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading stream %s: %w", stream, err)
	}
	if have := s.CachedInfo().Config.Replicas; have > want {
		log.Warn("stream keeps more replicas than configured; not lowering them",
			"stream", stream, "replicas", have, "configured", want)
		return have, nil
	}
	return want, nil
}

// storeReplicas is keepReplicas for the stream behind one of the booths'
// stores, with cfg's replica count.
func storeReplicas(ctx context.Context, js jetstream.JetStream, stream string, cfg Config) (int, error) {
	want, err := cfg.replicas()
	if err != nil {
		return 0, err
	}
	return keepReplicas(ctx, js, stream, want, cfg.logger())
}
