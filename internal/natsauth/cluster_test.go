package natsauth_test

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pki"
)

// freePorts returns n ports free on loopback right now.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func routeURL(port int) *url.URL {
	return &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", port)}
}

func startNode(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	opts.Port, opts.NoLog, opts.NoSigs = -1, true, true
	opts.StoreDir = t.TempDir()
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(5 * time.Second) {
		t.Fatal("node not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// The generated 3-node config forms a cluster over TLS routes that accept
// only the route certificate: a fourth server presenting an identity's
// (valid, mesh-signed) client certificate cannot join.
func TestClusterConfigRoutesOnlyWithTheRouteCertificate(t *testing.T) {
	ports := freePorts(t, 4)
	var nodes []*server.Server
	for i := 1; i <= 3; i++ {
		conf, err := natsauth.Config(demo, demo.Keys(), natsauth.ConfigOptions{Cluster: &natsauth.ClusterOptions{Node: i, Size: 3}})
		if err != nil {
			t.Fatal(err)
		}
		opts := loadConfig(t, conf)
		opts.Cluster.Port = ports[i-1]
		opts.Routes = nil
		for j := 1; j <= 3; j++ {
			if j != i {
				opts.Routes = append(opts.Routes, routeURL(ports[j-1]))
			}
		}
		nodes = append(nodes, startNode(t, opts))
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		for i, n := range nodes {
			if got := peers(t, n); len(got) != 2 {
				return fmt.Errorf("node %d routes to %v, want the 2 others", i+1, got)
			}
		}
		return nil
	})
	var log captureLogger
	nodes[0].SetLoggerV2(&log, true, false, false)

	// The rogue node: the cluster config, but the payment booth's
	// certificate in place of the route certificate.
	conf, err := natsauth.Config(demo, demo.Keys(), natsauth.ConfigOptions{Cluster: &natsauth.ClusterOptions{Node: 1, Size: 3}})
	if err != nil {
		t.Fatal(err)
	}
	opts := loadConfig(t, conf)
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{
		CertFile: pki.CertFile(dir, "payment"), KeyFile: pki.KeyFile(dir, "payment"), CaFile: pki.CAFile(dir), Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	tc.RootCAs = tc.ClientCAs // as nats-server sets up route TLS
	opts.Cluster.TLSConfig = tc
	opts.Cluster.Port = ports[3]
	opts.Routes = []*url.URL{routeURL(ports[0])}
	opts.ServerName = "rogue"
	rogue := startNode(t, opts)
	// Node 1 refuses the rogue's route, and still routes to its two peers.
	natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if !log.has("user in cert [\"cn=payment") || !log.has("authentication error") {
			return fmt.Errorf("node 1 logged no refused route; log: %v", log.all())
		}
		return nil
	})
	// The refused route is closed: the rogue may count it until then.
	natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if got := peers(t, nodes[0]); len(got) != 2 || rogue.NumRoutes() != 0 {
			return fmt.Errorf("node 1 routes to %v and the rogue has %d routes; want 2 peers and 0", got, rogue.NumRoutes())
		}
		return nil
	})
}

// peers returns the names of the servers s routes to.
func peers(t *testing.T, s *server.Server) []string {
	t.Helper()
	rz, err := s.Routez(nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rz.Routes {
		if !slices.Contains(out, r.RemoteName) {
			out = append(out, r.RemoteName)
		}
	}
	return out
}

// captureLogger keeps a server's log lines.
type captureLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *captureLogger) add(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, v...))
}

func (l *captureLogger) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(strings.ToLower(line), s) {
			return true
		}
	}
	return false
}

func (l *captureLogger) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

func (l *captureLogger) Noticef(format string, v ...any) { l.add(format, v...) }
func (l *captureLogger) Warnf(format string, v ...any)   { l.add(format, v...) }
func (l *captureLogger) Fatalf(format string, v ...any)  { l.add(format, v...) }
func (l *captureLogger) Errorf(format string, v ...any)  { l.add(format, v...) }
func (l *captureLogger) Debugf(format string, v ...any)  { l.add(format, v...) }
func (l *captureLogger) Tracef(format string, v ...any)  { l.add(format, v...) }
