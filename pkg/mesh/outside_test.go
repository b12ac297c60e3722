package mesh_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A program of another module joins the mesh with pkg/... alone: the test
// writes a module beside this one (a replace directive points at this
// repository), builds testdata/outside in it, and runs it as a booth and as
// a caller against a real NATS server with mTLS, NKeys and call tokens. The
// README's booth and caller snippets are that program.
func TestAProgramOfAnotherModuleJoinsTheMesh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("testdata/outside/main.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		if strings.Contains(line, `"github.com/hms-svc/hms-svc/`) && !strings.Contains(line, `"github.com/hms-svc/hms-svc/pkg/`) {
			t.Fatalf("the outside program imports %s; it may use pkg/... only", strings.TrimSpace(line))
		}
	}
	mod := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(mod, "go.mod"), "module example.com/outside\n\ngo 1.26\n\n"+
		"require github.com/hms-svc/hms-svc v0.0.0\n\nreplace github.com/hms-svc/hms-svc => "+repo+"\n")
	write(t, filepath.Join(mod, "go.sum"), string(sum))
	write(t, filepath.Join(mod, "main.go"), string(src))
	bin := filepath.Join(mod, "outside")
	build := exec.Command(goTool(), "mod", "tidy")
	build.Dir, build.Env = mod, append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy in the outside module: %v\n%s", err, out)
	}
	build = exec.Command(goTool(), "build", "-o", bin, ".")
	build.Dir, build.Env = mod, append(os.Environ(), "GOPROXY=off", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the outside module: %v\n%s", err, out)
	}

	s := secureServer(t)
	env := append(os.Environ(), "HMS_MESH_DIR="+dir, "HMS_MATRIX="+filepath.Join(repo, "deployments/matrix.yaml"),
		"HMS_NATS_URL="+s.ClientURL())
	booth := exec.Command(bin, "serve")
	booth.Env = env
	out, err := booth.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	booth.Stderr = &stderr
	if err := booth.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = booth.Process.Signal(os.Interrupt)
		if err := booth.Wait(); err != nil {
			t.Errorf("the booth did not stop cleanly: %v\n%s", err, stderr.String())
		}
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if strings.TrimSpace(line) != "serving" {
			t.Fatalf("the booth said %q, stderr:\n%s", line, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the booth did not start; stderr:\n%s", stderr.String())
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	call := exec.CommandContext(ctx, bin, "call")
	call.Env = env
	got, err := call.CombinedOutput()
	if err != nil {
		t.Fatalf("the caller: %v\n%s", err, got)
	}
	want := "125 USD\n400 unknown license type \"astronaut\"\n"
	if string(got) != want {
		t.Errorf("the caller printed %q, want %q", got, want)
	}

	// Without credentials the program refuses to start, naming what is
	// missing.
	call = exec.CommandContext(ctx, bin, "call")
	call.Env = append(os.Environ(), "HMS_MESH_DIR="+t.TempDir(), "HMS_MATRIX="+filepath.Join(repo, "deployments/matrix.yaml"),
		"HMS_NATS_URL="+s.ClientURL())
	got, err = call.CombinedOutput()
	if err == nil || !strings.Contains(string(got), "no mesh credentials") || !strings.Contains(string(got), ".pub") {
		t.Errorf("without credentials: %v %q, want a refusal naming the missing key", err, got)
	}
}

// goTool returns the go command that runs this test.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
