package writeonce_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/writeonce"
)

// Bucket's config passes Check; each setting that would let an entry be
// replaced or removed is named.
func TestCheckNamesWhatLetsAnEntryChange(t *testing.T) {
	if err := writeonce.Check(writeonce.Bucket("B", "", 1, 0)); err != nil {
		t.Fatalf("Bucket's own config: %v", err)
	}
	tests := []struct {
		name   string
		weaken func(*jetstream.StreamConfig)
		wantIn string
	}{
		{"history", func(c *jetstream.StreamConfig) { c.MaxMsgsPerSubject = 5 }, "5 messages per key"},
		{"discard old", func(c *jetstream.StreamConfig) { c.Discard = jetstream.DiscardOld }, "discard new per subject"},
		{"no discard new per subject", func(c *jetstream.StreamConfig) { c.DiscardNewPerSubject = false }, "discard new per subject"},
		{"rollup", func(c *jetstream.StreamConfig) { c.AllowRollup = true }, "rollups"},
		{"message TTL", func(c *jetstream.StreamConfig) { c.AllowMsgTTL = true }, "per-message TTLs"},
		{"deletes", func(c *jetstream.StreamConfig) { c.DenyDelete = false }, "message deletes"},
		{"purges", func(c *jetstream.StreamConfig) { c.DenyPurge = false }, "purges"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeonce.Bucket("B", "", 1, 0)
			tc.weaken(&cfg)
			err := writeonce.Check(cfg)
			if !errors.Is(err, writeonce.ErrNotWriteOnce) || !strings.Contains(err.Error(), "stream KV_B is not write-once: ") ||
				!strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("Check = %v, want ErrNotWriteOnce naming %q", err, tc.wantIn)
			}
		})
	}
}
