package rpc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DedupBucket is the JetStream key-value bucket in which booths keep the
// answers of their NotIdempotent endpoints.
const DedupBucket = "SVC_DEDUP"

// DefaultDedupTTL is how long an answer is kept for replay. It must be
// longer than the retry horizon: the client's retries last seconds, but a
// gateway may retry a call with the same idempotency key minutes or hours
// later, and a retry after the TTL runs the call again.
const DefaultDedupTTL = 24 * time.Hour

// MinDedupTTL is the shortest TTL EnsureDedupBucket accepts.
const MinDedupTTL = time.Minute

// EnsureDedupBucket creates the DedupBucket, or updates it to ttl, with
// file storage and replicas copies (1 on a single server, 3 on a cluster),
// and returns it for WithDedupStore. ttl 0 means DefaultDedupTTL; replicas
// 0 means 1. A bucket that already keeps more replicas keeps them: lowering
// them is an operator's act.
func EnsureDedupBucket(ctx context.Context, js jetstream.JetStream, replicas int, ttl time.Duration) (jetstream.KeyValue, error) {
	switch {
	case js == nil:
		return nil, fmt.Errorf("%w: dedup bucket: nil JetStream", ErrBadOption)
	case replicas < 0 || replicas > 5:
		return nil, fmt.Errorf("%w: dedup bucket: replicas must be in [1,5], got %d", ErrBadOption, replicas)
	case ttl < 0 || ttl > 0 && ttl < MinDedupTTL:
		return nil, fmt.Errorf("%w: dedup bucket: TTL must be at least %v (longer than any retry), got %v", ErrBadOption, MinDedupTTL, ttl)
	}
	if ttl == 0 {
		ttl = DefaultDedupTTL
	}
	replicas = max(replicas, 1)
	s, err := js.Stream(ctx, "KV_"+DedupBucket)
	switch {
	case err == nil:
		replicas = max(replicas, s.CachedInfo().Config.Replicas)
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return nil, fmt.Errorf("dedup bucket %s: %w", DedupBucket, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      DedupBucket,
		Description: "answers of non-idempotent booth endpoints, per request id",
		History:     1,
		TTL:         ttl,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("dedup bucket %s: %w", DedupBucket, err)
	}
	return kv, nil
}
