package booths_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// The stores each booth binds, by the stream behind each.
var boothStores = map[string][]string{
	"audit-log":       {booths.AuditStream},
	"payment":         {"KV_" + booths.PaymentsBucket, "KV_" + rpc.DedupBucket},
	"license-printer": {"OBJ_" + booths.LicenseBucket},
}

// tryStart starts booth name on a connection to s and stops it again,
// returning Start's error.
func tryStart(t *testing.T, nc jetstream.JetStream, name string, cfg booths.Config) error {
	t.Helper()
	return tryStartWithin(t, nc, name, cfg, 10*time.Second)
}

// tryStartWithin is tryStart with a start timeout of d.
func tryStartWithin(t *testing.T, nc jetstream.JetStream, name string, cfg booths.Config, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	b, err := booths.Start(ctx, nc.Conn(), name, cfg)
	if err == nil {
		_ = b.Stop(ctx)
	}
	return err
}

// A booth never creates a store: on a server without them it waits for the
// provisioner until its start timeout, then refuses to start, naming the
// store and how to make it, and leaves none behind.
func TestBoothsRefuseMissingStores(t *testing.T) {
	s := natstest.Start(t)
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	for name, streams := range boothStores {
		t.Run(name, func(t *testing.T) {
			err := tryStartWithin(t, js, name, testConfig(), 500*time.Millisecond)
			want := "store " + streams[0] + " does not exist after waiting "
			if !errors.Is(err, stores.ErrMissing) || !strings.Contains(err.Error(), want) ||
				!strings.Contains(err.Error(), "run the bridge or meshctl provision") {
				t.Errorf("start: %v, want an error containing %q", err, want)
			}
		})
	}
	names := js.StreamNames(t.Context())
	for n := range names.Name() {
		t.Errorf("a booth left stream %s behind", n)
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
}

// A ledger that has lost its write-once config (made by an older version
// of the booth, or edited by hand) is refused: its entries could be erased.
func TestPaymentRefusesAWeakenedLedger(t *testing.T) {
	s := startServer(t)
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(t.Context(), "KV_"+booths.PaymentsBucket)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.DiscardNewPerSubject = false
	if _, err := js.UpdateStream(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	err = tryStart(t, js, "payment", testConfig())
	if !errors.Is(err, stores.ErrWeakened) || !strings.Contains(err.Error(), "KV_PAYMENTS is not write-once") {
		t.Errorf("start on a weakened ledger: %v, want it refused as not write-once", err)
	}
}

// Booths expecting more replicas than their stores keep say so and start:
// only the provisioner changes a store.
func TestBoothsWarnOfFewerReplicas(t *testing.T) {
	s := startServer(t)
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	for name, streams := range boothStores {
		t.Run(name, func(t *testing.T) {
			logs := &logCounter{}
			cfg := testConfig()
			cfg.Replicas, cfg.Logger = 3, slog.New(logs)
			if err := tryStart(t, js, name, cfg); err != nil {
				t.Fatal(err)
			}
			if got := logs.count("store keeps fewer replicas than expected: provision it with more (meshctl provision --replicas)"); got != len(streams) {
				t.Errorf("%d warnings, want %d (one per store)", got, len(streams))
			}
		})
	}
}
