package natsauth_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/internal/storestest"
)

// The committed 3-node example is durable and runs away from 4222: each
// node syncs every JetStream write before acknowledging it (sync_interval:
// always), listens on 4301-4303 for clients, 6301-6303 for routes and
// 8301-8303 (loopback) for monitoring, and the three form a JetStream
// cluster that stores a replicated stream. The nodes run on free ports, the
// configured ones being checked as parsed, so the test runs beside others.
func TestDeploymentClusterIsDurable(t *testing.T) {
	var confs [][]byte // read before loadConfig changes the working directory
	for i := 1; i <= 3; i++ {
		conf, err := os.ReadFile(filepath.Join("../../deployments/nats", fmt.Sprintf("cluster-%d.conf", i)))
		if err != nil {
			t.Fatal(err)
		}
		confs = append(confs, conf)
	}
	routes := freePorts(t, 3)
	var nodes []*server.Server
	for i := 1; i <= 3; i++ {
		opts := loadConfig(t, confs[i-1])
		var gotRoutes []string
		for _, r := range opts.Routes {
			gotRoutes = append(gotRoutes, r.String())
		}
		var wantRoutes []string
		for j := 1; j <= 3; j++ {
			if j != i {
				wantRoutes = append(wantRoutes, fmt.Sprintf("nats-route://127.0.0.1:%d", 6300+j))
			}
		}
		if !opts.SyncAlways || opts.Port != 4300+i || opts.Cluster.Port != 6300+i ||
			opts.HTTPHost != "127.0.0.1" || opts.HTTPPort != 8300+i || !slices.Equal(gotRoutes, wantRoutes) ||
			opts.ServerName != fmt.Sprintf("hms-svc-%d", i) || opts.StoreDir != fmt.Sprintf(".mesh/data/nats-%d", i) {
			t.Fatalf("cluster-%d.conf: sync always %v, client %d, route %d, monitoring %s:%d, routes %v, name %q, store %q; "+
				"want true, %d, %d, 127.0.0.1:%d, %v, hms-svc-%d, .mesh/data/nats-%d",
				i, opts.SyncAlways, opts.Port, opts.Cluster.Port, opts.HTTPHost, opts.HTTPPort, gotRoutes, opts.ServerName, opts.StoreDir,
				4300+i, 6300+i, 8300+i, wantRoutes, i, i)
		}
		opts.Cluster.Port, opts.HTTPPort = routes[i-1], -1
		opts.Routes = nil
		for j := 1; j <= 3; j++ {
			if j != i {
				opts.Routes = append(opts.Routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", routes[j-1])})
			}
		}
		nodes = append(nodes, startNode(t, opts))
	}
	for i, n := range nodes {
		if !n.JetStreamEnabled() || !n.JetStreamConfig().SyncAlways {
			t.Errorf("node %d: JetStream enabled %v, sync always %v; want both", i+1, n.JetStreamEnabled(), n.JetStreamConfig().SyncAlways)
		}
	}
	// The provisioner makes the stores with 3 replicas; audit-log appends.
	storestest.Provision(t, connectAs(t, nodes[0], "provisioner"), stores.Options{Replicas: 3})
	js, err := jetstream.New(connectAs(t, nodes[0], "audit-log"))
	if err != nil {
		t.Fatal(err)
	}
	ack, err := js.Publish(t.Context(), "audit.records", []byte(`{}`))
	if err != nil || ack.Sequence != 1 {
		t.Fatalf("append: %v, %+v; want sequence 1", err, ack)
	}
	info, err := js.Stream(t.Context(), "AUDIT")
	if err != nil {
		t.Fatal(err)
	}
	if c := info.CachedInfo().Cluster; c == nil || len(c.Replicas) != 2 {
		t.Errorf("stream cluster %+v, want a leader and 2 replicas", c)
	}
}
