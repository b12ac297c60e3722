package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/runner"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// repoRoot is the repository's root, where the examples are.
const repoRoot = "../.."

// Avery's license with the gateway and fee-calc both in Python, as real
// processes: the seed's issue_license (examples/python-gateway) calls
// through the bridge, and fee-calc is the Python booth
// (examples/python-booth) behind booth-runner --sidecar. The fee is 125, the
// charge is made once, the PDF and the audit record exist, and the four
// calls are one trace that holds the sidecar's hop.
func TestAveryWithAPythonGatewayAndAPythonBooth(t *testing.T) {
	python := needPython(t)
	m := startBridge(t)
	r, err := runner.Start(t.Context(), runner.Config{
		NATSURL: m.app.NATSURL(), Booths: []string{"payment", "license-printer", "audit-log"},
		InstanceName: "e2e-1", Logger: quiet, Credentials: mesh.Credentials{Dir: dir}, MatrixFile: matrixFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })

	appAddr := freeAddr(t)
	app := startProcess(t, "fee_calc.py", exec.Command(python, "examples/python-booth/fee_calc.py", "--listen", appAddr), "listening on")
	sidecarBin := buildBoothRunner(t)
	sidecar := exec.Command(sidecarBin, "--sidecar", "--identity", "fee-calc",
		"--app-url", "http://"+appAddr, "--endpoints", "examples/python-booth/endpoints.yaml",
		"--listen", freeAddr(t), "--nats", m.app.NATSURL(), "--mesh-dir", dir, "--matrix", "deployments/matrix.yaml",
		"--instance-name", "python-fee-calc-1")
	sidecar.Env = append(os.Environ(), "HMS_API_TOKEN=e2e-token-of-the-python-booth")
	side := startProcess(t, "booth-runner --sidecar", sidecar, "sidecar serving")
	gw := httpsClient(t, certOf(t, dir, "gateway"))
	m.waitForBooths(t, gw)

	gateway := exec.Command(python, "examples/python-gateway/gateway.py", "--bridge", m.url, "--mesh-dir", dir)
	gateway.Dir = repoRoot
	out, err := gateway.CombinedOutput()
	if err != nil {
		t.Fatalf("the Python gateway: %v\n%s\nsidecar:\n%s\nbooth:\n%s", err, out, side.log(), app.log())
	}
	t.Logf("the Python gateway:\n%s", out)
	field := func(name string) string {
		mt := regexp.MustCompile(`(?m)^` + name + `:\s+(\S+)`).FindSubmatch(out)
		if mt == nil {
			t.Fatalf("the gateway printed no %s:\n%s", name, out)
		}
		return string(mt[1])
	}
	if !bytes.Contains(out, []byte("fee:         125 USD")) {
		t.Errorf("the gateway printed no fee of 125 USD:\n%s", out)
	}
	if pdf := mustDo(t, gw, "GET", field("license"), ""); pdf.status != 200 || !bytes.HasPrefix(pdf.body, []byte("%PDF-")) {
		t.Errorf("the license: %d %.20q, want a PDF", pdf.status, pdf.body)
	}
	if field("receipt") == "" {
		t.Error("no receipt")
	}
	if n := storedCount(t, m, "payment", func(ctx context.Context, js jetstream.JetStream) (int, error) {
		kv, err := js.KeyValue(ctx, "PAYMENTS")
		if err != nil {
			return 0, err
		}
		keys, err := kv.ListKeys(ctx)
		if err != nil {
			return 0, err
		}
		n := 0
		for range keys.Keys() {
			n++
		}
		return n, nil
	}); n != 1 {
		t.Errorf("%d charges in the ledger, want 1", n)
	}
	if n := storedCount(t, m, "inspector", func(ctx context.Context, js jetstream.JetStream) (int, error) {
		s, err := js.Stream(ctx, "AUDIT")
		if err != nil {
			return 0, err
		}
		info, err := s.Info(ctx)
		return int(info.State.Msgs), err
	}); n != 1 {
		t.Errorf("%d audit records, want 1", n)
	}

	id := field("trace")
	got := fetchTrace(t, m, id, 12)
	services := map[string]bool{}
	sidecarHop := false
	for _, ev := range got.Events {
		if ev.Kind == trace.KindServer && ev.Service != "bridge" {
			services[ev.Service] = true
		}
		if ev.Kind == trace.KindServer && ev.Service == "fee-calc" && ev.Instance == "python-fee-calc-1" && ev.Caller == "gateway" && ev.Code == 0 {
			sidecarHop = true
		}
	}
	if len(services) != 4 || !sidecarHop {
		t.Errorf("trace %s: services %v, the sidecar's hop %v; want the four booths, fee-calc's served by the sidecar", id, services, sidecarHop)
	}

	// Both Python-side processes stop cleanly on SIGTERM.
	for _, p := range []*process{side, app} {
		if err := p.stop(); err != nil {
			t.Errorf("%s: %v\n%s", p.name, err, p.log())
		}
	}
}

// needPython returns python3 (3.11+), or skips the test where there is
// none; CI installs it.
func needPython(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed (.ci/run installs it)")
	}
	return p
}

// freeAddr returns a loopback address no one listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// buildBoothRunner builds cmd/booth-runner into the test's folder.
func buildBoothRunner(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "booth-runner")
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(goCmd, "build", "-o", bin, "./cmd/booth-runner")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building booth-runner: %v\n%s", err, out)
	}
	return bin
}

// process is a child process of the test, its output kept.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan error
}

// startProcess starts cmd in the repository's root and waits until a line
// of its output contains ready; it is killed when the test ends unless
// stopped before.
func startProcess(t *testing.T, name string, cmd *exec.Cmd, ready string) *process {
	t.Helper()
	cmd.Dir = repoRoot
	p := &process{name: name, cmd: cmd, out: &lockedBuffer{}, done: make(chan error, 1)}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	pw.Close()
	seen := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := false
		for sc.Scan() {
			p.out.WriteString(sc.Text() + "\n")
			if !once && strings.Contains(sc.Text(), ready) {
				once = true
				close(seen)
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	select {
	case <-seen:
	case err := <-p.done:
		t.Fatalf("%s exited before it was ready: %v\n%s", name, err, p.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s was not ready after 30 s:\n%s", name, p.log())
	}
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *process) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(20 * time.Second):
		return fmt.Errorf("still running 20 s after SIGTERM")
	}
}

func (p *process) log() string { return p.out.String() }

// storedCount reads a count from JetStream as identity.
func storedCount(t *testing.T, m *fixture, identity string, count func(context.Context, jetstream.JetStream) (int, error)) int {
	t.Helper()
	js, err := jetstream.New(connectAs(t, m.app, identity))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	natstest.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		n, err = count(ctx, js)
		return err
	})
	return n
}

// lockedBuffer is a buffer safe for one writer and other readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
