package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// H2Load runs Debian's h2load (nghttp2-client) against cleartext HTTP/2
// (prior knowledge) endpoints with the fee-calc request as the body.
type H2Load struct {
	// Bin is the h2load executable.
	Bin string
	// Dir holds the body file and per-request logs.
	Dir  string
	body string
}

// NewH2Load finds h2load and writes the request body into dir.
func NewH2Load(dir string) (*H2Load, error) {
	bin, err := exec.LookPath("h2load")
	if err != nil {
		return nil, fmt.Errorf("bench: h2load not found (apt-get install nghttp2-client): %w", err)
	}
	body := filepath.Join(dir, "fee-request.json")
	if err := os.WriteFile(body, FeeBody, 0o600); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return &H2Load{Bin: bin, Dir: dir, body: body}, nil
}

// Version returns h2load's version line.
func (h *H2Load) Version() string {
	out, err := exec.Command(h.Bin, "--version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

var (
	reFinished = regexp.MustCompile(`finished in ([0-9.]+)(m?s), ([0-9.]+) req/s`)
	reRequests = regexp.MustCompile(`requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
	reStatus   = regexp.MustCompile(`status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx`)
)

// Throughput runs conns connections of streams concurrent streams each
// against url for d after warm, and returns requests per second. Requests
// that failed or got a status other than 2xx are counted; more than
// MaxErrorRate of them fail the run.
func (h *H2Load) Throughput(ctx context.Context, url string, conns, streams int, warm, d time.Duration) (Result, error) {
	out, err := h.run(ctx, "-c", strconv.Itoa(conns), "-m", strconv.Itoa(streams), "-t", "1",
		"-D", secs(d), "--warm-up-time", secs(warm), url)
	if err != nil {
		return Result{}, err
	}
	return parseH2Load(out)
}

// Rate runs conns connections, one stream each, each sending rps requests
// per second for d, and returns the latencies of every request from the
// per-request log. h2load times a request from its actual send, not from
// its scheduled one.
func (h *H2Load) Rate(ctx context.Context, url string, conns, rps int, d time.Duration) (Result, error) {
	logFile := filepath.Join(h.Dir, "h2load-requests.tsv")
	out, err := h.run(ctx, "-c", strconv.Itoa(conns), "-m", "1", "-t", "1", "--rps", strconv.Itoa(rps),
		"-D", secs(d), "--log-file", logFile, url)
	if err != nil {
		return Result{}, err
	}
	res, err := parseH2Load(out)
	if err != nil {
		return res, err
	}
	res.Latency, err = readH2LoadLog(logFile)
	return res, err
}

func (h *H2Load) run(ctx context.Context, args ...string) (string, error) {
	args = append([]string{"-d", h.body, "-H", "content-type: application/json"}, args...)
	cmd := exec.CommandContext(ctx, h.Bin, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("bench: h2load %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// parseH2Load reads h2load's summary.
func parseH2Load(out string) (Result, error) {
	f := reFinished.FindStringSubmatch(out)
	r := reRequests.FindStringSubmatch(out)
	s := reStatus.FindStringSubmatch(out)
	if f == nil || r == nil || s == nil {
		return Result{}, fmt.Errorf("bench: cannot read h2load's output:\n%s", out)
	}
	elapsed, _ := strconv.ParseFloat(f[1], 64)
	if f[2] == "ms" {
		elapsed /= 1000
	}
	n := func(v string) uint64 { x, _ := strconv.ParseUint(v, 10, 64); return x }
	done := n(r[3])
	bad := n(r[5]) + n(r[6]) + n(r[7]) + n(s[2]) + n(s[3]) + n(s[4])
	if done == 0 {
		return Result{}, fmt.Errorf("bench: h2load completed no request:\n%s", out)
	}
	res := Result{Calls: n(s[1]), Total: done, Elapsed: time.Duration(elapsed * float64(time.Second)), Errors: bad}
	if bad > 0 {
		res.FirstError = r[0] + "; " + s[0]
	}
	return res, res.check()
}

// readH2LoadLog reads the per-request log (start µs, status, duration µs).
func readH2LoadLog(path string) (*Histogram, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer f.Close()
	h := &Histogram{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 {
			continue
		}
		us, err := strconv.ParseInt(cols[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bench: h2load log %q: %w", sc.Text(), err)
		}
		h.Record(time.Duration(us) * time.Microsecond)
	}
	if h.Count() == 0 {
		return nil, fmt.Errorf("bench: h2load's log %s is empty", path)
	}
	return h, sc.Err()
}

// secs renders d for h2load's duration options, in milliseconds.
func secs(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}
