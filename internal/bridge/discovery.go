package bridge

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// ServiceInfo is what discovery knows of one service.
type ServiceInfo struct {
	Name string `json:"name"`
	// Versions of the running instances, sorted.
	Versions []string `json:"versions"`
	// Instances running at the last sweep; empty when the service was seen
	// before but has no instance now.
	Instances []Instance `json:"instances"`
	// Endpoints of the service, sorted by path.
	Endpoints []EndpointInfo `json:"endpoints"`
}

// Instance is one running instance of a service: its micro id, the name
// its discovery metadata gives ("instance", the name its trace events
// carry; pkg/mesh sets it), and its version.
type Instance struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version"`
}

// EndpointInfo is one endpoint of a service.
type EndpointInfo struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Path    string `json:"path"`
}

// discovery caches what micro's $SRV.INFO says about the mesh's services.
// A service stays known after its last instance is gone (so calls to it are
// answered 503, not 404) until no sweep has seen it for forget.
type discovery struct {
	nc                  *nats.Conn
	window, quiet       time.Duration
	minInterval, forget time.Duration

	mu       sync.Mutex
	services map[string]*knownService
	swept    time.Time     // end of the last completed sweep
	onDemand time.Time     // start of the last on-demand sweep
	inflight chan struct{} // closed when the running sweep ends; nil if none
	// inflightOnDemand says the running sweep was started on demand.
	inflightOnDemand bool
}

type knownService struct {
	lastSeen  time.Time
	instances map[string]Instance
	endpoints map[string]EndpointInfo // by subject
}

func newDiscovery(nc *nats.Conn, cfg *Config) *discovery {
	return &discovery{
		nc: nc, window: cfg.DiscoveryWindow, quiet: cfg.DiscoveryQuiet,
		minInterval: cfg.DiscoveryMinInterval, forget: cfg.DiscoveryForget,
		services: map[string]*knownService{},
	}
}

// lookup reports whether service is known and whether it serves subject,
// sweeping first (rate-limited) when either is not known yet.
func (d *discovery) lookup(ctx context.Context, service, subject string) (knownSvc, knownPath bool) {
	knownSvc, knownPath = d.has(service, subject)
	if knownPath {
		return true, true
	}
	d.refreshOnDemand(ctx)
	return d.has(service, subject)
}

func (d *discovery) has(service, subject string) (bool, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.services[service]
	if !ok {
		return false, false
	}
	_, ok = s.endpoints[subject]
	return true, ok
}

// service returns what is known of name.
func (d *discovery) service(name string) (ServiceInfo, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.services[name]
	if !ok {
		return ServiceInfo{}, false
	}
	return s.info(name), true
}

// list returns what is known of every service, sorted by name.
func (d *discovery) list() []ServiceInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]ServiceInfo, 0, len(d.services))
	for _, name := range slices.Sorted(maps.Keys(d.services)) {
		out = append(out, d.services[name].info(name))
	}
	return out
}

func (s *knownService) info(name string) ServiceInfo {
	si := ServiceInfo{Name: name, Versions: []string{}, Instances: []Instance{}, Endpoints: []EndpointInfo{}}
	versions := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(s.instances)) {
		in := s.instances[id]
		si.Instances = append(si.Instances, in)
		versions[in.Version] = true
	}
	si.Versions = slices.Sorted(maps.Keys(versions))
	for _, ep := range s.endpoints {
		si.Endpoints = append(si.Endpoints, ep)
	}
	slices.SortFunc(si.Endpoints, func(a, b EndpointInfo) int {
		if a.Path < b.Path {
			return -1
		} else if a.Path > b.Path {
			return 1
		}
		return 0
	})
	return si
}

// refresh sweeps unless the last sweep ended less than maxAge ago or a
// sweep is running, which it then waits for.
func (d *discovery) refresh(ctx context.Context, maxAge time.Duration) {
	d.mu.Lock()
	if ch := d.inflight; ch != nil {
		d.mu.Unlock()
		wait(ctx, ch)
		return
	}
	if time.Since(d.swept) < maxAge {
		d.mu.Unlock()
		return
	}
	d.sweepLocked(false)
}

// refreshOnDemand sweeps for a request that needs fresh knowledge (a
// service or path not known yet, a listing), at most once per minInterval
// whatever the periodic sweeps did: a booth started just after one is found
// on its first call, and a flood of unknown names or listings costs at most
// one sweep per interval. It shares a running on-demand sweep, and waits
// out a periodic one before deciding.
func (d *discovery) refreshOnDemand(ctx context.Context) {
	d.mu.Lock()
	for d.inflight != nil {
		ch, shared := d.inflight, d.inflightOnDemand
		d.mu.Unlock()
		if !wait(ctx, ch) || shared {
			return
		}
		d.mu.Lock()
	}
	if time.Since(d.onDemand) < d.minInterval {
		d.mu.Unlock()
		return
	}
	d.onDemand = time.Now()
	d.sweepLocked(true)
}

// sweepLocked is called with d.mu held and no sweep running; it releases
// d.mu, sweeps and records the result.
func (d *discovery) sweepLocked(onDemand bool) {
	ch := make(chan struct{})
	d.inflight, d.inflightOnDemand = ch, onDemand
	d.mu.Unlock()

	infos, err := d.sweep()
	d.mu.Lock()
	if err == nil {
		d.apply(infos, time.Now())
	}
	d.swept = time.Now()
	d.inflight = nil
	d.mu.Unlock()
	close(ch)
}

// wait waits for ch to close; it reports false if ctx ended first.
func wait(ctx context.Context, ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// run sweeps every period until ctx ends.
func (d *discovery) run(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	d.refresh(ctx, 0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.refresh(ctx, period/2)
		}
	}
}
