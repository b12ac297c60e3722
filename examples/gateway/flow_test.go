package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

var avery = Applicant{Name: "Avery Johnson", SSN: "123-45-6789", LicenseType: "professional-engineer"}

// seenCalls records, per "service path", the request ids and trace ids the
// test booths received.
type seenCalls struct {
	mu     sync.Mutex
	ids    map[string][]string
	traces map[string]bool
	audit  recordRequest
}

func (s *seenCalls) note(ctx context.Context) {
	ci, _ := rpc.CallInfoFromContext(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := ci.Service + " " + ci.Path
	s.ids[k] = append(s.ids[k], ci.RequestID)
	if tp := ci.Header.Get(rpc.HeaderTraceparent); len(tp) == 55 {
		s.traces[tp[3:35]] = true
	}
}

// startBooths runs the four license booths as the contracts describe them,
// each on its own connection. The payment booth fails its first delivery
// with 503 when flaky, and replays its first answer for a request id.
func startBooths(t *testing.T, s *server.Server, pdf []byte, flaky bool) *seenCalls {
	t.Helper()
	seen := &seenCalls{ids: map[string][]string{}, traces: map[string]bool{}}
	ensureTraceStream(t, s)
	boot := func(name string, add func(*rpc.Booth) error) *nats.Conn {
		m := member(t, s, name)
		b, err := m.NewBooth(rpc.BoothConfig{Version: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		if err := add(b); err != nil {
			t.Fatal(err)
		}
		if err := m.Conn().Flush(); err != nil {
			t.Fatal(err)
		}
		return m.Conn()
	}
	boot("fee-calc", func(b *rpc.Booth) error {
		return rpc.Handle(b, "/calculate", func(ctx context.Context, req *Applicant) (*feeReply, error) {
			seen.note(ctx)
			if req.LicenseType != "professional-engineer" {
				return nil, rpc.Errorf(rpc.CodeNotFound, "no fee for license type %q", req.LicenseType)
			}
			return &feeReply{Amount: "125", Currency: "USD"}, nil
		})
	})
	var mu sync.Mutex
	ledger := map[string]string{}
	boot("payment", func(b *rpc.Booth) error {
		return rpc.Handle(b, "/charge", func(ctx context.Context, req *chargeRequest) (*chargeReply, error) {
			seen.note(ctx)
			mu.Lock()
			defer mu.Unlock()
			id := rpc.RequestID(ctx)
			if flaky && len(seen.ids["payment /charge"]) == 1 {
				return nil, rpc.Errorf(rpc.CodeUnavailable, "card network busy")
			}
			if req.Amount != "125" || req.Currency != "USD" {
				return nil, rpc.Errorf(rpc.CodeBadRequest, "charge %s %s, want the fee", req.Amount, req.Currency)
			}
			if ledger[id] == "" {
				ledger[id] = uuid.NewString()
			}
			return &chargeReply{Txn: ledger[id]}, nil
		})
	})
	var js jetstream.JetStream
	nc := boot("license-printer", func(b *rpc.Booth) error {
		return rpc.Handle(b, "/generate", func(ctx context.Context, req *Applicant) (*generateReply, error) {
			seen.note(ctx)
			store, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "LICENSES"})
			if err != nil {
				return nil, err
			}
			id := uuid.NewString()
			if _, err := store.PutBytes(ctx, id, pdf); err != nil {
				return nil, err
			}
			return &generateReply{ID: id, URL: "/v1/licenses/" + id}, nil
		})
	})
	var err error
	if js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	boot("audit-log", func(b *rpc.Booth) error {
		return rpc.Handle(b, "/record", func(ctx context.Context, req *recordRequest) (*recordReply, error) {
			seen.note(ctx)
			seen.mu.Lock()
			seen.audit = *req
			seen.mu.Unlock()
			return &recordReply{ID: uuid.NewString()}, nil
		})
	})
	return seen
}

// startBridge serves a bridge over s on 127.0.0.1 (h2c when tlsCfg is nil)
// that calls for whom caller names, and returns its base URL.
func startBridge(t *testing.T, s *server.Server, tlsCfg *tls.Config, caller bridge.CallerFunc) string {
	t.Helper()
	cfg := bridge.Config{InsecureH2C: tlsCfg == nil, Caller: caller, Logger: slog.New(slog.DiscardHandler)}
	scheme := "http"
	if tlsCfg != nil {
		cfg.TLS, scheme = tlsCfg, "https"
	}
	b, err := bridge.New(cfg, member(t, s, "bridge"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return scheme + "://" + ln.Addr().String()
}

// ensureTraceStream makes the SVC_TRACE stream, in memory, as the bridge
// process does.
func ensureTraceStream(t *testing.T, s *server.Server) {
	t.Helper()
	js, err := jetstream.New(natstest.Connect(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trace.EnsureStream(t.Context(), js, trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 16 << 20, Memory: true}); err != nil {
		t.Fatal(err)
	}
}

// member joins the mesh on s as identity, without credentials (s admits
// anyone), until the test ends; its booths and calls are traced.
func member(t *testing.T, s *server.Server, identity string) *mesh.Mesh {
	t.Helper()
	m, err := mesh.Connect(t.Context(), mesh.Config{Identity: identity, NATSURL: s.ClientURL(),
		InsecureNoCredentials: true, Instance: identity + "-1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

func getPDF(t *testing.T, c *http.Client, url string) (string, []byte) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.ProtoMajor != 2 {
		t.Fatalf("GET %s: %d over HTTP/%d", url, res.StatusCode, res.ProtoMajor)
	}
	return res.Header.Get("Content-Type"), data
}

func TestIssueLicenseOverH2C(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	pdf := []byte("%PDF-1.4\nProfessional Engineer: Avery Johnson\n%%EOF\n")
	seen := startBooths(t, s, pdf, false)
	base := startBridge(t, s, nil, bridge.ActAs("gateway"))
	c, err := newHTTPClient(true, "", "", "", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)

	got, err := IssueLicense(context.Background(), c, base, avery)
	if err != nil {
		t.Fatalf("IssueLicense: %v", err)
	}
	if uuid.Validate(got.Receipt) != nil || got.Fee != "125" || got.Currency != "USD" || got.AuditID == "" {
		t.Errorf("issued %+v, want a txn receipt, 125 USD and an audit id", got)
	}
	if want := base + "/v1/licenses/" + got.DocID; got.LicenseURL != want {
		t.Errorf("license URL %q, want %q", got.LicenseURL, want)
	}
	if ct, data := getPDF(t, c, got.LicenseURL); ct != "application/pdf" || !bytes.Equal(data, pdf) {
		t.Errorf("license: %s %q, want the PDF the printer stored", ct, data)
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if want := (recordRequest{User: "123-45-6789", Fee: "125", DocID: got.DocID}); seen.audit != want {
		t.Errorf("audit record %+v, want %+v", seen.audit, want)
	}
	if len(seen.traces) != 1 || !seen.traces[got.TraceID] {
		t.Errorf("booths saw traces %v, want the one trace %s", seen.traces, got.TraceID)
	}
	for _, k := range []string{"fee-calc /calculate", "payment /charge", "license-printer /generate", "audit-log /record"} {
		if len(seen.ids[k]) != 1 {
			t.Errorf("%s called %d times, want once", k, len(seen.ids[k]))
		}
	}

	// The trace the bridge serves holds the three hops of each call.
	ft, err := FetchTrace(context.Background(), c, base, got.TraceID, 5*time.Second)
	if err != nil {
		t.Fatalf("FetchTrace: %v", err)
	}
	if ft.TraceID != got.TraceID || len(ft.Events) != 12 {
		t.Errorf("trace %s with %d events, want %s with 12: the bridge's handling, its attempt and the booth's, per call", ft.TraceID, len(ft.Events), got.TraceID)
	}
	for _, want := range []string{"gateway->>bridge: /v1/call/fee-calc/calculate", "bridge->>fee_calc: /calculate", "bridge->>audit_log: /record"} {
		if !strings.Contains(ft.Mermaid, want) {
			t.Errorf("diagram lacks %q:\n%s", want, ft.Mermaid)
		}
	}
}

// FetchTrace waits while the trace lacks a hop, then says which.
func TestFetchTraceNamesAMissingHop(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	startBooths(t, s, []byte("%PDF-1.4\n"), false)
	base := startBridge(t, s, nil, bridge.ActAs("gateway"))
	c, _ := newHTTPClient(true, "", "", "", 10*time.Second)
	t.Cleanup(c.CloseIdleConnections)
	cl := newCaller(c, base)
	var fee feeReply
	if err := cl.call(context.Background(), "fee-calc", "/calculate", avery, &fee); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ft, err := FetchTrace(context.Background(), c, base, cl.traceID, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "no bridge handling of payment /charge") || ft == nil || len(ft.Events) != 3 {
		t.Errorf("FetchTrace of a one-call flow: %+v, %v; want its 3 hops and an error naming payment's", ft, err)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond || waited > 2*time.Second {
		t.Errorf("FetchTrace gave up after %v, want about its 300 ms wait", waited)
	}
	if _, err := FetchTrace(context.Background(), c, base, "not-an-id", time.Second); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("a malformed id: %v, want the bridge's 400 at once", err)
	}
}

func TestRetriedChargeKeepsItsIdempotencyKey(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	seen := startBooths(t, s, []byte("%PDF-1.4\n"), true)
	base := startBridge(t, s, nil, bridge.ActAs("gateway"))
	c, _ := newHTTPClient(true, "", "", "", 10*time.Second)
	t.Cleanup(c.CloseIdleConnections)

	if _, err := IssueLicense(context.Background(), c, base, avery); err != nil {
		t.Fatalf("IssueLicense: %v", err)
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	ids := seen.ids["payment /charge"]
	if len(ids) != 2 || ids[0] != ids[1] || uuid.Validate(ids[0]) != nil {
		t.Errorf("charge attempts carried request ids %v, want the same UUID twice", ids)
	}
}

func TestIssueLicenseStopsAtTheFirstFailure(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	seen := startBooths(t, s, []byte("%PDF-1.4\n"), false)
	base := startBridge(t, s, nil, bridge.ActAs("gateway"))
	c, _ := newHTTPClient(true, "", "", "", 10*time.Second)
	t.Cleanup(c.CloseIdleConnections)

	_, err := IssueLicense(context.Background(), c, base, Applicant{Name: "Avery Johnson", SSN: "123-45-6789", LicenseType: "astronaut"})
	ce, ok := err.(*CallError)
	if !ok || ce.Status != 404 || ce.Service != "fee-calc" || !strings.Contains(ce.Message, `"astronaut"`) {
		t.Fatalf("err = %v, want fee-calc's 404 for astronaut", err)
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if n := len(seen.ids["payment /charge"]); n != 0 {
		t.Errorf("payment charged %d times after the fee failed, want 0", n)
	}
}
