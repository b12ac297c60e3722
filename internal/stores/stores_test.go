package stores_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/internal/writeonce"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func provision(t *testing.T, js jetstream.JetStream, o stores.Options) []stores.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	res, err := stores.Provision(ctx, js, o, quiet)
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	return res
}

// actions returns what a provisioning did, by stream.
func actions(res []stores.Result) map[string]stores.Action {
	out := map[string]stores.Action{}
	for _, r := range res {
		out[r.Store.Stream()] = r.Action
	}
	return out
}

// The declaration and the matrix speak of the same stores: every store a
// grant names is declared, every declared store is granted to someone, and
// a write grant's subjects on a stream are subjects of that stream.
func TestDeclarationMatchesTheMatrix(t *testing.T) {
	m, err := matrix.Load("../../deployments/matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	decl, err := stores.Declare(stores.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var declared, granted []string
	for _, s := range decl {
		declared = append(declared, string(s.Kind)+" "+s.Name+" "+s.Stream())
	}
	for _, g := range m.Stores() {
		granted = append(granted, string(g.Store)+" "+g.Name+" "+g.Stream())
	}
	if !slices.Equal(declared, granted) {
		t.Errorf("declared %v\nmatrix   %v", declared, granted)
	}
	for _, id := range m.Identities() {
		ident, _ := m.Identity(id)
		for _, g := range ident.JetStream {
			if g.Store != matrix.StoreStream || g.Access != matrix.AccessWrite {
				continue // a bucket's data subjects follow from its name
			}
			i := slices.IndexFunc(decl, func(s stores.Store) bool { return s.Stream() == g.Stream() })
			for _, sub := range g.DataSubjects() {
				if i < 0 || !slices.ContainsFunc(decl[i].Config.Subjects, func(f string) bool { return server.SubjectMatchesFilter(sub, f) }) {
					t.Errorf("%s may publish to %s, which is not a subject of %s", id, sub, g.Stream())
				}
			}
		}
	}
	for _, s := range decl {
		if s.WriteOnce {
			if err := writeonce.Check(s.Config); err != nil {
				t.Errorf("%s: %v", s, err)
			}
		}
		if !s.Config.DenyDelete {
			t.Errorf("%s allows message deletes", s)
		}
	}
}

// Provisioning creates every store once; running it again changes
// nothing; a new retention updates that store alone. A booth's view of the
// stores is what the declaration says.
func TestProvisionIsIdempotent(t *testing.T) {
	s := natstest.Start(t)
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	res := provision(t, js, stores.Options{})
	decl, _ := stores.Declare(stores.Options{})
	if len(res) != len(decl) {
		t.Fatalf("%d results, want %d", len(res), len(decl))
	}
	for _, r := range res {
		if r.Action != stores.Created || r.Replicas != 1 {
			t.Errorf("first run: %s", r)
		}
	}
	for _, r := range provision(t, js, stores.Options{}) {
		if r.Action != stores.Unchanged {
			t.Errorf("second run: %s", r)
		}
	}
	got := actions(provision(t, js, stores.Options{Trace: trace.StreamConfig{MaxAge: time.Hour}}))
	for stream, act := range got {
		want := stores.Unchanged
		if stream == stores.Trace {
			want = stores.Updated
		}
		if act != want {
			t.Errorf("after a new trace retention, %s was %s, want %s", stream, act, want)
		}
	}
	st, err := js.Stream(t.Context(), stores.Trace)
	if err != nil || st.CachedInfo().Config.MaxAge != time.Hour {
		t.Errorf("SVC_TRACE after the update: %v", err)
	}
	kv, err := stores.KeyValue(t.Context(), js, stores.Payments, stores.Expect{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(t.Context(), "req-1", []byte("first")); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(t.Context(), "req-1", []byte("second")); err == nil {
		t.Error("the ledger took a second value for a key")
	}
}

// Bad options are refused, naming the option, before anything is made.
func TestProvisionRefusesBadOptions(t *testing.T) {
	s := natstest.Start(t)
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		o      stores.Options
		wantIn string
	}{
		{"six replicas", stores.Options{Replicas: 6}, "replicas must be 1 to 5"},
		{"negative replicas", stores.Options{Replicas: -1}, "replicas must be 1 to 5"},
		{"tiny trace stream", stores.Options{Trace: trace.StreamConfig{MaxBytes: 10}}, "MaxBytes must be at least 1 MiB"},
		{"short dedup TTL", stores.Options{DedupTTL: time.Second}, "TTL must be at least"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stores.Provision(t.Context(), js, tc.o, quiet)
			if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("Provision: %v, want an error naming %q", err, tc.wantIn)
			}
		})
	}
	names := js.StreamNames(t.Context())
	for n := range names.Name() {
		t.Errorf("refused options left stream %s behind", n)
	}
}

// clusterJS connects to the cluster nodes at urls, reconnecting for as long
// as the test runs.
func clusterJS(t *testing.T, urls string) (jetstream.JetStream, *nats.Conn) {
	t.Helper()
	nc, err := nats.Connect(urls, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js, nc
}

// On a fresh 3-node cluster every store gets 3 replicas; a later run asking
// for 1 keeps the 3.
func TestProvisionOnAFreshCluster(t *testing.T) {
	c := natstest.StartCluster(t, 3, nil)
	js, _ := clusterJS(t, c.URLs())
	for _, r := range provision(t, js, stores.Options{Replicas: 3}) {
		if r.Action != stores.Created || r.Replicas != 3 {
			t.Errorf("first run: %s, want created with 3 replicas", r)
		}
	}
	for _, r := range provision(t, js, stores.Options{Replicas: 1}) {
		if r.Replicas != 3 || !strings.Contains(r.String(), "(kept; 1 asked)") {
			t.Errorf("run asking for 1: %s, want the 3 replicas kept", r)
		}
	}
}

// With no JetStream meta leader (two of three nodes down), provisioning
// waits and retries; once the nodes are back it completes.
func TestProvisionWaitsForTheMetaLeader(t *testing.T) {
	c := natstest.StartCluster(t, 3, nil)
	js, nc := clusterJS(t, c.URL(0))
	c.Stop(1)
	c.Stop(2)
	var (
		wg   sync.WaitGroup
		res  []stores.Result
		err2 error
	)
	done := make(chan struct{})
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	wg.Go(func() {
		defer close(done)
		res, err2 = stores.Provision(ctx, js, stores.Options{Replicas: 3}, quiet)
	})
	// Without a quorum nothing can be created: it asks again and again.
	base := nc.Stats().OutMsgs
	natstest.CheckFor(t, 60*time.Second, 50*time.Millisecond, func() error {
		if n := nc.Stats().OutMsgs - base; n < 2 {
			return fmt.Errorf("%d JetStream requests so far, want 2 or more", n)
		}
		return nil
	})
	select {
	case <-done:
		t.Fatalf("Provision returned without a meta leader: %v, %v", res, err2)
	default:
	}
	c.Restart(1)
	c.Restart(2)
	wg.Wait()
	if err2 != nil {
		t.Fatalf("Provision after the nodes came back: %v", err2)
	}
	if len(res) != 5 {
		t.Errorf("%d stores provisioned, want 5", len(res))
	}
	for _, r := range res {
		if r.Replicas != 3 {
			t.Errorf("%s", r)
		}
	}
}

// Stores made by the booths of earlier versions (mutable buckets, streams
// without deny flags) are brought to the declaration in place, their
// entries kept: a mesh's existing data survives the upgrade.
func TestProvisionUpgradesStoresTheBoothsMade(t *testing.T) {
	s := natstest.Start(t)
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ledger, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: stores.Payments, History: 1, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Create(ctx, "req-1", []byte("charged")); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: stores.Dedup, History: 1, TTL: 24 * time.Hour, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: stores.Licenses, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: stores.Trace, Subjects: []string{"svc.trace.>"}, MaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	got := actions(provision(t, js, stores.Options{}))
	want := map[string]stores.Action{"AUDIT": stores.Created, "KV_PAYMENTS": stores.Updated, "KV_SVC_DEDUP": stores.Updated,
		"OBJ_LICENSES": stores.Updated, "SVC_TRACE": stores.Updated}
	if !maps.Equal(got, want) {
		t.Errorf("actions %v, want %v", got, want)
	}
	kv, err := stores.KeyValue(ctx, js, stores.Payments, stores.Expect{})
	if err != nil {
		t.Fatalf("binding the upgraded ledger: %v", err)
	}
	if e, err := kv.Get(ctx, "req-1"); err != nil || string(e.Value()) != "charged" {
		t.Errorf("the ledger entry after the upgrade: %v", err)
	}
	if err := kv.Delete(ctx, "req-1"); err == nil {
		t.Error("the upgraded ledger took a delete marker")
	}
}
