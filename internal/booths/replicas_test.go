package booths_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
)

// The stores a booth keeps, by the stream behind each.
var storeStreams = map[string]string{
	"audit-log":       booths.AuditStream,
	"payment":         "KV_" + booths.PaymentsBucket,
	"license-printer": "OBJ_" + booths.LicenseBucket,
}

func TestReplicas(t *testing.T) {
	c := natstest.StartCluster(t, 3, nil)
	nc, err := nats.Connect(c.URLs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	replicas := func(t *testing.T, stream string) int {
		t.Helper()
		st, err := js.Stream(t.Context(), stream)
		if err != nil {
			t.Fatal(err)
		}
		return st.CachedInfo().Config.Replicas
	}
	start := func(t *testing.T, name string, cfg booths.Config) error {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		b, err := booths.Start(ctx, nc, name, cfg)
		if err == nil {
			_ = b.Stop(ctx)
		}
		return err
	}

	for name, stream := range storeStreams {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Replicas = 3
			if err := start(t, name, cfg); err != nil {
				t.Fatal(err)
			}
			if got := replicas(t, stream); got != 3 {
				t.Fatalf("%s has %d replicas, want 3", stream, got)
			}
			// An instance started with the single-server default keeps the 3.
			logs := &logCounter{}
			cfg.Replicas, cfg.Logger = 0, slog.New(logs)
			if err := start(t, name, cfg); err != nil {
				t.Fatal(err)
			}
			if got := replicas(t, stream); got != 3 {
				t.Errorf("%s has %d replicas after a start with 1, want 3 kept", stream, got)
			}
			// payment keeps two stores: its ledger and the dedup bucket.
			want := 1
			if name == "payment" {
				want = 2
			}
			if logs.count("stream keeps more replicas than configured; not lowering them") != want {
				t.Error("keeping the larger replica count was not logged")
			}
		})
	}

	t.Run("out of range", func(t *testing.T) {
		for _, n := range []int{-1, 6} {
			cfg := testConfig()
			cfg.Replicas = n
			err := start(t, "audit-log", cfg)
			if err == nil || !strings.Contains(err.Error(), "replicas must be 1 to 5") {
				t.Errorf("replicas %d: got %v, want it refused", n, err)
			}
		}
	})
}
