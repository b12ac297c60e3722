package writeonce

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket returns the config of the stream behind the write-once key-value
// bucket name: "KV_<name>" on "$KV.<name>.>", the shape nats.go's
// KeyValue binds to, with one message per key, new messages on a used key
// refused (discard new per subject), no rollup, no per-message TTL, no
// message delete and no purge. ttl 0 keeps entries forever.
func Bucket(name, description string, replicas int, ttl time.Duration) jetstream.StreamConfig {
	dup := 2 * time.Minute
	if ttl > 0 && ttl < dup {
		dup = ttl
	}
	return jetstream.StreamConfig{
		Name:                 "KV_" + name,
		Description:          description,
		Subjects:             []string{"$KV." + name + ".>"},
		Retention:            jetstream.LimitsPolicy,
		MaxMsgsPerSubject:    1,
		Discard:              jetstream.DiscardNew,
		DiscardNewPerSubject: true,
		MaxAge:               ttl,
		MaxBytes:             -1,
		MaxMsgs:              -1,
		MaxMsgSize:           -1,
		MaxConsumers:         -1,
		Storage:              jetstream.FileStorage,
		Replicas:             replicas,
		Duplicates:           dup,
		AllowRollup:          false,
		DenyDelete:           true,
		DenyPurge:            true,
		AllowDirect:          true,
	}
}

// ErrNotWriteOnce is matched by Check's error.
var ErrNotWriteOnce = errors.New("not write-once")

// Check reports, wrapping ErrNotWriteOnce, the first setting of cfg (a live
// stream's) that would let a stored entry be replaced or removed.
func Check(cfg jetstream.StreamConfig) error {
	var why string
	switch {
	case cfg.MaxMsgsPerSubject != 1:
		why = fmt.Sprintf("it keeps %d messages per key, not 1", cfg.MaxMsgsPerSubject)
	case cfg.Discard != jetstream.DiscardNew || !cfg.DiscardNewPerSubject:
		why = "a new message on a key replaces the old one (it needs discard new per subject)"
	case cfg.AllowRollup:
		why = "it allows rollups"
	case cfg.AllowMsgTTL:
		why = "it allows per-message TTLs"
	case !cfg.DenyDelete:
		why = "it allows message deletes"
	case !cfg.DenyPurge:
		why = "it allows purges"
	default:
		return nil
	}
	return fmt.Errorf("stream %s is %w: %s", cfg.Name, ErrNotWriteOnce, why)
}
