package rpc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/writeonce"
)

// DedupBucket is the JetStream key-value bucket in which booths keep the
// answers of their NotIdempotent endpoints.
const DedupBucket = "SVC_DEDUP"

// DefaultDedupTTL is how long an answer is kept for replay. It must be
// longer than the retry horizon: the client's retries last seconds, but a
// gateway may retry a call with the same idempotency key minutes or hours
// later, and a retry after the TTL runs the call again.
const DefaultDedupTTL = 24 * time.Hour

// MinDedupTTL is the shortest TTL a dedup bucket may have.
const MinDedupTTL = time.Minute

// DedupStreamConfig returns the config of the stream behind DedupBucket,
// KV_SVC_DEDUP, with file storage, replicas copies (1 on a single server,
// 3 on a cluster; 0 means 1) and entries kept for ttl (0 means
// DefaultDedupTTL). Every key of it is written once: an answer, once kept,
// can be neither replaced nor erased (not by a delete or purge marker, nor
// by a raw publish) until the TTL ends it; a run's claims are keys of their
// own (see WithDedupStore). The mesh's provisioner creates the bucket from
// this config.
func DedupStreamConfig(replicas int, ttl time.Duration) (jetstream.StreamConfig, error) {
	switch {
	case replicas < 0 || replicas > 5:
		return jetstream.StreamConfig{}, fmt.Errorf("%w: dedup bucket: replicas must be in [1,5], got %d", ErrBadOption, replicas)
	case ttl < 0 || ttl > 0 && ttl < MinDedupTTL:
		return jetstream.StreamConfig{}, fmt.Errorf("%w: dedup bucket: TTL must be at least %v (longer than any retry), got %v", ErrBadOption, MinDedupTTL, ttl)
	}
	if ttl == 0 {
		ttl = DefaultDedupTTL
	}
	return writeonce.Bucket(DedupBucket, "answers of non-idempotent booth endpoints, per request id; written once",
		max(replicas, 1), ttl), nil
}

// EnsureDedupBucket creates the DedupBucket from DedupStreamConfig, or
// updates it to that config, and returns it for WithDedupStore: for a
// program that provisions its own stores (a test, a benchmark, a mesh of
// its own). Booths of the mesh only bind the bucket its provisioner made.
// A bucket that already keeps more replicas keeps them: lowering them is an
// operator's act.
func EnsureDedupBucket(ctx context.Context, js jetstream.JetStream, replicas int, ttl time.Duration) (jetstream.KeyValue, error) {
	if js == nil {
		return nil, fmt.Errorf("%w: dedup bucket: nil JetStream", ErrBadOption)
	}
	cfg, err := DedupStreamConfig(replicas, ttl)
	if err != nil {
		return nil, err
	}
	s, err := js.Stream(ctx, cfg.Name)
	switch {
	case err == nil:
		cfg.Replicas = max(cfg.Replicas, s.CachedInfo().Config.Replicas)
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return nil, fmt.Errorf("dedup bucket %s: %w", DedupBucket, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return nil, fmt.Errorf("dedup bucket %s: %w", DedupBucket, err)
	}
	kv, err := js.KeyValue(ctx, DedupBucket)
	if err != nil {
		return nil, fmt.Errorf("dedup bucket %s: %w", DedupBucket, err)
	}
	return kv, nil
}
