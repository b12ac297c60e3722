package bench

import (
	"fmt"
	"slices"
	"strings"
)

// rows turns the HTTP runs and the memory samples into rows.
func (hr *httpRun) rows(rep *Report, res, rated map[string][]Result, idle map[string]int64, peak map[int]int64) {
	rate := func(r Result) float64 { return r.Rate() }
	ratio := func(a, b Result) float64 { return a.Rate() / b.Rate() }

	const h2pair = "h2load → bridge (h2c) → booth vs h2load → plain Go HTTP/2 server (h2c), same JSON work"
	a, b := res[sideBridgeH2C], res[sidePlainH2C]
	bridgeRatio := median(pairwise(a, b, ratio))
	rep.Rows = append(rep.Rows, Row{Pair: h2pair, Measured: "requests/s at -c 10 -m 10",
		A: fmtRate(median(each(a, rate))), B: fmtRate(median(each(b, rate))), Compare: fmtRatio(bridgeRatio),
		Target: "A ≥ 0.65 × B", Holds: verdict(bridgeRatio >= 0.65)})
	rep.Spread = append(rep.Spread, spread("bridge/plain h2c requests/s", pairwise(a, b, ratio), "%.2f"))

	ra, rb := rated[sideBridgeH2C], rated[sidePlainH2C]
	for _, q := range []float64{0.5, 0.99} {
		name := fmt.Sprintf("p%.0f", q*100)
		d := median(pairwise(ra, rb, func(a, b Result) float64 {
			return us(a.Latency.Quantile(q)) - us(b.Latency.Quantile(q))
		}))
		rep.Rows = append(rep.Rows, Row{Pair: h2pair, Measured: fmt.Sprintf("%s at a fixed %d requests/s (h2load --rps, 10 connections)", name, hr.cfg.Rate),
			A: fmtUS(median(each(ra, quantileUS(q)))), B: fmtUS(median(each(rb, quantileUS(q)))),
			Compare: fmtAddedUS(d), Target: "—", Holds: NoGoal})
	}

	n := res[sideNginx]
	nginxRatio := median(pairwise(n, b, ratio))
	rep.Rows = append(rep.Rows, Row{Pair: "h2load → nginx (HTTP/2, 1 worker) → plain Go server over HTTP/1.1 keepalive vs h2load → plain Go server",
		Measured: "requests/s at -c 10 -m 10", A: fmtRate(median(each(n, rate))), B: fmtRate(median(each(b, rate))),
		Compare: fmtRatio(nginxRatio), Target: fmt.Sprintf("the bridge's ratio (%.2f) reaches nginx's", bridgeRatio),
		Holds: verdict(bridgeRatio >= nginxRatio)})
	rep.Spread = append(rep.Spread, spread("nginx/plain h2c requests/s", pairwise(n, b, ratio), "%.2f"))

	a, b = res[sideBridgeTLS], res[sidePlainTLS]
	q := median(pairwise(a, b, ratio))
	rep.Rows = append(rep.Rows, Row{Pair: "Go HTTP/2 generator with the gateway's certificate → bridge (mTLS) → booth vs → plain Go HTTP/2 TLS server (mTLS)",
		Measured: "requests/s at 10 connections × 10 streams", A: fmtRate(median(each(a, rate))), B: fmtRate(median(each(b, rate))),
		Compare: fmtRatio(q), Target: "A ≥ 0.55 × B", Holds: verdict(q >= 0.55)})
	rep.Spread = append(rep.Spread, spread("bridge/plain mTLS requests/s", pairwise(a, b, ratio), "%.2f"))

	var breakdown []string
	for _, side := range []string{sideBridgeH2C, sidePlainH2C, sideNginx, sideBridgeTLS, sidePlainTLS} {
		var total float64
		var parts []string
		for _, name := range sideProcs[side] {
			v := median(hr.cpu[side][name])
			total += v
			parts = append(parts, fmt.Sprintf("%s %.0f µs", name, v))
		}
		rep.Sides = append(rep.Sides, SideFigures{Side: side, Load: "10 connections × 10 streams",
			Rate: median(each(res[side], rate)), CPUPer1000: total / 1000})
		breakdown = append(breakdown, fmt.Sprintf("%s: %.0f µs (%s)", side, total, strings.Join(parts, ", ")))
	}
	rep.Notes = append(rep.Notes, "Server-side CPU per request (median over rounds, from /proc/<pid>/stat, load "+
		"generator excluded): "+strings.Join(breakdown, "; ")+".")
	for _, side := range []string{sideBridgeH2C, sidePlainH2C} {
		rs := rated[side]
		rep.Sides = append(rep.Sides, SideFigures{Side: side, Load: fmt.Sprintf("%d requests/s, 10 connections", hr.cfg.Rate),
			Rate: median(each(rs, rate)), P50: median(each(rs, quantileUS(0.5))), P90: median(each(rs, quantileUS(0.9))),
			P99: median(each(rs, quantileUS(0.99)))})
	}

	limits := map[string]int64{procBooths: 30 << 20, procBridgeNATS: 80 << 20}
	names := make([]string, 0, len(hr.rss))
	for name := range hr.rss {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		what := name
		if name == procBooths {
			what = "booth-runner --demo (the 4 demo booths, secure)"
		}
		limit := limits[name]
		rep.Rows = append(rep.Rows, Row{Pair: "memory (VmRSS of the real binary)", Measured: what + ", idle",
			A: fmtMB(idle[name]), Target: "≤ " + fmtMB(limit), Holds: verdict(idle[name] <= limit)})
		rep.Rows = append(rep.Rows, Row{Pair: "memory (VmRSS of the real binary)", Measured: what + ", peak under the load above",
			A: fmtMB(peak[hr.rss[name]]), Target: "—", Holds: NoGoal})
	}
	rep.Notes = append(rep.Notes,
		"HTTP pairs run the real binaries built by scripts/bench.sh as child processes: broker-bridge over HTTPS with "+
			"client certificates and its embedded NATS (TLS, NKeys, the matrix's permissions), a second broker-bridge "+
			"in --insecure-h2c mode on the same NATS (h2load cannot present a client certificate), the booths, the plain "+
			"Go server (meshbench plain, the same JSON work with no mesh) and nginx; h2load and the Go generator run on "+
			"the same 2 cores, so every side shares the CPU with its load generator.",
		"h2load's fixed-rate mode times each request from its actual send (it has no coordinated-omission "+
			"correction); at 1000 requests/s neither side is near saturation, so little queueing is hidden.")
}
