package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/stores"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// The sides of the in-process pairs.
const (
	// SideMesh is pkg/rpc with everything on: TLS+NKey connection, call
	// tokens signed and verified, breaker, retry, deadline, tracing.
	SideMesh = "mesh"
	// SideMeshNoTrace is SideMesh with tracing switched off.
	SideMeshNoTrace = "mesh, tracing off"
	// SideRaw is a raw nats.go request to a plain micro endpoint doing the
	// same JSON work, on the same secure server over the same kind of
	// TLS+NKey connection.
	SideRaw = "raw"
	// SideRawPlain is SideRaw on a server without TLS or authentication.
	SideRawPlain = "raw, plaintext server"
	// SideOnce is a call to an exactly-once (rpc.NotIdempotent) endpoint
	// doing the fee work, everything on; SidePlainCall the same call to a
	// plain endpoint of the same booth.
	SideOnce      = "exactly-once call"
	SidePlainCall = "plain call"
	// SideRawHeaders is SideRaw carrying the headers of a mesh call (call
	// token, request id, caller, deadline, traceparent): what the wire
	// format costs NATS, apart from the mesh's code.
	SideRawHeaders = "raw + the mesh's headers"
)

// RPCPair is the in-process fixture of the pkg/rpc-versus-raw-NATS pairs:
// the real fee-calc booth and a plain micro endpoint on one secure embedded
// server, a gateway client of each, and the same plain endpoint on a
// plaintext server as a reference. The booths and the gateway's client are
// members of the mesh (pkg/mesh), as in production.
type RPCPair struct {
	secure, plain *server.Server
	conns         []*nats.Conn
	members       []*mesh.Mesh
	sidecar       *sidecarApp
	raws          []micro.Service
	client        *rpc.Client
	rawNC         *nats.Conn
	plainNC       *nats.Conn
	meshHeader    nats.Header // the headers of one mesh call
	js            jetstream.JetStream

	tracing atomic.Bool
	traced  atomic.Uint64 // calls completed with tracing on
}

// rawSubject is the plain endpoint's subject.
const rawSubject = "svc." + RawService + ".calculate"

// NewRPCPair starts the fixture: servers with stores under dir, the
// credentials c, the fee table at feeTable.
func NewRPCPair(ctx context.Context, c *Creds, dir, feeTable string) (_ *RPCPair, err error) {
	p := &RPCPair{}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if p.secure, err = c.StartSecure(filepath.Join(dir, "secure")); err != nil {
		return nil, err
	}
	if p.plain, err = StartPlain(filepath.Join(dir, "plain")); err != nil {
		return nil, err
	}
	work, err := NewFeeWork(feeTable)
	if err != nil {
		return nil, err
	}
	conn := func(identity string) (*nats.Conn, error) {
		nc, err := c.Connect(p.secure.ClientURL(), identity)
		if err == nil {
			p.conns = append(p.conns, nc)
		}
		return nc, err
	}
	join := func(identity string) (*mesh.Mesh, error) {
		m, err := mesh.Connect(ctx, mesh.Config{
			Identity: identity, Credentials: mesh.Credentials{Dir: c.Dir}, Matrix: c.Matrix,
			NATSURL: p.secure.ClientURL(), Instance: identity + "-bench",
			Logger: slog.New(slog.DiscardHandler), TraceSwitch: &p.tracing, FlushTimeout: 15 * time.Second,
		})
		if err == nil {
			p.members = append(p.members, m)
		}
		return m, err
	}

	// The stores, as the bridge provisions them.
	admin, err := conn("bridge")
	if err != nil {
		return nil, err
	}
	if p.js, err = jetstream.New(admin); err != nil {
		return nil, err
	}
	if _, err := stores.Provision(ctx, p.js, stores.Options{}, slog.New(slog.DiscardHandler)); err != nil {
		return nil, err
	}

	// The real fee-calc booth.
	fee, err := join("fee-calc")
	if err != nil {
		return nil, err
	}
	if _, err = booths.Start(ctx, fee.Conn(), "fee-calc", booths.Config{
		FeeTable: feeTable, Logger: slog.New(slog.DiscardHandler), NewBooth: fee.NewBooth,
	}); err != nil {
		return nil, err
	}
	if err := startDedupBooth(ctx, join, work); err != nil {
		return nil, err
	}

	// The same fee work by an HTTP app behind the sidecar.
	side, err := join(SidecarService)
	if err != nil {
		return nil, err
	}
	if p.sidecar, err = startSidecar(ctx, side, work); err != nil {
		return nil, err
	}

	// The gateway's client: the mesh's defaults.
	gw, err := join("gateway")
	if err != nil {
		return nil, err
	}
	p.client = gw.Client()

	// The plain micro endpoint, on the secure server and on the plain one.
	rawBooth, err := conn(RawService)
	if err != nil {
		return nil, err
	}
	if p.rawNC, err = conn("gateway"); err != nil {
		return nil, err
	}
	plainBooth, err := nats.Connect(p.plain.ClientURL())
	if err != nil {
		return nil, err
	}
	p.conns = append(p.conns, plainBooth)
	if p.plainNC, err = nats.Connect(p.plain.ClientURL()); err != nil {
		return nil, err
	}
	p.conns = append(p.conns, p.plainNC)
	for _, nc := range []*nats.Conn{rawBooth, plainBooth} {
		svc, err := rawEndpoint(nc, work)
		if err != nil {
			return nil, err
		}
		p.raws = append(p.raws, svc)
	}
	if p.meshHeader, err = p.meshHeaders(ctx, gw); err != nil {
		return nil, err
	}
	return p, nil
}

// meshHeaders returns the headers a traced, signed call of the gateway to
// fee-calc carries.
func (p *RPCPair) meshHeaders(ctx context.Context, gw *mesh.Mesh) (nats.Header, error) {
	var got nats.Header
	capture := func(next rpc.Endpoint) rpc.Endpoint {
		return func(ctx context.Context, req *rpc.Message) (*rpc.Message, error) {
			got = nats.Header{}
			for k, v := range req.Header {
				got[k] = append([]string(nil), v...)
			}
			return next(ctx, req)
		}
	}
	c, err := gw.NewClient(rpc.WithAttemptMiddleware(capture))
	if err != nil {
		return nil, err
	}
	p.tracing.Store(true)
	defer p.tracing.Store(false)
	if _, err := c.CallRaw(ctx, "fee-calc", "/calculate", FeeBody); err != nil {
		return nil, fmt.Errorf("bench: a mesh call to capture its headers: %w", err)
	}
	return got, nil
}

// HeaderBytes returns the size of a mesh call's headers on the wire.
func (p *RPCPair) HeaderBytes() int {
	n := len("NATS/1.0\r\n\r\n")
	for k, vs := range p.meshHeader {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// startDedupBooth serves DedupService: the fee work on /once, exactly once
// per request id, and on /plain, with the same stack as fee-calc.
func startDedupBooth(ctx context.Context, join func(string) (*mesh.Mesh, error), work *FeeWork) error {
	m, err := join(DedupService)
	if err != nil {
		return err
	}
	js, err := jetstream.New(m.Conn())
	if err != nil {
		return err
	}
	kv, err := stores.KeyValue(ctx, js, rpc.DedupBucket, stores.Expect{})
	if err != nil {
		return err
	}
	b, err := m.NewBooth(rpc.BoothConfig{Version: "1.0.0"}, rpc.WithDedupStore(kv))
	if err != nil {
		return err
	}
	h := func(_ context.Context, req *booths.FeeRequest) (*booths.FeeReply, error) { return work.Reply(req) }
	if err := rpc.Handle(b, "/once", h, rpc.NotIdempotent()); err != nil {
		return err
	}
	return rpc.Handle(b, "/plain", h)
}

// rawEndpoint serves the plain micro endpoint on nc.
func rawEndpoint(nc *nats.Conn, work *FeeWork) (micro.Service, error) {
	svc, err := micro.AddService(nc, micro.Config{
		Name: RawService, Version: "1.0.0", QueueGroup: RawService,
		Endpoint: &micro.EndpointConfig{
			Subject: rawSubject,
			Handler: micro.HandlerFunc(func(r micro.Request) {
				out, err := work.Do(r.Data())
				if err != nil {
					_ = r.Error("400", err.Error(), nil)
					return
				}
				_ = r.Respond(out)
			}),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("bench: raw endpoint: %w", err)
	}
	if err := nc.Flush(); err != nil {
		return nil, err
	}
	return svc, nil
}

// Op returns the call of side.
func (p *RPCPair) Op(side string) (Op, error) {
	call := func(service, path string) Op {
		return func(ctx context.Context) error {
			_, err := p.client.CallRaw(ctx, service, path, FeeBody)
			if err == nil && p.tracing.Load() {
				p.traced.Add(1)
			}
			return err
		}
	}
	mesh := call("fee-calc", "/calculate")
	raw := func(nc *nats.Conn, h nats.Header) Op {
		return func(context.Context) error {
			var msg *nats.Msg
			var err error
			if h == nil {
				msg, err = nc.Request(rawSubject, FeeBody, 5*time.Second)
			} else {
				msg, err = nc.RequestMsg(&nats.Msg{Subject: rawSubject, Header: h, Data: FeeBody}, 5*time.Second)
			}
			if err != nil {
				return err
			}
			if code := msg.Header.Get(micro.ErrorCodeHeader); code != "" {
				return fmt.Errorf("raw endpoint answered %s: %s", code, msg.Header.Get(micro.ErrorHeader))
			}
			return nil
		}
	}
	switch side {
	case SideMesh, SideMeshNoTrace:
		return mesh, nil
	case SideSidecar:
		return call(SidecarService, "/calculate"), nil
	case SideOnce:
		return call(DedupService, "/once"), nil
	case SidePlainCall:
		return call(DedupService, "/plain"), nil
	case SideRaw:
		return raw(p.rawNC, nil), nil
	case SideRawPlain:
		return raw(p.plainNC, nil), nil
	case SideRawHeaders:
		return raw(p.rawNC, p.meshHeader), nil
	}
	return nil, fmt.Errorf("bench: unknown side %q", side)
}

// Use sets the fixture up for side: tracing is on for every mesh side but
// SideMeshNoTrace.
func (p *RPCPair) Use(side string) {
	p.tracing.Store(side == SideMesh || side == SideOnce || side == SidePlainCall || side == SideSidecar)
}

// TraceCount is the tracing row's evidence: events emitted, acknowledged
// by JetStream, read back from SVC_TRACE, and the fewest events the traced
// calls must have made (two per successful call: the gateway's attempt and
// the booth's handling; failed and retried calls make more).
type TraceCount struct {
	Emitted, Published, Dropped, Read, Expected uint64
}

// Lost returns the events emitted and never read back.
func (t TraceCount) Lost() int64 { return int64(t.Emitted) - int64(t.Read) }

// FinishTracing closes the members (their trace publishers publish what
// they hold) and counts the events stored in SVC_TRACE.
func (p *RPCPair) FinishTracing(ctx context.Context) (TraceCount, error) {
	p.tracing.Store(false)
	var tc TraceCount
	var errs []error
	for _, m := range p.members {
		errs = append(errs, m.Close(ctx))
		st := m.TraceStats()
		tc.Published += st.Published
		tc.Dropped += st.Dropped()
		tc.Emitted += st.Published + st.Dropped() + uint64(st.Pending)
	}
	tc.Expected = 2 * p.traced.Load()
	n, err := countTraceEvents(ctx, p.js)
	tc.Read = n
	return tc, errors.Join(append(errs, err)...)
}

// countTraceEvents reads SVC_TRACE from its start to its last message and
// counts the events in its batches.
func countTraceEvents(ctx context.Context, js jetstream.JetStream) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, "SVC_TRACE")
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 {
		return 0, nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return 0, err
	}
	var n uint64
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return n, err
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			events, err := trace.DecodeBatch(msg.Data())
			if err != nil {
				return n, fmt.Errorf("bench: a trace batch does not decode: %w", err)
			}
			n += uint64(len(events))
			md, err := msg.Metadata()
			if err != nil {
				return n, err
			}
			if md.Sequence.Stream >= last {
				return n, nil
			}
		}
		if err := batch.Error(); err != nil {
			return n, err
		}
		if got == 0 {
			return n, fmt.Errorf("bench: SVC_TRACE stopped delivering before message %d", last)
		}
	}
}

// Close stops everything the fixture started.
func (p *RPCPair) Close() {
	if p.sidecar != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		p.sidecar.close(ctx)
		cancel()
	}
	for _, m := range p.members {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = m.Close(ctx)
		cancel()
	}
	for _, s := range p.raws {
		_ = s.Stop()
	}
	for _, nc := range p.conns {
		nc.Close()
	}
	for _, s := range []*server.Server{p.secure, p.plain} {
		if s != nil {
			s.Shutdown()
			s.WaitForShutdown()
		}
	}
}
