package bench

import (
	"context"
	"fmt"
	"runtime"
	"strings"
)

// loadKey names a run's side and load.
type loadKey struct {
	side string
	load int // callers, or 0 for the open loop
}

// runRPC measures the in-process pairs: pkg/rpc with everything on against
// raw NATS, and tracing on against off.
func runRPC(ctx context.Context, cfg *Config, creds *Creds, rep *Report) error {
	dir, err := cfg.mustDir("rpc")
	if err != nil {
		return err
	}
	p, err := NewRPCPair(ctx, creds, dir, cfg.feeTable())
	if err != nil {
		return err
	}
	defer p.Close()

	sides := []string{SideMesh, SideMeshNoTrace, SideRaw, SideRawPlain}
	openSides := []string{SideMesh, SideMeshNoTrace, SideRaw, SideSidecar}
	callers := []int{1, 16, 64}
	res := map[loadKey][]Result{}
	for round := range cfg.Rounds {
		for _, n := range callers {
			sides := sides
			if n > 1 {
				sides = append(sides, SideRawHeaders)
			}
			if n <= 16 {
				sides = append(sides, SideSidecar)
			}
			for _, side := range rotate(sides, round) {
				r, err := p.measure(ctx, side, func(op Op) (Result, error) {
					return Closed(ctx, n, cfg.Warm, cfg.Window, op)
				})
				if err != nil {
					return fmt.Errorf("%s, %d callers: %w", side, n, err)
				}
				res[loadKey{side, n}] = append(res[loadKey{side, n}], r)
				rep.noteErrors(round, side, callersLabel(n), r)
				cfg.logf("round %d  %-22s %2d callers  %8.0f/s  p50 %6.0f µs  p99 %6.0f µs", round+1, side, n,
					r.Rate(), us(r.Latency.Quantile(0.5)), us(r.Latency.Quantile(0.99)))
			}
		}
		for _, side := range rotate([]string{SideOnce, SidePlainCall}, round) {
			r, err := p.measure(ctx, side, func(op Op) (Result, error) {
				return Closed(ctx, 1, cfg.Warm, cfg.Window, op)
			})
			if err != nil {
				return fmt.Errorf("%s: %w", side, err)
			}
			res[loadKey{side, 1}] = append(res[loadKey{side, 1}], r)
			rep.noteErrors(round, side, callersLabel(1), r)
			cfg.logf("round %d  %-22s %2d callers  %8.0f/s  p50 %6.0f µs  p99 %6.0f µs", round+1, side, 1,
				r.Rate(), us(r.Latency.Quantile(0.5)), us(r.Latency.Quantile(0.99)))
		}
		for _, side := range rotate(openSides, round) {
			r, err := p.measure(ctx, side, func(op Op) (Result, error) {
				return Open(ctx, cfg.Rate, 64, cfg.OpenWindow, op)
			})
			if err != nil {
				return fmt.Errorf("%s, open loop: %w", side, err)
			}
			res[loadKey{side, 0}] = append(res[loadKey{side, 0}], r)
			rep.noteErrors(round, side, "open loop", r)
			cfg.logf("round %d  %-22s %d/s open  p50 %6.0f µs  p90 %6.0f µs  p99 %6.0f µs  CPU %.3f s/1000", round+1, side,
				cfg.Rate, us(r.Latency.Quantile(0.5)), us(r.Latency.Quantile(0.9)), us(r.Latency.Quantile(0.99)), r.CPUPer1000())
		}
	}
	tc, err := p.FinishTracing(ctx)
	if err != nil {
		return fmt.Errorf("counting trace events: %w", err)
	}
	cfg.logf("trace events: emitted %d, published %d, dropped %d, read back %d, expected %d",
		tc.Emitted, tc.Published, tc.Dropped, tc.Read, tc.Expected)
	rpcRows(cfg, rep, res, tc, p.HeaderBytes())
	sidecarRows(cfg, rep, res)
	return nil
}

// measure runs one side with the process's allocations counted.
func (p *RPCPair) measure(ctx context.Context, side string, run func(Op) (Result, error)) (Result, error) {
	op, err := p.Op(side)
	if err != nil {
		return Result{}, err
	}
	p.Use(side)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	r, err := run(op)
	runtime.ReadMemStats(&m1)
	if err == nil && r.Total > 0 {
		r.Allocs = float64(m1.Mallocs-m0.Mallocs) / float64(r.Total)
	}
	return r, err
}

// rpcRows turns the in-process runs into rows.
func rpcRows(cfg *Config, rep *Report, res map[loadKey][]Result, tc TraceCount, headerBytes int) {
	const pair = "`pkg/rpc` Call, everything on vs raw nats.go request → plain micro endpoint"
	rate := func(r Result) float64 { return r.Rate() }
	ratio := func(a, b Result) float64 { return a.Rate() / b.Rate() }
	added := func(q float64) func(a, b Result) float64 {
		return func(a, b Result) float64 { return us(a.Latency.Quantile(q)) - us(b.Latency.Quantile(q)) }
	}
	mesh, noTrace, raw := SideMesh, SideMeshNoTrace, SideRaw

	for _, n := range []int{1, 16, 64} {
		a, b := res[loadKey{mesh, n}], res[loadKey{raw, n}]
		q := median(pairwise(a, b, ratio))
		row := Row{Pair: pair, Measured: "throughput, " + callersLabel(n),
			A: fmtRate(median(each(a, rate))), B: fmtRate(median(each(b, rate))), Compare: fmtRatio(q)}
		if n == 1 {
			row.Target, row.Holds = "—", NoGoal
		} else {
			row.Target, row.Holds = "A ≥ 0.80 × B", verdict(q >= 0.80)
		}
		rep.Rows = append(rep.Rows, row)
		rep.Spread = append(rep.Spread, spread("mesh/raw throughput, "+callersLabel(n), pairwise(a, b, ratio), "%.2f"))
	}
	for _, n := range []int{16, 64} {
		a, b := res[loadKey{SideRawHeaders, n}], res[loadKey{raw, n}]
		rep.Rows = append(rep.Rows, Row{Pair: fmt.Sprintf("diagnostic: raw request carrying a mesh call's headers (%d bytes) vs raw", headerBytes),
			Measured: fmt.Sprintf("throughput, %d concurrent callers", n),
			A:        fmtRate(median(each(a, rate))), B: fmtRate(median(each(b, rate))), Compare: fmtRatio(median(pairwise(a, b, ratio))),
			Target: "—", Holds: NoGoal})
	}
	a, b := res[loadKey{mesh, 1}], res[loadKey{raw, 1}]
	for _, t := range []struct {
		q     float64
		name  string
		limit float64
	}{{0.5, "p50", 20}, {0.99, "p99", 100}} {
		d := median(pairwise(a, b, added(t.q)))
		rep.Rows = append(rep.Rows, Row{Pair: pair, Measured: "serial " + t.name,
			A: fmtUS(median(each(a, quantileUS(t.q)))), B: fmtUS(median(each(b, quantileUS(t.q)))),
			Compare: fmtAddedUS(d), Target: fmt.Sprintf("added ≤ %.0f µs", t.limit), Holds: verdict(d <= t.limit)})
		rep.Spread = append(rep.Spread, spread("serial added "+t.name+" (µs)", pairwise(a, b, added(t.q)), "%+.0f"))
	}
	a, b = res[loadKey{mesh, 0}], res[loadKey{raw, 0}]
	open := fmt.Sprintf("%d calls/s open loop", cfg.Rate)
	for _, t := range []struct {
		q     float64
		name  string
		limit float64
	}{{0.9, "p90", 50}, {0.99, "p99", -1}} {
		d := median(pairwise(a, b, added(t.q)))
		row := Row{Pair: pair, Measured: open + ", " + t.name + " from the scheduled send",
			A: fmtUS(median(each(a, quantileUS(t.q)))), B: fmtUS(median(each(b, quantileUS(t.q)))),
			Compare: fmtAddedUS(d), Target: "—", Holds: NoGoal}
		if t.limit > 0 {
			row.Target, row.Holds = fmt.Sprintf("added ≤ %.0f µs", t.limit), verdict(d <= t.limit)
		}
		rep.Rows = append(rep.Rows, row)
		rep.Spread = append(rep.Spread, spread("open-loop added "+t.name+" (µs)", pairwise(a, b, added(t.q)), "%+.0f"))
	}
	cpu := func(r Result) float64 { return r.CPUPer1000() }
	dcpu := median(pairwise(a, b, func(a, b Result) float64 { return a.CPUPer1000() - b.CPUPer1000() }))
	rep.Rows = append(rep.Rows, Row{Pair: pair, Measured: open + ", CPU seconds per 1000 calls (process rusage)",
		A: fmt.Sprintf("%.3f", median(each(a, cpu))), B: fmt.Sprintf("%.3f", median(each(b, cpu))),
		Compare: fmt.Sprintf("%+.3f vCPU per 1000 calls/s", dcpu), Target: "added ≤ 0.06", Holds: verdict(dcpu <= 0.06)})
	rep.Spread = append(rep.Spread, spread("open-loop added CPU s/1000 calls", pairwise(a, b, func(a, b Result) float64 { return a.CPUPer1000() - b.CPUPer1000() }), "%+.3f"))

	const dpair = "exactly-once (deduplicated, rpc.NotIdempotent) call vs plain call to the same booth, everything on"
	a, b = res[loadKey{SideOnce, 1}], res[loadKey{SidePlainCall, 1}]
	for _, q := range []float64{0.5, 0.99} {
		name := fmt.Sprintf("serial p%.0f", q*100)
		x := median(pairwise(a, b, func(a, b Result) float64 {
			return float64(a.Latency.Quantile(q)) / float64(b.Latency.Quantile(q))
		}))
		row := Row{Pair: dpair, Measured: name, A: fmtUS(median(each(a, quantileUS(q)))), B: fmtUS(median(each(b, quantileUS(q)))),
			Compare: fmt.Sprintf("%.1f×", x), Target: "—", Holds: NoGoal}
		if q == 0.5 {
			row.Target, row.Holds = "A ≤ 2 × B", verdict(x <= 2)
		}
		rep.Rows = append(rep.Rows, row)
	}

	const tpair = "tracing on vs tracing off (the mesh side above, everything else on)"
	for _, n := range []int{16, 64} {
		a, b := res[loadKey{mesh, n}], res[loadKey{noTrace, n}]
		q := median(pairwise(a, b, ratio))
		rep.Rows = append(rep.Rows, Row{Pair: tpair, Measured: fmt.Sprintf("throughput, %d concurrent callers", n),
			A: fmtRate(median(each(a, rate))), B: fmtRate(median(each(b, rate))), Compare: fmtRatio(q),
			Target: "A ≥ 0.90 × B", Holds: verdict(q >= 0.90)})
		rep.Spread = append(rep.Spread, spread(fmt.Sprintf("tracing on/off throughput at %d callers", n), pairwise(a, b, ratio), "%.2f"))
	}
	rep.Rows = append(rep.Rows, Row{Pair: tpair, Measured: "trace events emitted vs read back from SVC_TRACE",
		A: fmt.Sprintf("%d emitted", tc.Emitted), B: fmt.Sprintf("%d read", tc.Read),
		Compare: fmt.Sprintf("%d lost, %d dropped", tc.Lost(), tc.Dropped), Target: "0 lost",
		Holds: verdict(tc.Lost() == 0 && tc.Dropped == 0 && tc.Emitted >= tc.Expected)})
	rep.Notes = append(rep.Notes, fmt.Sprintf("Trace events: every traced call that succeeded emits 2 (the gateway's attempt, the booth's handling; "+
		"failed and retried calls emit more): at least %d expected, %d emitted, %d acknowledged by JetStream, %d read back by an "+
		"ordered consumer.", tc.Expected, tc.Emitted, tc.Published, tc.Read))

	for _, side := range []string{SideMesh, SideMeshNoTrace, SideRaw, SideRawHeaders, SideRawPlain, SideOnce, SidePlainCall} {
		for _, n := range []int{1, 16, 64, 0} {
			rs := res[loadKey{side, n}]
			if len(rs) == 0 {
				continue
			}
			load := callersLabel(n)
			if n == 0 {
				load = open
			}
			rep.Sides = append(rep.Sides, SideFigures{
				Side: sideLabel(side), Load: load, Rate: median(each(rs, rate)),
				P50: median(each(rs, quantileUS(0.5))), P90: median(each(rs, quantileUS(0.9))), P99: median(each(rs, quantileUS(0.99))),
				CPUPer1000: median(each(rs, cpu)), AllocsCall: median(each(rs, func(r Result) float64 { return r.Allocs })),
			})
		}
	}
	rep.Notes = append(rep.Notes,
		"The raw side runs on the same secure server as the mesh (TLS with client certificates, NKey users with the "+
			"matrix's permissions) over a connection set up the same way (mesh.Credentials.NATSOptions as the gateway): "+
			"that is the fair baseline, so the comparison is what pkg/rpc adds. \"raw, plaintext server\" in the side "+
			"table is the same request on a server without TLS or authentication, to show what TLS itself costs.",
		"The mesh side is the real fee-calc booth (internal/booths, rpc.Handle) with the call-token verifier and "+
			"trace.ServerMiddleware, called through rpc.Client.CallRaw as the gateway with the call signer, "+
			"trace.ClientMiddleware, the default breaker, 2 retries and the 300 ms attempt deadline. Trace events go to "+
			"a file-backed SVC_TRACE (synced writes, as the embedded server runs by default). Everything runs in one "+
			"process, so its CPU and allocations include the NATS server's work for either side.",
		"The exactly-once pair calls one booth (identity fee-dedup) serving the same fee work on /once "+
			"(rpc.NotIdempotent, answers kept in the SVC_DEDUP bucket, file storage with synced writes as the embedded "+
			"server runs by default) and on /plain; every call has a fresh request id, so each /once call is a first run.")
}

func sideLabel(side string) string {
	switch side {
	case SideMesh:
		return "pkg/rpc, everything on"
	case SideMeshNoTrace:
		return "pkg/rpc, everything on but tracing"
	case SideRaw:
		return "raw nats.go, same secure server"
	case SideRawPlain:
		return "raw nats.go, plaintext server"
	case SideRawHeaders:
		return "raw nats.go carrying a mesh call's headers"
	case SideOnce:
		return "pkg/rpc exactly-once call (NotIdempotent, SVC_DEDUP)"
	case SidePlainCall:
		return "pkg/rpc plain call to the same booth"
	}
	return side
}

// callersLabel names a closed-loop load.
func callersLabel(n int) string {
	if n == 1 {
		return "1 caller"
	}
	return fmt.Sprintf("%d concurrent callers", n)
}

// spread renders one comparison's per-round values.
func spread(name string, xs []float64, format string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(format, x)
	}
	return fmt.Sprintf("%s: %s", name, strings.Join(parts, ", "))
}
