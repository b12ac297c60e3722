package natstest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hms-svc/hms-svc/internal/embednats"
)

// Cluster is a NATS cluster with JetStream running in-process for a test.
// Each node keeps its ports and its store across Stop and Restart.
type Cluster struct {
	tb     testing.TB
	tune   func(*server.Options) error
	nodes  []*server.Server
	dirs   []string
	ports  []int
	routes []int
}

// StartCluster runs an n-node cluster (routes between all nodes, JetStream
// on every node) and waits until JetStream has a meta leader that counts
// every node as a peer. tune, when not
// nil, adjusts each node's options (TLS, authorization).
func StartCluster(tb testing.TB, n int, tune func(*server.Options) error) *Cluster {
	tb.Helper()
	c := &Cluster{tb: tb, tune: tune,
		nodes: make([]*server.Server, n), dirs: make([]string, n),
		ports: make([]int, n), routes: make([]int, n)}
	// A JetStream cluster needs its routes configured at start, so the
	// route ports are chosen up front; client ports are picked at first start.
	for i := range n {
		c.dirs[i] = tb.TempDir()
		c.ports[i] = -1
		p, err := freePort()
		if err != nil {
			tb.Fatalf("choosing a route port: %v", err)
		}
		c.routes[i] = p
	}
	tb.Cleanup(c.Shutdown)
	for i := range n {
		if err := c.start(i); err != nil {
			tb.Fatalf("starting cluster node %d: %v", i+1, err)
		}
	}
	c.WaitReady(30 * time.Second)
	// Every node must count as a JetStream peer before a test creates a
	// stream with as many replicas as nodes ("no suitable peers" otherwise).
	c.WaitPeers(30 * time.Second)
	return c
}

func (c *Cluster) start(i int) error {
	var routes []*url.URL
	for j, p := range c.routes {
		if j != i {
			routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)})
		}
	}
	s, err := embednats.Start(embednats.Config{
		Port:       c.ports[i],
		StoreDir:   c.dirs[i],
		ServerName: fmt.Sprintf("n%d", i+1),
		Tune: func(o *server.Options) error {
			o.Cluster = server.ClusterOpts{Name: "hms-test", Host: "127.0.0.1", Port: c.routes[i]}
			o.Routes = routes
			if c.tune != nil {
				return c.tune(o)
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	c.nodes[i] = s
	c.ports[i] = s.Addr().(*net.TCPAddr).Port
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Nodes returns the running servers (nil for a stopped node).
func (c *Cluster) Nodes() []*server.Server { return c.nodes }

// URLs returns every node's client URL, comma-separated, for nats.Connect.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.ports))
	for i, p := range c.ports {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", p)
	}
	return strings.Join(urls, ",")
}

// Stop shuts node i down, keeping its store for Restart.
func (c *Cluster) Stop(i int) {
	if s := c.nodes[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.nodes[i] = nil
	}
}

// Restart starts a stopped node i again on its ports with its store.
func (c *Cluster) Restart(i int) {
	c.tb.Helper()
	if c.nodes[i] != nil {
		c.tb.Fatalf("node %d is running", i+1)
	}
	if err := c.start(i); err != nil {
		c.tb.Fatalf("restarting node %d: %v", i+1, err)
	}
}

// Shutdown stops every node.
func (c *Cluster) Shutdown() {
	for i := range c.nodes {
		c.Stop(i)
	}
}

// WaitReady waits until every running node sees the others and JetStream
// has a meta leader.
func (c *Cluster) WaitReady(timeout time.Duration) {
	c.tb.Helper()
	CheckFor(c.tb, timeout, 50*time.Millisecond, func() error {
		running, leader := 0, false
		for _, s := range c.nodes {
			if s != nil {
				running++
				leader = leader || s.JetStreamIsLeader()
			}
		}
		for i, s := range c.nodes {
			if s != nil && s.NumRoutes() < running-1 {
				return fmt.Errorf("node %d has %d routes, want %d", i+1, s.NumRoutes(), running-1)
			}
		}
		if !leader {
			return errors.New("no JetStream meta leader yet")
		}
		return nil
	})
}

// StreamLeader returns the index of the node leading stream in the global
// account, or -1 if none does.
func (c *Cluster) StreamLeader(stream string) int {
	for i, s := range c.nodes {
		if s != nil && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return i
		}
	}
	return -1
}
