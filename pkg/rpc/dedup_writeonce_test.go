package rpc_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// A kept answer can be neither erased nor replaced, by the key-value API or
// by a raw publish, not even by a client allowed to write the bucket; a
// claim written after it (a forged release) does not reopen the call. The
// retry replays the first answer and the handler runs once.
func TestDedupAnswerIsWrittenOnce(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	var e effects
	serveCharge(t, startDedupBooth(t, s, "payment"), &e, 0)
	kv := dedupStore(t, s, nil)
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(t, s)
	const body = `{"amount":125}`
	raw := func(key string, hdr ...string) func() error {
		return func() error {
			m := nats.NewMsg("$KV." + rpc.DedupBucket + "." + key)
			for i := 0; i+1 < len(hdr); i += 2 {
				m.Header.Set(hdr[i], hdr[i+1])
			}
			_, err := js.PublishMsg(t.Context(), m)
			return err
		}
	}
	tests := []struct {
		name   string
		attack func(key string) func() error
		wantOK bool // the write is stored, yet changes nothing
	}{
		{"kv delete", func(key string) func() error { return func() error { return kv.Delete(t.Context(), key) } }, false},
		{"kv purge", func(key string) func() error { return func() error { return kv.Purge(t.Context(), key) } }, false},
		{"kv put", func(key string) func() error {
			return func() error { _, err := kv.Put(t.Context(), key, []byte("{\"state\":\"done\"}\n")); return err }
		}, false},
		{"raw delete marker", func(key string) func() error { return raw(key, "KV-Operation", "DEL") }, false},
		{"raw purge marker", func(key string) func() error { return raw(key, "KV-Operation", "PURGE", "Nats-Rollup", "sub") }, false},
		{"forged release after the answer", func(key string) func() error {
			return func() error {
				_, err := kv.Create(t.Context(), key+".2", []byte("{\"state\":\"released\",\"sha256\":\"x\"}\n"))
				return err
			}
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := uuid.NewString()
			key := "payment.charge." + id
			first, err := invoke(client, t.Context(), "payment", "/charge", id, body)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.attack(key)(); (err == nil) != tc.wantOK {
				t.Errorf("attack: err %v, want stored %v", err, tc.wantOK)
			}
			again, err := invoke(client, t.Context(), "payment", "/charge", id, body)
			if err != nil {
				t.Fatal(err)
			}
			if string(again.Data) != string(first.Data) || again.Header.Get(rpc.HeaderReplayed) != "1" {
				t.Errorf("retry got %s (replayed %q), want the first answer %s replayed", again.Data, again.Header.Get(rpc.HeaderReplayed), first.Data)
			}
			if got := e.of(id); got != 1 {
				t.Errorf("handler ran %d times, want 1", got)
			}
		})
	}
}
