package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/hms-svc/hms-svc/internal/sidecar"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// SidecarService is the identity of the booth served by the sidecar: the
// same fee work as fee-calc, done by an HTTP app on loopback behind
// booth-runner --sidecar's code.
const SidecarService = "fee-sidecar"

// SideSidecar is a call to SidecarService, everything on: the sidecar hop
// the mesh adds for an app in any language, against SideMesh, the same
// call to the Go booth.
const SideSidecar = "booth behind the sidecar"

// sidecarApp is the app behind the sidecar: a plain net/http server doing
// the fee work on POST /calculate.
type sidecarApp struct {
	srv *http.Server
	sc  *sidecar.Sidecar
}

// startSidecar serves SidecarService through a sidecar of member, in front
// of an HTTP app on loopback doing work.
func startSidecar(ctx context.Context, member *mesh.Mesh, work *FeeWork) (*sidecarApp, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /calculate", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			body, err = work.Do(body)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	a := &sidecarApp{srv: &http.Server{Handler: mux}}
	go func() { _ = a.srv.Serve(ln) }()
	token := make([]byte, 16)
	_, _ = rand.Read(token)
	a.sc, err = sidecar.Start(ctx, member, sidecar.Config{
		AppURL: "http://" + ln.Addr().String(), Endpoints: []sidecar.Endpoint{{Path: "/calculate"}},
		Listen: "127.0.0.1:0", APIToken: hex.EncodeToString(token), Version: "1.0.0", Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		_ = a.srv.Close()
		return nil, fmt.Errorf("bench: sidecar: %w", err)
	}
	return a, nil
}

// close stops the sidecar, then the app.
func (a *sidecarApp) close(ctx context.Context) {
	_ = a.sc.Stop(ctx)
	_ = a.srv.Close()
}

// sidecarRows are the sidecar hop's rows: what a call to a booth behind
// the sidecar adds to the same call to the Go booth, serial and at 16
// callers (target: p50 added at most 150 µs), and in the open loop, where
// the machine is not saturated, with the CPU each call adds.
func sidecarRows(cfg *Config, rep *Report, res map[loadKey][]Result) {
	const pair = "a booth behind the sidecar (HTTP app on loopback) vs the same Go booth called directly"
	added := func(q float64) func(a, b Result) float64 {
		return func(a, b Result) float64 { return us(a.Latency.Quantile(q)) - us(b.Latency.Quantile(q)) }
	}
	rate := func(r Result) float64 { return r.Rate() }
	for _, n := range []int{1, 16} {
		a, b := res[loadKey{SideSidecar, n}], res[loadKey{SideMesh, n}]
		d := median(pairwise(a, b, added(0.5)))
		rep.Rows = append(rep.Rows, Row{Pair: pair, Measured: "p50, " + callersLabel(n),
			A: fmtUS(median(each(a, quantileUS(0.5)))), B: fmtUS(median(each(b, quantileUS(0.5)))),
			Compare: fmtAddedUS(d), Target: "added ≤ 150 µs", Holds: verdict(d <= 150)})
		rep.Rows = append(rep.Rows, Row{Pair: pair, Measured: "throughput, " + callersLabel(n),
			A: fmtRate(median(each(a, rate))), B: fmtRate(median(each(b, rate))),
			Compare: fmtRatio(median(pairwise(a, b, func(a, b Result) float64 { return a.Rate() / b.Rate() }))),
			Target:  "—", Holds: NoGoal})
		rep.Spread = append(rep.Spread, spread("sidecar added p50 (µs), "+callersLabel(n), pairwise(a, b, added(0.5)), "%+.0f"))
	}
	a, b := res[loadKey{SideSidecar, 0}], res[loadKey{SideMesh, 0}]
	open := fmt.Sprintf("%d calls/s open loop", cfg.Rate)
	for _, q := range []float64{0.5, 0.9} {
		rep.Rows = append(rep.Rows, Row{Pair: pair, Measured: fmt.Sprintf("%s, p%.0f from the scheduled send", open, q*100),
			A: fmtUS(median(each(a, quantileUS(q)))), B: fmtUS(median(each(b, quantileUS(q)))),
			Compare: fmtAddedUS(median(pairwise(a, b, added(q)))), Target: "—", Holds: NoGoal})
	}
	rep.Rows = append(rep.Rows, Row{Pair: pair, Measured: open + ", CPU seconds per 1000 calls (process rusage)",
		A: fmt.Sprintf("%.3f", median(each(a, Result.CPUPer1000))), B: fmt.Sprintf("%.3f", median(each(b, Result.CPUPer1000))),
		Compare: fmt.Sprintf("%+.3f", median(pairwise(a, b, func(a, b Result) float64 { return a.CPUPer1000() - b.CPUPer1000() }))),
		Target:  "—", Holds: NoGoal})
}
