package stores

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/wait"
	"github.com/hms-svc/hms-svc/internal/writeonce"
)

// ErrMissing is matched by the error of binding a store that does not
// exist.
var ErrMissing = errors.New("does not exist")

// ErrWeakened is matched by the error of binding a store whose live config
// has lost a guarantee of its declaration.
var ErrWeakened = errors.New("has lost a guarantee of its declaration")

// Expect is what a booth expects of the stores it binds.
type Expect struct {
	// Replicas: a store that keeps fewer is logged (a booth cannot
	// change it; the provisioner can). 0 expects nothing.
	Replicas int
	// Logger receives that warning (slog.Default() when nil).
	Logger *slog.Logger
}

// KeyValue binds the declared key-value bucket called bucket.
func KeyValue(ctx context.Context, js jetstream.JetStream, bucket string, e Expect) (jetstream.KeyValue, error) {
	if _, err := lookup(ctx, js, "KV_"+bucket, e); err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("binding kv %s: %w", bucket, err)
	}
	return kv, nil
}

// ObjectStore binds the declared object store called bucket.
func ObjectStore(ctx context.Context, js jetstream.JetStream, bucket string, e Expect) (jetstream.ObjectStore, error) {
	if _, err := lookup(ctx, js, "OBJ_"+bucket, e); err != nil {
		return nil, err
	}
	os, err := js.ObjectStore(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("binding object store %s: %w", bucket, err)
	}
	return os, nil
}

// Stream binds the declared stream called name.
func Stream(ctx context.Context, js jetstream.JetStream, name string, e Expect) (jetstream.Stream, error) {
	return lookup(ctx, js, name, e)
}

// lookup returns the live stream behind a declared store once it has
// checked that it exists and keeps its declaration's guarantees: a store
// written once is still, deny delete and deny purge are still set.
func lookup(ctx context.Context, js jetstream.JetStream, stream string, e Expect) (jetstream.Stream, error) {
	want, ok := declared(stream)
	if !ok {
		return nil, fmt.Errorf("store %s is not declared in internal/stores", stream)
	}
	s, err := awaitStream(ctx, js, stream)
	if err != nil {
		return nil, err
	}
	have := s.CachedInfo().Config
	if err := weakened(want, have); err != nil {
		return nil, fmt.Errorf("store %s %w (%v): run the bridge or meshctl provision to restore it", stream, ErrWeakened, err)
	}
	if e.Replicas > have.Replicas {
		log := e.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Warn("store keeps fewer replicas than expected: provision it with more (meshctl provision --replicas)",
			"store", stream, "replicas", have.Replicas, "expected", e.Replicas)
	}
	return s, nil
}

// awaitStream looks up stream until it exists or ctx ends. Booths started
// together with the provisioner on a fresh cluster look before it has
// created their stores, or before JetStream has a meta leader: both pass,
// so a missing store or a transient error is retried with backoff, and
// only the end of ctx (the start timeout) makes it a failure.
func awaitStream(ctx context.Context, js jetstream.JetStream, stream string) (jetstream.Stream, error) {
	start := time.Now()
	for n := 1; ; n++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		s, err := js.Stream(actx, stream)
		cancel()
		if err == nil {
			return s, nil
		}
		missing := errors.Is(err, jetstream.ErrStreamNotFound)
		if !missing && !transient(err) {
			return nil, fmt.Errorf("looking up store %s: %w", stream, err)
		}
		if !wait.Sleep(ctx, backoff(n)) {
			waited := time.Since(start).Round(time.Millisecond)
			if missing {
				return nil, fmt.Errorf("store %s %w after waiting %v (%d lookups): run the bridge or meshctl provision", stream, ErrMissing, waited, n)
			}
			return nil, fmt.Errorf("looking up store %s: no answer after waiting %v (%d lookups): %w", stream, waited, n, err)
		}
	}
}

// weakened names the first guarantee of want that have lacks.
func weakened(want Store, have jetstream.StreamConfig) error {
	switch {
	case want.WriteOnce:
		return writeonce.Check(have)
	case want.Config.DenyDelete && !have.DenyDelete:
		return errors.New("it allows message deletes")
	case want.Config.DenyPurge && !have.DenyPurge:
		return errors.New("it allows purges")
	}
	return nil
}
