package natstest

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hms-svc/hms-svc/internal/embednats"
)

// Node is one NATS server with JetStream that a test can stop and restart
// on the same port with the same store, so that clients reconnect to it.
type Node struct {
	tb  testing.TB
	cfg embednats.Config
	s   *server.Server
}

// StartNode runs a restartable single server on a free loopback port with
// a store in tb.TempDir(); it is shut down by tb.Cleanup. tune, when not
// nil, adjusts its options at every start (TLS, authorization).
func StartNode(tb testing.TB, tune func(*server.Options) error) *Node {
	tb.Helper()
	port, err := freePort()
	if err != nil {
		tb.Fatalf("choosing a port: %v", err)
	}
	n := &Node{tb: tb, cfg: embednats.Config{Port: port, StoreDir: tb.TempDir(), Tune: tune}}
	tb.Cleanup(n.Stop)
	n.Restart()
	return n
}

// Server returns the running server, nil while stopped.
func (n *Node) Server() *server.Server { return n.s }

// URL returns the node's client URL, the same across restarts.
func (n *Node) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.cfg.Port) }

// Stop shuts the server down, keeping its store.
func (n *Node) Stop() {
	if n.s != nil {
		n.s.Shutdown()
		n.s.WaitForShutdown()
		n.s = nil
	}
}

// Restart starts the stopped server again on its port with its store.
func (n *Node) Restart() {
	n.tb.Helper()
	if n.s != nil {
		n.tb.Fatal("node is running")
	}
	s, err := embednats.Start(n.cfg)
	if err != nil {
		n.tb.Fatalf("starting NATS on %s: %v", n.URL(), err)
	}
	n.s = s
}

// URL returns node i's client URL.
func (c *Cluster) URL(i int) string { return fmt.Sprintf("nats://127.0.0.1:%d", c.ports[i]) }

// WaitPeers waits until the JetStream meta leader counts every running
// node as a peer that can hold a replica. WaitReady does not: right after
// a start, a stream of as many replicas as nodes may find "no suitable
// peers for placement" until every node has reported to the leader.
func (c *Cluster) WaitPeers(timeout time.Duration) {
	c.tb.Helper()
	CheckFor(c.tb, timeout, 20*time.Millisecond, func() error {
		running := 0
		for _, s := range c.nodes {
			if s != nil {
				running++
			}
		}
		for _, s := range c.nodes {
			if s != nil && s.JetStreamIsLeader() {
				if peers := s.JetStreamClusterPeers(); len(peers) < running {
					return fmt.Errorf("meta leader knows %d JetStream peers %v, want %d", len(peers), peers, running)
				}
				return nil
			}
		}
		return fmt.Errorf("no JetStream meta leader")
	})
}

// StreamState returns stream's state as node i stores it (not as the
// stream leader reports it), from the node's own monitoring data.
func (c *Cluster) StreamState(i int, stream string) (server.StreamState, error) {
	s := c.nodes[i]
	if s == nil {
		return server.StreamState{}, fmt.Errorf("node %d is stopped", i+1)
	}
	jsz, err := s.Jsz(&server.JSzOptions{Accounts: true, Streams: true})
	if err != nil {
		return server.StreamState{}, err
	}
	for _, acc := range jsz.AccountDetails {
		for _, sd := range acc.Streams {
			if sd.Name == stream {
				return sd.State, nil
			}
		}
	}
	return server.StreamState{}, fmt.Errorf("node %d holds no stream %s", i+1, stream)
}

// Faults cuts cluster nodes off their peers. Every route between nodes of
// a cluster started by StartFaultyCluster runs through a loopback proxy;
// isolating a node closes its proxies, as a network partition or a
// crashed machine would.
type Faults struct {
	c *Cluster

	mu       sync.Mutex
	proxies  map[[2]int]*routeProxy // by [from, to] route port
	isolated map[int]bool           // by route port
}

// StartFaultyCluster is StartCluster with its routes through proxies that
// the returned Faults controls. Nodes do not advertise their route
// addresses, so no route bypasses the proxies.
func StartFaultyCluster(tb testing.TB, n int, tune func(*server.Options) error) (*Cluster, *Faults) {
	tb.Helper()
	f := &Faults{proxies: map[[2]int]*routeProxy{}, isolated: map[int]bool{}}
	tb.Cleanup(f.close) // runs after the cluster's shutdown
	c := StartCluster(tb, n, func(o *server.Options) error {
		if err := f.reroute(o); err != nil {
			return err
		}
		if tune != nil {
			return tune(o)
		}
		return nil
	})
	f.c = c
	return c, f
}

// reroute points a starting node's routes at proxies to its peers, making
// the proxies at first start and reusing them on restart.
func (f *Faults) reroute(o *server.Options) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	o.Cluster.NoAdvertise = true
	routes := make([]*url.URL, 0, len(o.Routes))
	for _, r := range o.Routes {
		var to int
		if _, err := fmt.Sscanf(r.Port(), "%d", &to); err != nil {
			return fmt.Errorf("route %s: %w", r, err)
		}
		key := [2]int{o.Cluster.Port, to}
		p, ok := f.proxies[key]
		if !ok {
			var err error
			if p, err = newRouteProxy(r.Host); err != nil {
				return err
			}
			p.setCut(f.isolated[key[0]] || f.isolated[key[1]])
			f.proxies[key] = p
		}
		routes = append(routes, &url.URL{Scheme: r.Scheme, Host: p.ln.Addr().String()})
	}
	o.Routes = routes
	return nil
}

// Isolate cuts node i off every peer: its route connections close and no
// new one gets through until Heal. Its clients stay connected to it.
func (f *Faults) Isolate(i int) { f.set(i, true) }

// Heal lets node i's routes through again; they reconnect by themselves.
func (f *Faults) Heal(i int) { f.set(i, false) }

func (f *Faults) set(i int, cut bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	port := f.c.routes[i]
	f.isolated[port] = cut
	for key, p := range f.proxies {
		if key[0] == port || key[1] == port {
			p.setCut(cut || f.isolated[key[0]] || f.isolated[key[1]])
		}
	}
}

// Crash takes node i down the way a crash does: it is cut off its peers
// first, so the leaderships it held are not handed over and the rest of the
// cluster must notice it gone and elect; then it shuts down, dropping its
// clients. Its store is kept for Recover.
func (f *Faults) Crash(i int) {
	f.Isolate(i)
	f.c.Stop(i)
}

// Recover restarts a crashed node with its store and lets its routes
// through.
func (f *Faults) Recover(i int) {
	f.c.tb.Helper()
	f.Heal(i)
	f.c.Restart(i)
}

func (f *Faults) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.proxies {
		p.close()
	}
}

// routeProxy forwards route connections to one node's route port.
type routeProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

func newRouteProxy(target string) (*routeProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &routeProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

func (p *routeProxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		go p.forward(in)
	}
}

func (p *routeProxy) forward(in net.Conn) {
	if !p.track(in) {
		in.Close()
		return
	}
	out, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil || !p.track(out) {
		p.drop(in)
		if out != nil {
			out.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	p.drop(in)
	p.drop(out)
}

// track registers c unless the proxy is cut.
func (p *routeProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *routeProxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// setCut closes every connection through the proxy and refuses new ones
// while cut.
func (p *routeProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
			delete(p.conns, c)
		}
	}
}

func (p *routeProxy) close() {
	p.setCut(true)
	_ = p.ln.Close()
}
