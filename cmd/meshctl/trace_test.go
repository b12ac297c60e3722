package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/embednats"
	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// secureTraceMesh runs a NATS server secured as the mesh is (TLS, NKeys,
// permissions from the demo matrix) with the SVC_TRACE stream, and returns
// it with the credentials folder.
func secureTraceMesh(t *testing.T) (*server.Server, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), ".mesh")
	if out, code := meshctl(t, "init", "--dir", dir, "--matrix", matrixPath); code != 0 {
		t.Fatalf("init: %d %s", code, out)
	}
	m, err := matrix.Load(matrixPath)
	if err != nil {
		t.Fatal(err)
	}
	if m, err = m.LoadKeys(dir); err != nil {
		t.Fatal(err)
	}
	srv := natstest.StartWith(t, embednats.Config{Port: -1, StoreDir: t.TempDir(),
		Tune: func(o *server.Options) error {
			return natsauth.Apply(o, m, m.Keys(), natsauth.ServerFiles(dir))
		}})
	js := jsAs(t, srv, dir, "bridge")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := trace.EnsureStream(ctx, js, trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 8 << 20}); err != nil {
		t.Fatal(err)
	}
	return srv, dir
}

func jsAs(t *testing.T, srv *server.Server, dir, identity string) jetstream.JetStream {
	t.Helper()
	opts, err := mesh.Credentials{Dir: dir}.NATSOptions(identity)
	if err != nil {
		t.Fatal(err)
	}
	nc := natstest.Connect(t, srv, opts...)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// bridgeHops records, as the bridge does, its handling of the gateway's
// call and its attempt on fee-calc: two events of one trace.
func bridgeHops(t *testing.T, srv *server.Server, dir string) trace.TraceID {
	t.Helper()
	opts, err := mesh.Credentials{Dir: dir}.NATSOptions("bridge")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := trace.NewPublisher(natstest.Connect(t, srv, opts...), "bridge", trace.WithBatching(10, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := trace.StartSpan(context.Background(), pub, trace.Hop{Caller: "gateway", Service: "bridge", Path: "/v1/call/fee-calc/calculate"})
	_, call := trace.StartSpan(ctx, pub, trace.Hop{Kind: trace.KindClient, Caller: "bridge", Service: "fee-calc", Path: "/calculate"})
	call.End(nil)
	span.End(nil)
	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := pub.Close(closeCtx); err != nil || pub.Published() != 2 {
		t.Fatalf("publishing as the bridge: %v, %d published (%s)", err, pub.Published(), pub.Stats().LastError)
	}
	return span.TraceID()
}

// TestTraceCommandsOnTheSecureMesh runs meshctl trace show and tail as the
// inspector identity (the default, which may only read) against a server
// secured from the demo matrix.
func TestTraceCommandsOnTheSecureMesh(t *testing.T) {
	srv, dir := secureTraceMesh(t)
	id := bridgeHops(t, srv, dir)
	conn := []string{"--nats", srv.ClientURL(), "--mesh-dir", dir}

	out, code := meshctl(t, append([]string{"trace", "show", id.String()}, conn...)...)
	if code != 0 {
		t.Fatalf("trace show: exit %d: %s", code, out)
	}
	for _, want := range []string{
		fmt.Sprintf("trace %s: 2 events,", id),
		"server gateway -> bridge /v1/call/fee-calc/calculate",
		"client bridge -> fee-calc /calculate",
		"sequenceDiagram\n",
		"bridge->>fee_calc: /calculate",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace show prints no %q:\n%s", want, out)
		}
	}

	out, code = meshctl(t, append([]string{"trace", "tail", "--since", "1m", "--count", "2"}, conn...)...)
	if code != 0 {
		t.Fatalf("trace tail: exit %d: %s", code, out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("trace tail --count 2 printed %d lines, want 2:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if !strings.Contains(l, " "+id.String()+" ") || !strings.Contains(l, " ok ") {
			t.Errorf("tail line %q: want trace %s, ok", l, id)
		}
	}

	// An identity without a SVC_TRACE grant cannot read it.
	out, code = meshctl(t, "trace", "show", id.String(), "--nats", srv.ClientURL(), "--mesh-dir", dir, "--as", "gateway", "--timeout", "1s")
	if code != 1 || !strings.Contains(out, "the server refused gateway: nats: permissions violation") {
		t.Errorf("trace show as gateway: exit %d, want 1: %s", code, out)
	}
}

func TestTraceUsageErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing-here")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"no subcommand", []string{"trace"}, 2, "usage: meshctl trace"},
		{"unknown subcommand", []string{"trace", "follow"}, 2, `unknown command "follow"`},
		{"help", []string{"trace", "help"}, 0, "tail [--since 5m]"},
		{"show without id", []string{"trace", "show"}, 2, "usage: meshctl trace show ID"},
		{"show with two ids", []string{"trace", "show", "a", "b"}, 2, "usage: meshctl trace show ID"},
		{"negative since", []string{"trace", "tail", "--since", "-1m"}, 2, "must not be negative"},
		{"missing credentials", []string{"trace", "tail", "--mesh-dir", missing}, 1, missing},
		{"bad id, refused before connecting", []string{"trace", "show", "--mesh-dir", missing, "xyz"}, 1, `trace id "xyz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := meshctl(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Errorf("meshctl %v: exit %d %q; want exit %d naming %q", tt.args, code, out, tt.wantCode, tt.wantOut)
			}
		})
	}
}

// The trace commands' connection fails fast and names the server when
// nothing listens.
func TestTraceNamesAnUnreachableServer(t *testing.T) {
	_, dir := secureTraceMesh(t)
	out, code := meshctl(t, "trace", "show", "4bf92f3577b34da6a3ce929d0e0e4736", "--nats", "nats://127.0.0.1:1", "--mesh-dir", dir)
	if code != 1 || !strings.Contains(out, "nats://127.0.0.1:1") || !strings.Contains(out, nats.ErrNoServers.Error()) {
		t.Errorf("unreachable server: exit %d %q; want exit 1 naming it", code, out)
	}
}

// An event fee-calc publishes on its own trace subject claiming to be
// payment's handling of /refund, inside a real trace, is not shown by
// meshctl trace show or tail; meshctl says on stderr that it withheld it.
func TestTraceCommandsWithholdForgedEvents(t *testing.T) {
	srv, dir := secureTraceMesh(t)
	id := bridgeHops(t, srv, dir)
	now := time.Now().UTC()
	forged := trace.Event{
		TraceID: id, SpanID: trace.SpanID{0xf0, 1}, Kind: trace.KindServer, Caller: "gateway",
		Service: "payment", Path: "/refund", Attempt: 1, Start: now, Stop: now,
	}
	data, err := json.Marshal(map[string]any{"v": trace.BatchVersion, "events": []trace.Event{forged}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jsAs(t, srv, dir, "fee-calc").Publish(t.Context(), "svc.trace.fee-calc", data); err != nil {
		t.Fatalf("fee-calc publishing on its own trace subject: %v", err)
	}
	bridgeHops(t, srv, dir) // two more events, after the forged one
	conn := []string{"--nats", srv.ClientURL(), "--mesh-dir", dir}
	for _, args := range [][]string{
		{"trace", "show", id.String()},
		{"trace", "tail", "--since", "1m", "--count", "4"},
	} {
		out, code := meshctl(t, append(args, conn...)...)
		if code != 0 || strings.Contains(out, "-> payment /refund") || !strings.Contains(out, "bridge -> fee-calc /calculate") ||
			!strings.Contains(out, "trace events withheld") || !strings.Contains(out, "reason=server_span_of_another_service") {
			t.Errorf("meshctl %v: exit %d:\n%s\nwant 0, the bridge's hops and not the forged one, and a line saying it was withheld", args, code, out)
		}
	}
}
