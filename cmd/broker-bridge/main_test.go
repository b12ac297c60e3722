package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/pkitest"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// The test binary runs as broker-bridge itself when this variable is set,
// so the tests can signal a real process.
const asMain = "BROKER_BRIDGE_TEST_MAIN"

// meshDir holds credentials for the demo matrix, made once by TestMain.
var meshDir string

const matrixFile = "../../deployments/matrix.yaml"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		os.Exit(run(os.Args[1:], os.Stderr))
	}
	pkitest.Main(m, "broker-bridge", matrixFile, func(pm *pkitest.Mesh) error {
		meshDir = pm.Dir
		return nil
	})
}

func command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMain+"=1")
	return cmd
}

func TestRefusesToStartInsecurelyOrWithoutCredentials(t *testing.T) {
	t.Parallel()
	none := filepath.Join(t.TempDir(), "none")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantMsg  string
	}{
		{"h2c off loopback", []string{"--insecure-h2c", "--insecure-h2c-as", "gateway", "--listen", "0.0.0.0:8443"}, 2, "--insecure-h2c refused"},
		{"h2c for no one", []string{"--insecure-h2c"}, 2, "--insecure-h2c needs --insecure-h2c-as IDENTITY"},
		{"stray argument", []string{"serve"}, 2, "unexpected arguments"},
		{"monitoring off loopback", []string{"--monitor-listen", "0.0.0.0:8081"}, 2, `--monitor-listen "0.0.0.0:8081" refused`},
		{"tiny trace stream", []string{"--trace-max-bytes", "10"}, 2, "--trace-max-bytes must be at least 1 MiB"},
		{"no credentials", []string{"--mesh-dir", none, "--matrix", matrixFile, "--nats", "nats://127.0.0.1:1"}, 1,
			"no mesh credentials: --mesh-dir " + none + ` does not exist; create them with "meshctl init --dir ` + none + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := command(tt.args...)
			cmd.Stderr = &stderr
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != tt.wantCode {
				t.Errorf("exit: %v, want status %d", err, tt.wantCode)
			}
			if !strings.Contains(stderr.String(), tt.wantMsg) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.wantMsg)
			}
		})
	}
}

var (
	listening  = regexp.MustCompile(`msg="bridge listening" addr=(\S+) .* nats=(\S+)`)
	monitoring = regexp.MustCompile(`msg="monitoring listening.*" addr=(\S+)`)
)

// TestSIGTERMFinishesInFlightCallsAndExitsZero starts the command as it
// runs by default (HTTPS with client certificates, its embedded secure
// NATS), calls a slow booth through it as the gateway, sends SIGTERM while
// the call is in flight, and checks the call still succeeds and the exit is
// clean, having flushed its trace events before draining NATS. Its
// monitoring listener serves the live page meanwhile.
func TestSIGTERMFinishesInFlightCallsAndExitsZero(t *testing.T) {
	t.Parallel()
	cmd := command("--listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data", t.TempDir(),
		"--mesh-dir", meshDir, "--matrix", matrixFile, "--monitor-listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := bufio.NewScanner(stderr)
	var addr, natsURL, monitor string
	var log strings.Builder
	for monitor == "" && lines.Scan() {
		log.WriteString(lines.Text() + "\n")
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			addr, natsURL = m[1], m[2]
		}
		if m := monitoring.FindStringSubmatch(lines.Text()); m != nil {
			monitor = m[1]
		}
	}
	if addr == "" || monitor == "" {
		t.Fatalf("no listening lines in %q", log.String())
	}
	ui, err := http.Get("http://" + monitor + "/ui")
	if err != nil {
		t.Fatal(err)
	}
	ui.Body.Close()
	if ui.StatusCode != 200 || !strings.HasPrefix(ui.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /ui on the monitoring listener: %s %s, want 200 text/html", ui.Status, ui.Header.Get("Content-Type"))
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(stderr); rest <- string(b) }()

	creds, err := mesh.Credentials{Dir: meshDir}.NATSOptions("license-printer")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(natsURL, creds...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	booth, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: "license-printer", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 1)
	err = rpc.Handle(booth, "/generate", func(ctx context.Context, _ *struct{}) (*struct{ ID string }, error) {
		started <- struct{}{}
		time.Sleep(200 * time.Millisecond) // still running when SIGTERM arrives
		return &struct{ ID string }{ID: "lic-1"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	gw, err := mesh.Credentials{Dir: meshDir}.TLSConfig("gateway")
	if err != nil {
		t.Fatal(err)
	}
	var p http.Protocols
	p.SetHTTP2(true)
	c := &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: gw}, Timeout: 10 * time.Second}
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		res, err := c.Post("https://"+addr+"/v1/call/license-printer/generate", "application/json", strings.NewReader(`{}`))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		done <- result{status: res.StatusCode, body: string(b)}
	}()
	select {
	case <-started:
	case r := <-done:
		t.Fatalf("call ended before reaching the booth: %+v", r)
	case <-time.After(5 * time.Second):
		t.Fatal("call did not reach the booth")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	r := <-done
	if r.err != nil || r.status != 200 || r.body != `{"ID":"lic-1"}` {
		t.Errorf("in-flight call: %+v, want 200 {\"ID\":\"lic-1\"}", r)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v, want status 0; log:\n%s", err, <-rest)
	} else if out := <-rest; !inOrder(out, "flushing trace events, then draining NATS", "embedded NATS stopped", "broker-bridge stopped") {
		t.Errorf("log does not report the shutdown steps in order:\n%s", out)
	}
}

// inOrder reports whether s holds each of parts, in that order.
func inOrder(s string, parts ...string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// --version names the binary and its build; every flag is also read from
// its HMS_* variable and the --config file, flag first, and an unknown
// file key is refused by name.
func TestVersionEnvironmentAndConfigFile(t *testing.T) {
	t.Parallel()
	out, err := command("--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "broker-bridge ") || !strings.Contains(string(out), "go1.") {
		t.Errorf("--version: %v %q, want the name, version and Go version", err, out)
	}
	file := filepath.Join(t.TempDir(), "bridge.yaml")
	if err := os.WriteFile(file, []byte("trace-max-bytes: 10\nmonitor-listen: 0.0.0.0:8081\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(unknown, []byte("listen-addr: 127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     []string
		wantMsg string
	}{
		{"from the file", []string{"--config", file, "--monitor-listen", "127.0.0.1:0"}, nil, "--trace-max-bytes must be at least 1 MiB"},
		{"the environment over the file", []string{"--config", file}, []string{"HMS_TRACE_MAX_BYTES=1073741824"}, `--monitor-listen "0.0.0.0:8081" refused`},
		{"the flag over the environment", []string{"--trace-max-bytes", "1073741824"}, []string{"HMS_TRACE_MAX_BYTES=10", "HMS_TRACE_REPLICAS=9"}, "--trace-replicas must be 1 to 5"},
		{"an unknown key", []string{"--config", unknown}, nil, `unknown key "listen-addr"`},
		{"a bad log format", []string{"--log-format", "xml"}, nil, `--log-format "xml": use text or json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := command(tt.args...)
			cmd.Env = append(cmd.Env, tt.env...)
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), tt.wantMsg) {
				t.Errorf("got %v %q, want exit 2 saying %q", err, out, tt.wantMsg)
			}
		})
	}
}
