package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// recordAudits runs the audit-log booth on its own credentials and records
// n audit records through it as the gateway.
func recordAudits(t *testing.T, srv *server.Server, dir string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if out, code := meshctl(t, "provision", "--nats", srv.ClientURL(), "--mesh-dir", dir); code != 0 {
		t.Fatalf("provision: exit %d %s", code, out)
	}
	opts, err := mesh.Credentials{Dir: dir}.NATSOptions("audit-log")
	if err != nil {
		t.Fatal(err)
	}
	b, err := booths.Start(ctx, natstest.Connect(t, srv, opts...), "audit-log", booths.Config{
		AuditKey: []byte("meshctl-audit-key-0123456789"), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	if opts, err = (mesh.Credentials{Dir: dir}).NATSOptions("gateway"); err != nil {
		t.Fatal(err)
	}
	client, err := rpc.NewClient(natstest.Connect(t, srv, opts...), rpc.WithCaller("gateway"), rpc.WithAttemptTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		req := booths.RecordRequest{User: "123-45-6789", Fee: 125, DocID: fmt.Sprintf("doc-%d", i)}
		if err := client.Call(ctx, "audit-log", "/record", req, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// meshctl audit verify reads the chain as the inspector, which may read
// AUDIT and nothing else: exit 0 while it holds, 1 once a record that does
// not link is slipped in.
func TestAuditVerifyOnTheSecureMesh(t *testing.T) {
	srv, dir := secureTraceMesh(t)
	conn := []string{"--nats", srv.ClientURL(), "--mesh-dir", dir}

	out, code := meshctl(t, append([]string{"audit", "verify"}, conn...)...)
	if code != 1 || !strings.Contains(out, "audit stream not found") {
		t.Errorf("before any record: exit %d %q, want 1 saying the stream is missing", code, out)
	}

	recordAudits(t, srv, dir, 3)
	out, code = meshctl(t, append([]string{"audit", "verify"}, conn...)...)
	if code != 0 || !strings.Contains(out, "stream AUDIT: 3 records, sequences 1 to 3") || !strings.Contains(out, "OK: the chain is intact") {
		t.Fatalf("intact chain: exit %d %q, want 0 and OK for 3 records", code, out)
	}

	// A compromised audit-log key publishes a record outside the booth.
	opts, err := mesh.Credentials{Dir: dir}.NATSOptions("audit-log")
	if err != nil {
		t.Fatal(err)
	}
	nc := natstest.Connect(t, srv, opts...)
	if err := nc.Publish(booths.AuditSubject, []byte(`{"id":"forged","user_masked":"***-**-0000"}`)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		out, code = meshctl(t, append([]string{"audit", "verify"}, conn...)...)
		if code != 1 || !strings.Contains(out, "seq 4: ") || !strings.Contains(out, "BROKEN") {
			return fmt.Errorf("forged record: exit %d %q, want 1 naming seq 4", code, out)
		}
		return nil
	})

	// The gateway has no AUDIT grant.
	out, code = meshctl(t, append([]string{"audit", "verify", "--as", "gateway", "--timeout", "2s"}, conn...)...)
	if code != 1 || !strings.Contains(out, "the server refused gateway: nats: permissions violation") {
		t.Errorf("as gateway: exit %d %q, want 1 naming the refused permission", code, out)
	}
}

// Every kind of tamper a holder of audit-log's credentials can make on the
// audit subject is reported by meshctl audit verify, one line each naming
// the sequence and the kind, with exit 1; the records the booth appends
// after each are sound.
func TestAuditVerifyNamesEveryTamper(t *testing.T) {
	srv, dir := secureTraceMesh(t)
	conn := []string{"--nats", srv.ClientURL(), "--mesh-dir", dir}
	opts, err := mesh.Credentials{Dir: dir}.NATSOptions("audit-log")
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(natstest.Connect(t, srv, opts...))
	if err != nil {
		t.Fatal(err)
	}
	// seal makes a record as audit-log would after the stream's tail, then
	// passes it through change.
	seal := func(change func(rec *booths.AuditRecord)) []byte {
		st, err := js.Stream(t.Context(), booths.AuditStream)
		if err != nil {
			t.Fatal(err)
		}
		last, err := st.GetMsg(t.Context(), st.CachedInfo().State.LastSeq)
		if err != nil {
			t.Fatal(err)
		}
		var tail booths.AuditRecord
		if err := json.Unmarshal(last.Data, &tail); err != nil {
			t.Fatal(err)
		}
		rec := booths.AuditRecord{ID: "forged", RequestID: "forged", Action: "license-issued", DocID: "forged",
			UserMasked: "***-**-0000", UserHash: "ab12", RecordedAt: "2025-01-02T03:04:05Z", PrevHash: tail.Hash}
		rec.Hash = rec.ChainHash()
		change(&rec)
		data, _ := json.Marshal(rec)
		return data
	}
	recordAudits(t, srv, dir, 3)
	for _, tamper := range []func() []byte{
		func() []byte { return []byte(`{"id":"forged","user_masked":"***-**-0000"}`) },                           // 4: foreign
		func() []byte { return seal(func(r *booths.AuditRecord) { r.Fee = 1000 }) },                              // 6: edited
		func() []byte { return seal(func(r *booths.AuditRecord) { r.PrevHash = ""; r.Hash = r.ChainHash() }) },   // 8: restart
		func() []byte { return seal(func(r *booths.AuditRecord) { r.PrevHash = "00"; r.Hash = r.ChainHash() }) }, // 10: gap
	} {
		if _, err := js.Publish(t.Context(), booths.AuditSubject, tamper()); err != nil {
			t.Fatal(err)
		}
		recordAudits(t, srv, dir, 1)
	}
	out, code := meshctl(t, append([]string{"audit", "verify"}, conn...)...)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if parts := strings.SplitN(l, ": ", 3); len(parts) == 3 && strings.HasPrefix(l, "seq ") {
			lines = append(lines, parts[0]+": "+parts[1]) // "seq N: kind"
		}
	}
	want := []string{"seq 4: foreign", "seq 6: edited", "seq 8: restart", "seq 10: gap"}
	if code != 1 || !slices.Equal(lines, want) || !strings.Contains(out, "BROKEN: 1 foreign, 1 edited, 1 restart, 1 gap") {
		t.Errorf("exit %d, problem lines %q:\n%s\nwant 1 and %q", code, lines, out, want)
	}
}

func TestAuditUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"no subcommand", []string{"audit"}, 2, "usage: meshctl audit"},
		{"unknown subcommand", []string{"audit", "repair"}, 2, `unknown command "repair"`},
		{"help", []string{"audit", "help"}, 0, "verify"},
		{"stray argument", []string{"audit", "verify", "AUDIT"}, 2, "unexpected arguments"},
		{"listed in the usage", []string{"help"}, 0, "audit        verify the AUDIT stream's hash chain"},
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
