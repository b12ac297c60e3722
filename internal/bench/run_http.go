package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hms-svc/hms-svc/internal/wait"
	"github.com/hms-svc/hms-svc/pkg/mesh"
)

// The sides of the HTTP pairs.
const (
	sideBridgeH2C = "h2load → bridge (h2c) → booth"
	sidePlainH2C  = "h2load → plain Go server (h2c)"
	sideNginx     = "h2load → nginx → plain Go server (HTTP/1.1 keepalive)"
	sideBridgeTLS = "Go HTTP/2 generator → bridge (mTLS) → booth"
	sidePlainTLS  = "Go HTTP/2 generator → plain Go server (mTLS)"
)

// httpRun holds the child processes and endpoints of the HTTP pairs.
type httpRun struct {
	cfg  *Config
	set  *procSet
	h2   *H2Load
	gen  map[string]*H2Gen
	urls map[string]string
	rss  map[string]int // process name -> pid, for the memory rows
	pids map[string]int // every server process by name, for CPU
	// cpu holds, per side and server process, the CPU µs per request of
	// each round.
	cpu map[string]map[string][]float64
}

// The server processes of each side, whose CPU is counted for it.
var sideProcs = map[string][]string{
	sideBridgeH2C: {procBridgeH2C, procBridgeNATS, procBooths},
	sidePlainH2C:  {procPlainH2C},
	sideNginx:     {procNginx, procPlainH2C},
	sideBridgeTLS: {procBridgeNATS, procBooths},
	sidePlainTLS:  {procPlainTLS},
}

// Names of the server processes.
const (
	procBridgeNATS = "bridge (embedded NATS)"
	procBridgeH2C  = "bridge (h2c, on that NATS)"
	procBooths     = "booth-runner"
	procPlainH2C   = "plain Go server (h2c)"
	procPlainTLS   = "plain Go server (mTLS)"
	procNginx      = "nginx"
)

// measure runs one side and charges it the CPU its server processes used.
func (hr *httpRun) measure(side string, run func() (Result, error)) (Result, error) {
	procs := sideProcs[side]
	before := make([]time.Duration, len(procs))
	for i, name := range procs {
		before[i], _ = ProcCPU(hr.pids[name])
	}
	r, err := run()
	if err != nil {
		return r, err
	}
	if hr.cpu[side] == nil {
		hr.cpu[side] = map[string][]float64{}
	}
	r.CPU = 0
	for i, name := range procs {
		after, err := ProcCPU(hr.pids[name])
		if err != nil {
			return r, fmt.Errorf("CPU of %s: %w", name, err)
		}
		d := after - before[i]
		r.CPU += d
		if r.Total > 0 {
			hr.cpu[side][name] = append(hr.cpu[side][name], us(d)/float64(r.Total))
		}
	}
	return r, nil
}

const callPath = "/v1/call/fee-calc/calculate"

// runHTTP measures the HTTP pairs with real binaries as child processes.
func runHTTP(ctx context.Context, cfg *Config, creds *Creds, rep *Report) error {
	dir, err := cfg.mustDir("http")
	if err != nil {
		return err
	}
	h2, err := NewH2Load(dir)
	if err != nil {
		return err
	}
	rep.Machine.H2Load = h2.Version()
	set := &procSet{cfg: cfg, creds: creds}
	defer set.stop()
	hr := &httpRun{cfg: cfg, set: set, h2: h2, gen: map[string]*H2Gen{}, urls: map[string]string{},
		rss: map[string]int{}, pids: map[string]int{}, cpu: map[string]map[string][]float64{}}
	defer func() {
		for _, g := range hr.gen {
			g.Close()
		}
	}()
	if err := hr.start(ctx, creds); err != nil {
		return err
	}

	idle := map[string]int64{}
	for name, pid := range hr.rss {
		if idle[name], err = RSS(pid); err != nil {
			return err
		}
	}
	stop := make(chan struct{})
	peaks := make(chan map[int]int64, 1)
	go func() {
		var pids []int
		for _, pid := range hr.rss {
			pids = append(pids, pid)
		}
		peaks <- RSSPeak(pids, 100*time.Millisecond, stop)
	}()

	res := map[string][]Result{}
	rated := map[string][]Result{}
	w := cfg.HTTPWindow
	for round := range cfg.Rounds {
		for _, side := range rotate([]string{sideBridgeH2C, sidePlainH2C, sideNginx}, round) {
			r, err := hr.measure(side, func() (Result, error) {
				return h2.Throughput(ctx, hr.urls[side], 10, 10, 500*time.Millisecond, w)
			})
			if err != nil {
				close(stop)
				return fmt.Errorf("%s: %w", side, err)
			}
			res[side] = append(res[side], r)
			rep.noteErrors(round, side, "10 connections × 10 streams", r)
			cfg.logf("round %d  %-55s %8.0f req/s", round+1, side, r.Rate())
		}
		for _, side := range rotate([]string{sideBridgeH2C, sidePlainH2C}, round) {
			r, err := h2.Rate(ctx, hr.urls[side], 10, cfg.Rate/10, w)
			if err != nil {
				close(stop)
				return fmt.Errorf("%s at a fixed rate: %w", side, err)
			}
			rated[side] = append(rated[side], r)
			rep.noteErrors(round, side, "fixed rate", r)
			cfg.logf("round %d  %-55s %d/s  p50 %6.0f µs  p99 %6.0f µs", round+1, side, cfg.Rate,
				us(r.Latency.Quantile(0.5)), us(r.Latency.Quantile(0.99)))
		}
		for _, side := range rotate([]string{sideBridgeTLS, sidePlainTLS}, round) {
			r, err := hr.measure(side, func() (Result, error) {
				return hr.gen[side].Run(ctx, 500*time.Millisecond, w)
			})
			if err != nil {
				close(stop)
				return fmt.Errorf("%s: %w", side, err)
			}
			res[side] = append(res[side], r)
			rep.noteErrors(round, side, "10 connections × 10 streams", r)
			cfg.logf("round %d  %-55s %8.0f req/s", round+1, side, r.Rate())
		}
	}
	close(stop)
	peak := <-peaks
	hr.rows(rep, res, rated, idle, peak)
	return nil
}

// start runs the processes: the bridge with embedded NATS over HTTPS, the
// booths, a second bridge serving h2c on the same NATS, the plain Go
// servers and nginx; then checks every endpoint answers.
func (hr *httpRun) start(ctx context.Context, creds *Creds) error {
	cfg, set := hr.cfg, hr.set
	bridgeTLS, tlsAddr, natsURL, err := set.bridge(ctx, "bridge-mtls", "--nats-listen", "127.0.0.1:0",
		"--data", filepath.Join(cfg.WorkDir, "bridge-data"))
	if err != nil {
		return err
	}
	hr.rss[procBridgeNATS] = bridgeTLS.Pid()
	hr.pids[procBridgeNATS] = bridgeTLS.Pid()
	br, err := set.boothRunner(ctx, natsURL)
	if err != nil {
		return err
	}
	hr.rss[procBooths] = br.Pid()
	hr.pids[procBooths] = br.Pid()
	bridgeH2C, h2cAddr, _, err := set.bridge(ctx, "bridge-h2c", "--nats", natsURL, "--insecure-h2c", "--insecure-h2c-as", "gateway")
	if err != nil {
		return err
	}
	hr.pids[procBridgeH2C] = bridgeH2C.Pid()
	pH2C, plainH2C, err := set.plain(ctx, "plain-h2c", "")
	if err != nil {
		return err
	}
	hr.pids[procPlainH2C] = pH2C.Pid()
	pTLS, plainTLS, err := set.plain(ctx, "plain-mtls", creds.Dir)
	if err != nil {
		return err
	}
	hr.pids[procPlainTLS] = pTLS.Pid()
	nginxAddr, err := freeAddr()
	if err != nil {
		return err
	}
	ng, err := StartNginx(filepath.Join(cfg.WorkDir, "nginx"), nginxAddr, plainH2C)
	if err != nil {
		return err
	}
	set.procs = append(set.procs, ng)
	hr.pids[procNginx] = ng.Pid()

	hr.urls[sideBridgeH2C] = "http://" + h2cAddr + callPath
	hr.urls[sidePlainH2C] = "http://" + plainH2C + callPath
	hr.urls[sideNginx] = "http://" + nginxAddr + callPath
	hr.urls[sideBridgeTLS] = "https://" + tlsAddr + callPath
	hr.urls[sidePlainTLS] = "https://" + plainTLS + callPath
	gw, err := mesh.Credentials{Dir: creds.Dir}.TLSConfig("gateway")
	if err != nil {
		return err
	}
	for _, side := range []string{sideBridgeTLS, sidePlainTLS} {
		hr.gen[side] = NewH2Gen(hr.urls[side], gw, 10, 10)
	}
	for _, side := range []string{sideBridgeH2C, sidePlainH2C, sideNginx} {
		if err := waitOK(ctx, h2cClient(), hr.urls[side], 20*time.Second); err != nil {
			return fmt.Errorf("%s: %w", side, err)
		}
	}
	for _, side := range []string{sideBridgeTLS, sidePlainTLS} {
		if err := waitOK(ctx, tlsClient(gw), hr.urls[side], 20*time.Second); err != nil {
			return fmt.Errorf("%s: %w", side, err)
		}
	}
	wait.Sleep(ctx, time.Second) // let the start-up garbage settle before the idle RSS
	cfg.logf("HTTP pairs: every endpoint answers")
	return nil
}
