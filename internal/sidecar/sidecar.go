package sidecar

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// Sidecar is a running sidecar: the identity's booth forwarding to the app,
// and the app's outbound endpoint.
type Sidecar struct {
	cfg    Config
	booth  *rpc.Booth
	addr   net.Addr
	stop   context.CancelFunc
	served chan error

	stopOnce sync.Once
	stopErr  error
}

// Start serves cfg's endpoints as member's booth, forwarding each call to
// the app, and listens for the app's outbound calls; Stop ends both. ctx
// bounds the start only. The member's identity must be a booth of the
// matrix; a not-idempotent endpoint needs its SVC_DEDUP grant.
func Start(ctx context.Context, member *mesh.Mesh, cfg Config) (_ *Sidecar, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	s := &Sidecar{cfg: cfg, served: make(chan error, 1)}
	defer func() {
		if err != nil {
			_ = s.Stop(context.WithoutCancel(ctx))
		}
	}()
	if err := s.serveInbound(ctx, member); err != nil {
		return nil, err
	}
	if err := s.serveOutbound(ctx, member); err != nil {
		return nil, err
	}
	cfg.Logger.Info("sidecar serving", "identity", member.Identity(), "app", cfg.AppURL,
		"endpoints", len(cfg.Endpoints), "listen", s.addr.String())
	return s, nil
}

// serveInbound starts the booth and one forwarding endpoint per path.
func (s *Sidecar) serveInbound(ctx context.Context, member *mesh.Mesh) error {
	opts := []rpc.BoothOption{rpc.WithConcurrency(s.cfg.Concurrency), rpc.WithDefaultTimeout(s.cfg.AppTimeout)}
	if slices.ContainsFunc(s.cfg.Endpoints, func(e Endpoint) bool { return !e.idempotent() }) {
		js, err := jetstream.New(member.Conn())
		if err != nil {
			return err
		}
		kv, err := stores.KeyValue(ctx, js, rpc.DedupBucket, stores.Expect{Logger: s.cfg.Logger})
		if err != nil {
			return fmt.Errorf("sidecar: a not-idempotent endpoint keeps its answers in %s: %w", rpc.DedupBucket, err)
		}
		opts = append(opts, rpc.WithDedupStore(kv))
	}
	booth, err := member.NewBooth(rpc.BoothConfig{
		Version: s.cfg.Version, Description: s.cfg.Description, Metadata: map[string]string{"sidecar": "true"},
	}, opts...)
	if err != nil {
		return err
	}
	s.booth = booth
	client := &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConnsPerHost: s.cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
	maxBody := int64(member.Conn().MaxPayload() - bridge.HeaderRoom)
	for _, e := range s.cfg.Endpoints {
		f := &forwarder{url: appURL(s.cfg.AppURL, e.Path), client: client, maxBody: maxBody}
		var eopts []rpc.EndpointOption
		if !e.idempotent() {
			eopts = append(eopts, rpc.NotIdempotent())
		}
		if err := booth.HandleRaw(e.Path, f.serve, eopts...); err != nil {
			return fmt.Errorf("sidecar: endpoint %s: %w", e.Path, err)
		}
	}
	return member.Conn().Flush()
}

// serveOutbound listens on cfg.Listen and serves the bridge's call API for
// the app, as the member's identity, to requests with the API token.
func (s *Sidecar) serveOutbound(ctx context.Context, member *mesh.Mesh) error {
	bcfg := s.cfg.Bridge
	bcfg.InsecureH2C, bcfg.TLS, bcfg.CallOnly = true, nil, true
	bcfg.Caller = apiToken(member.Identity(), s.cfg.APIToken)
	if bcfg.Logger == nil {
		bcfg.Logger = s.cfg.Logger
	}
	b, err := bridge.New(bcfg, member)
	if err != nil {
		return err
	}
	ln, err := listen(s.cfg.Listen)
	if err != nil {
		return err
	}
	s.addr = ln.Addr()
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	go func() { s.served <- b.Serve(sctx, ln) }()
	return nil
}

// listen opens the outbound endpoint's listener: a unix socket only its
// owner may use (a stale socket file is replaced), or a loopback port.
func listen(addr string) (net.Listener, error) {
	path, ok := strings.CutPrefix(addr, UnixPrefix)
	if !ok {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("sidecar: --listen: %w", err)
		}
		return ln, nil
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("sidecar: --listen %s: the path exists and is not a socket", addr)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("sidecar: --listen %s: another process serves that socket", addr)
		}
		_ = os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("sidecar: --listen: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("sidecar: --listen: %w", err)
	}
	return ln, nil
}

// Addr returns the outbound endpoint's address.
func (s *Sidecar) Addr() net.Addr { return s.addr }

// Stop drains the booth first (calls in flight are forwarded to the app and
// answered, and the app's outbound calls they make still go through), then
// stops the outbound endpoint, letting its requests in flight finish.
// Later calls return the first one's result.
func (s *Sidecar) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		if s.booth != nil {
			s.stopErr = s.booth.Stop(ctx)
		}
		if s.stop != nil {
			s.stop()
			s.stopErr = errors.Join(s.stopErr, <-s.served)
		}
	})
	return s.stopErr
}

// Booth returns the identity's booth, which forwards to the app.
func (s *Sidecar) Booth() *rpc.Booth { return s.booth }
