package trace

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// Stream defaults.
const (
	DefaultMaxAge   = 24 * time.Hour
	DefaultMaxBytes = 1 << 30 // 1 GiB
	// dedupWindow is how long JetStream remembers a batch's Nats-Msg-Id, so
	// that a batch retried after a lost acknowledgement is stored once.
	dedupWindow = 2 * time.Minute
)

// StreamConfig sets the retention of the SVC_TRACE stream. Zero values take
// the defaults.
type StreamConfig struct {
	// MaxAge is how long events are kept (default 24 h).
	MaxAge time.Duration
	// MaxBytes bounds the stream's size; the oldest events go first
	// (default 1 GiB).
	MaxBytes int64
	// Replicas is 1 on a single server and 3 on a cluster (default 1).
	Replicas int
	// Memory keeps the stream in memory instead of files.
	Memory bool
}

// EnsureStream creates the SVC_TRACE stream on subjects svc.trace.>, or
// updates its limits to cfg if it exists.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (jetstream.Stream, error) {
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	switch {
	case cfg.MaxAge < time.Second:
		return nil, rpc.Errorf(rpc.CodeBadRequest, "trace stream: MaxAge must be at least 1s, got %v", cfg.MaxAge)
	case cfg.MaxBytes < 1<<20:
		return nil, rpc.Errorf(rpc.CodeBadRequest, "trace stream: MaxBytes must be at least 1 MiB, got %d", cfg.MaxBytes)
	case cfg.Replicas < 1 || cfg.Replicas > 5:
		return nil, rpc.Errorf(rpc.CodeBadRequest, "trace stream: Replicas must be in [1,5], got %d", cfg.Replicas)
	}
	storage := jetstream.FileStorage
	if cfg.Memory {
		storage = jetstream.MemoryStorage
	}
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        subjects.TraceStream,
		Description: "HMS-SVC trace events: one message per batch of hops",
		Subjects:    []string{subjects.TraceWildcard},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      cfg.MaxAge,
		MaxBytes:    cfg.MaxBytes,
		Replicas:    cfg.Replicas,
		Storage:     storage,
		Duplicates:  min(dedupWindow, cfg.MaxAge),
		AllowDirect: true,
	})
	if err != nil {
		return nil, rpc.Errorf(rpc.CodeUnavailable, "trace stream %s: %w", subjects.TraceStream, err)
	}
	return s, nil
}
