package ui_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/ui"
	"github.com/hms-svc/hms-svc/pkg/rpc"
	"github.com/hms-svc/hms-svc/pkg/trace"
)

// licenseBooths are the four booths of Avery's license, in the order the
// gateway calls them.
var licenseBooths = []struct{ service, path string }{
	{"fee-calc", "/calculate"},
	{"payment", "/charge"},
	{"license-printer", "/generate"},
	{"audit-log", "/record"},
}

// mesh is a small license mesh on an embedded NATS server: the four
// booths and a gateway, each on its own connection with its own trace
// publisher, all tracing to SVC_TRACE.
type fixture struct {
	js     jetstream.JetStream
	booths []*rpc.Booth
	gw     *rpc.Client
	gwPub  *trace.Publisher
	// heartbeat of the live stream the test server serves.
	heartbeat time.Duration
	flows     atomic.Uint32 // trace ids made by calls
}

type application struct {
	Name        string `json:"name"`
	SSN         string `json:"ssn,omitempty"`
	LicenseType string `json:"license_type"`
}

type feeReply struct {
	LicenseType string `json:"license_type"`
	Amount      int    `json:"amount"`
	Currency    string `json:"currency"`
}

type charge struct {
	Amount   int    `json:"amount"`
	Currency string `json:"currency"`
}

type receipt struct {
	Txn    string `json:"txn"`
	Amount int    `json:"amount"`
}

type document struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

type auditRecord struct {
	User  string `json:"user"`
	Fee   int    `json:"fee"`
	DocID string `json:"doc_id"`
}

type auditReply struct {
	ID  string `json:"id"`
	Seq uint64 `json:"seq"`
}

func startMesh(t *testing.T) *fixture {
	t.Helper()
	srv := natstest.Start(t)
	js, err := jetstream.New(natstest.Connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := trace.EnsureStream(ctx, js, trace.StreamConfig{MaxAge: time.Hour, MaxBytes: 16 << 20, Memory: true}); err != nil {
		t.Fatal(err)
	}
	m := &fixture{js: js, heartbeat: ui.DefaultHeartbeat}
	publisher := func(identity string) (*trace.Publisher, *rpc.Booth) {
		nc := natstest.Connect(t, srv)
		pub, err := trace.NewPublisher(nc, identity, trace.WithBatching(100, 5*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pub.Close(context.Background()) })
		if identity == "gateway" {
			gw, err := rpc.NewClient(nc, rpc.WithCaller("gateway"),
				rpc.WithAttemptMiddleware(trace.ClientMiddleware(pub, "gateway")))
			if err != nil {
				t.Fatal(err)
			}
			m.gw, m.gwPub = gw, pub
			return pub, nil
		}
		b, err := rpc.NewBooth(nc, rpc.BoothConfig{Name: identity, Version: "1.0.0", Metadata: map[string]string{"instance": identity + "-1"}},
			rpc.WithBoothMiddleware(trace.ServerMiddleware(pub, identity+"-1")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Stop(context.Background()) })
		m.booths = append(m.booths, b)
		return pub, b
	}
	publisher("gateway")
	_, fee := publisher("fee-calc")
	must(t, rpc.Handle(fee, "/calculate", func(ctx context.Context, req *application) (*feeReply, error) {
		if req.LicenseType != "professional-engineer" {
			return nil, rpc.Errorf(rpc.CodeNotFound, "no fee for license type %q", req.LicenseType)
		}
		return &feeReply{LicenseType: req.LicenseType, Amount: 125, Currency: "USD"}, nil
	}))
	_, pay := publisher("payment")
	must(t, rpc.Handle(pay, "/charge", func(ctx context.Context, req *charge) (*receipt, error) {
		if req.Amount <= 0 {
			return nil, rpc.Errorf(rpc.CodeBadRequest, "amount must be > 0")
		}
		return &receipt{Txn: uuid.NewString(), Amount: req.Amount}, nil
	}))
	_, printer := publisher("license-printer")
	must(t, rpc.Handle(printer, "/generate", func(ctx context.Context, req *application) (*document, error) {
		id := uuid.NewString()
		return &document{ID: id, URL: "/v1/licenses/" + id}, nil
	}))
	_, audit := publisher("audit-log")
	var seq atomic.Uint64
	must(t, rpc.Handle(audit, "/record", func(ctx context.Context, req *auditRecord) (*auditReply, error) {
		return &auditReply{ID: uuid.NewString(), Seq: seq.Add(1)}, nil
	}))
	return m
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// license runs the gateway's license flow as one trace: the gateway's own
// span, and under it the four calls. It returns the trace id and the first
// error.
func (m *fixture) license(ctx context.Context, app application) (trace.TraceID, error) {
	ctx, span := trace.StartSpan(ctx, m.gwPub, trace.Hop{Service: "gateway", Path: "/apply", Instance: "gateway-1"})
	err := func() error {
		var fee feeReply
		if err := m.gw.Call(ctx, "fee-calc", "/calculate", app, &fee); err != nil {
			return err
		}
		var rc receipt
		if err := m.gw.Call(ctx, "payment", "/charge", charge{Amount: fee.Amount, Currency: fee.Currency}, &rc); err != nil {
			return err
		}
		var doc document
		if err := m.gw.Call(ctx, "license-printer", "/generate", app, &doc); err != nil {
			return err
		}
		return m.gw.Call(ctx, "audit-log", "/record", auditRecord{User: app.SSN, Fee: fee.Amount, DocID: doc.ID}, nil)
	}()
	span.End(err)
	return span.TraceID(), err
}

// calls makes the four calls of the license flow as a gateway does through
// the bridge: in one trace, as children of the gateway's span, which the
// gateway does not record. It stops at the first error and returns the
// trace id and that error.
func (m *fixture) calls(ctx context.Context, app application) (trace.TraceID, error) {
	var id trace.TraceID // as the mesh makes them: its time, then a number
	binary.BigEndian.PutUint32(id[:4], uint32(time.Now().Unix()))
	binary.BigEndian.PutUint32(id[12:], m.flows.Add(1))
	ctx = trace.ContextWithSpan(ctx, trace.SpanContext{TraceID: id, SpanID: trace.SpanID{0xa1}, Flags: 1})
	var fee feeReply
	if err := m.gw.Call(ctx, "fee-calc", "/calculate", app, &fee); err != nil {
		return id, err
	}
	var rc receipt
	if err := m.gw.Call(ctx, "payment", "/charge", charge{Amount: fee.Amount, Currency: fee.Currency}, &rc); err != nil {
		return id, err
	}
	var doc document
	if err := m.gw.Call(ctx, "license-printer", "/generate", app, &doc); err != nil {
		return id, err
	}
	return id, m.gw.Call(ctx, "audit-log", "/record", auditRecord{User: app.SSN, Fee: fee.Amount, DocID: doc.ID}, nil)
}

// Bodies of the bridge's discovery, as the page reads them.
type serviceList struct {
	Services []serviceInfo `json:"services"`
}

type serviceInfo struct {
	Name      string         `json:"name"`
	Versions  []string       `json:"versions"`
	Instances []instance     `json:"instances"`
	Endpoints []endpointInfo `json:"endpoints"`
}

type instance struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version"`
}

type endpointInfo struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Path    string `json:"path"`
}

// server serves the page and the four endpoints it reads, as the bridge
// does, over HTTPS with HTTP/2.
func (m *fixture) server(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/ui", ui.Handler())
	mux.Handle("/ui/", ui.Handler())
	mux.HandleFunc("GET /v1/services", func(w http.ResponseWriter, r *http.Request) {
		out := serviceList{Services: []serviceInfo{}}
		for _, b := range m.booths {
			info := b.Info()
			si := serviceInfo{Name: info.Name, Versions: []string{info.Version},
				Instances: []instance{{ID: info.ID, Name: info.Metadata["instance"], Version: info.Version}}}
			for _, ep := range info.Endpoints {
				si.Endpoints = append(si.Endpoints, endpointInfo{Name: ep.Name, Subject: ep.Subject, Path: ep.Metadata["path"]})
			}
			out.Services = append(out.Services, si)
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /v1/breakers", func(w http.ResponseWriter, r *http.Request) {
		out := ui.Breakers{Breakers: map[string]string{}}
		for _, b := range m.booths {
			out.Breakers[b.Name()] = m.gw.BreakerState(b.Name())
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /v1/traces/live", func(w http.ResponseWriter, r *http.Request) {
		since, err := ui.ParseSince(r.URL.Query().Get("since"), time.Now())
		if err != nil {
			writeError(w, err)
			return
		}
		err = ui.SSE(w, r, func(ctx context.Context, fn func(trace.Event) error) error {
			return trace.Follow(ctx, m.js, since, fn)
		}, ui.WithHeartbeat(m.heartbeat))
		if err != nil {
			t.Logf("live stream: %v", err)
		}
	})
	mux.HandleFunc("GET /v1/traces/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := trace.ParseTraceID(r.PathValue("id"))
		if err != nil {
			writeError(w, rpc.Errorf(rpc.CodeBadRequest, "trace id: %v", err))
			return
		}
		events, err := trace.Get(r.Context(), m.js, id)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, ui.NewTrace(id, events))
	})
	ts := httptest.NewUnstartedServer(mux)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	code := rpc.CodeOf(err)
	var body struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	body.Error.Code, body.Error.Message = int(code), rpc.MessageOf(err)
	writeJSON(w, code.HTTPStatus(), body)
}

// errNoEvent is what waitEvent reports when the stream ended first.
var errNoEvent = errors.New("stream ended before the event")
