package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/bridge/app"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

func TestReadyWaitsForTheBridgeAndItsServices(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".mesh")
	if out, code := meshctl(t, "init", "--dir", dir, "--matrix", matrixPath); code != 0 {
		t.Fatalf("init: %d %s", code, out)
	}
	out, code := meshctl(t, "ready", "--bridge", "https://127.0.0.1:1", "--dir", dir, "--timeout", "300ms")
	if code != 1 || !strings.Contains(out, "not ready after 300ms") || !strings.Contains(out, "connection refused") {
		t.Errorf("no bridge: %d %q, want 1 and the refused connection", code, out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, app.Config{
		Listen: "127.0.0.1:0", NATSListen: "127.0.0.1:0", DataDir: t.TempDir(),
		MeshDir: dir, MatrixFile: matrixPath, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := a.Wait(); err != nil {
			t.Errorf("bridge: %v", err)
		}
	})
	opts, err := mesh.Credentials{Dir: dir}.NATSOptions("fee-calc")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(a.NATSURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	b, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: "fee-calc", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	err = rpc.Handle(b, "/calculate", func(context.Context, *struct{}) (*struct{}, error) { return &struct{}{}, nil })
	if err != nil {
		t.Fatal(err)
	}

	bridgeURL := "https://" + a.Addr().String()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"running service", []string{"--service", "fee-calc"}, 0, "bridge " + bridgeURL + " is ready; running: fee-calc\n"},
		{"absent service", []string{"--service", "payment", "--timeout", "500ms"}, 1, `unknown service \"payment\"`},
		{"a booth's certificate", []string{"--identity", "payment", "--timeout", "300ms"}, 0, "is ready"},
		{"no credentials", []string{"--dir", t.TempDir()}, 1, "ca.pem is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"ready", "--bridge", bridgeURL, "--dir", dir}, tt.args...)
			out, code := meshctl(t, args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Errorf("code %d, out %q; want %d and %q", code, out, tt.wantCode, tt.wantOut)
			}
		})
	}
}
