package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// runProvision runs "meshctl provision": it creates or updates every store
// of the mesh from its declaration, as the provisioner identity.
func runProvision(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("meshctl provision", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: meshctl provision [flags]

Creates every JetStream stream and bucket of the mesh (internal/stores) that
does not exist and updates the others to their declaration, against the NATS
server or cluster at --nats, as --as (an identity the matrix marks
provisioner: true). It waits for JetStream (a fresh cluster's meta leader),
retries with backoff until --timeout, and never lowers a store's replicas.
Running it again changes nothing. Booths never create or edit a store.

`)
		fs.PrintDefaults()
	}
	var conn natsConn
	conn.flags(fs, "provisioner", "provisioner")
	var o stores.Options
	fs.IntVar(&o.Replicas, "replicas", 1, "replicas of every store: 1 on a single server, 3 on a cluster (never lowered)")
	fs.IntVar(&o.Trace.Replicas, "trace-replicas", 0, "replicas of SVC_TRACE (default: as --replicas)")
	fs.DurationVar(&o.Trace.MaxAge, "trace-max-age", trace.DefaultMaxAge, "how long SVC_TRACE keeps trace events")
	fs.Int64Var(&o.Trace.MaxBytes, "trace-max-bytes", trace.DefaultMaxBytes, "most bytes SVC_TRACE keeps; the oldest events go first")
	fs.DurationVar(&o.DedupTTL, "dedup-ttl", 0, "how long SVC_DEDUP keeps an answer for replay (default 24h)")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long provisioning may take, waiting for JetStream included")
	if err := parse(fs, args); err != nil {
		return err
	}
	if _, err := stores.Declare(o); err != nil {
		return err
	}
	nc, js, err := conn.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	res, err := stores.Provision(ctx, js, o, slog.New(slog.DiscardHandler))
	for _, r := range res {
		fmt.Fprintln(stdout, r)
	}
	if err != nil {
		return conn.explain(err)
	}
	counts := map[stores.Action]int{}
	for _, r := range res {
		counts[r.Action]++
	}
	fmt.Fprintf(stdout, "provisioned %d stores on %s as %s: %d created, %d updated, %d unchanged\n",
		len(res), conn.url, conn.identity, counts[stores.Created], counts[stores.Updated], counts[stores.Unchanged])
	return nil
}
