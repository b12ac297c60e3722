package jaegertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// EnvBinary names the Jaeger executable; .ci/run sets it.
const EnvBinary = "HMS_JAEGER_BIN"

// Version is the Jaeger release .ci/run builds.
const Version = "v1.75.0"

// startTimeout bounds Jaeger's start, until its health check answers.
const startTimeout = 30 * time.Second

// Path returns the Jaeger executable: $HMS_JAEGER_BIN if set, else the
// binary .ci/run caches, $HOME/.cache/hms-svc/jaeger-<Version>/jaeger, if it
// is there, else jaeger on $PATH; "" if none.
func Path() string {
	if p := os.Getenv(EnvBinary); p != "" {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "hms-svc", "jaeger-"+Version, "jaeger")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	if p, err := exec.LookPath("jaeger"); err == nil {
		return p
	}
	return ""
}

// Jaeger is a running Jaeger process.
type Jaeger struct {
	// OTLPURL is its OTLP/HTTP receiver, http://127.0.0.1:port (spans go
	// to OTLPURL/v1/traces).
	OTLPURL string
	// QueryURL is its query API and UI, http://127.0.0.1:port.
	QueryURL string

	cmd    *exec.Cmd
	log    string // the file of Jaeger's output
	exited chan struct{}
}

// Start runs Jaeger for the test, stopped by t.Cleanup. It skips the test
// where Jaeger is not built, except in CI (CI set), where it fails.
func Start(t testing.TB) *Jaeger {
	t.Helper()
	bin := Path()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("Jaeger is not built, but CI must run the OTLP test: .ci/run builds it and sets %s", EnvBinary)
		}
		t.Skipf("Jaeger is not built (.ci/run builds %s into $HOME/.cache/hms-svc/jaeger-%[1]s; or set %s): skipping the OTLP export test", Version, EnvBinary)
	}
	ports := freePorts(t, 4)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(cfg, []byte(config(ports)), 0o600); err != nil {
		t.Fatal(err)
	}
	j := &Jaeger{
		OTLPURL:  "http://127.0.0.1:" + strconv.Itoa(ports[0]),
		QueryURL: "http://127.0.0.1:" + strconv.Itoa(ports[1]),
		log:      filepath.Join(dir, "jaeger.log"), exited: make(chan struct{}),
	}
	out, err := os.Create(j.log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the child has its own copy
	j.cmd = exec.Command(bin, "--config", "file:"+cfg)
	j.cmd.Stdout, j.cmd.Stderr = out, out
	if err := j.cmd.Start(); err != nil {
		t.Fatalf("starting Jaeger %s: %v", bin, err)
	}
	go func() { _ = j.cmd.Wait(); close(j.exited) }()
	t.Cleanup(func() {
		_ = j.cmd.Process.Kill()
		<-j.exited
		if t.Failed() {
			t.Logf("Jaeger's log:\n%s", j.output())
		}
	})
	if err := j.waitHealthy("http://127.0.0.1:" + strconv.Itoa(ports[3]) + "/status"); err != nil {
		t.Fatalf("Jaeger did not start: %v\n%s", err, j.output())
	}
	return j
}

// config is an all-in-one Jaeger on loopback: OTLP/HTTP on ports[0], the
// query API on ports[1] (HTTP) and ports[2] (gRPC), the health check on
// ports[3], memory storage, no telemetry of its own.
func config(ports []int) string {
	return fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memory:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memory
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:%d
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  jaeger_storage_exporter:
    trace_storage: memory
`, ports[1], ports[2], ports[3], ports[0])
}

// waitHealthy polls url until it answers 200, Jaeger exits, or
// startTimeout passes.
func (j *Jaeger) waitHealthy(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c := &http.Client{Timeout: time.Second}
	defer c.CloseIdleConnections()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if res, err := c.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-j.exited:
			return fmt.Errorf("it exited: %v", j.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("no healthy answer from %s within %v", url, startTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePorts returns n free loopback ports. They are free when returned;
// another process may take one before Jaeger binds it, which fails the
// start loudly rather than silently.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var out []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// output returns what Jaeger has written.
func (j *Jaeger) output() string {
	b, err := os.ReadFile(j.log)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
