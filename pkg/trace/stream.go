package trace

import (
	"context"
	"fmt"
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

// JetStream returns the config of the SVC_TRACE stream c describes, on
// subjects svc.trace.>, with the defaults applied, or an error naming a bad
// value. Messages leave it only by its limits (age, size): it allows no
// message delete and no purge. The mesh's provisioner creates the stream
// from it.
func (c StreamConfig) JetStream() (jetstream.StreamConfig, error) {
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	switch {
	case c.MaxAge < time.Second:
		return jetstream.StreamConfig{}, fmt.Errorf("trace stream: MaxAge must be at least 1s, got %v", c.MaxAge)
	case c.MaxBytes < 1<<20:
		return jetstream.StreamConfig{}, fmt.Errorf("trace stream: MaxBytes must be at least 1 MiB, got %d", c.MaxBytes)
	case c.Replicas < 1 || c.Replicas > 5:
		return jetstream.StreamConfig{}, fmt.Errorf("trace stream: Replicas must be in [1,5], got %d", c.Replicas)
	}
	storage := jetstream.FileStorage
	if c.Memory {
		storage = jetstream.MemoryStorage
	}
	return jetstream.StreamConfig{
		Name:        subjects.TraceStream,
		Description: "HMS-SVC trace events: one message per batch of hops",
		Subjects:    []string{subjects.TraceWildcard},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      c.MaxAge,
		MaxBytes:    c.MaxBytes,
		Replicas:    c.Replicas,
		Storage:     storage,
		Duplicates:  min(dedupWindow, c.MaxAge),
		AllowDirect: true,
		DenyDelete:  true,
		DenyPurge:   true,
	}, nil
}

// EnsureStream creates the SVC_TRACE stream from cfg.JetStream(), or
// updates it to that config if it exists: for a program that provisions
// its own stores (a test, a mesh of its own). Processes of the mesh leave
// it to the mesh's provisioner.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (jetstream.Stream, error) {
	sc, err := cfg.JetStream()
	if err != nil {
		return nil, rpc.Errorf(rpc.CodeBadRequest, "%w", err)
	}
	s, err := js.CreateOrUpdateStream(ctx, sc)
	if err != nil {
		return nil, rpc.Errorf(rpc.CodeUnavailable, "trace stream %s: %w", subjects.TraceStream, err)
	}
	return s, nil
}
