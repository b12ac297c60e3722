package booths_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hms-svc/hms-svc/internal/auditchain"
	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// A record stored whose ack never came back is not stored again: audit-log
// retries the publish with the same Nats-Msg-Id and JetStream answers that
// it already has it.
func TestAuditAckLostIsNotStoredTwice(t *testing.T) {
	s := startServer(t)
	proxy := cutAfter(t, s.Addr().String(), []byte("PUB "+booths.AuditSubject+" "))
	nc, err := nats.Connect("nats://"+proxy.String(), nats.IgnoreDiscoveredServers(),
		nats.MaxReconnects(-1), nats.ReconnectWait(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	logs := &logCounter{}
	cfg := testConfig()
	cfg.Logger = slog.New(logs)
	b, err := booths.Start(t.Context(), nc, "audit-log", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(t.Context()) })
	client, err := rpc.NewClient(natstest.Connect(t, s), rpc.WithAttemptTimeout(10*time.Second), rpc.WithoutBreaker())
	if err != nil {
		t.Fatal(err)
	}

	// Every publish of the record, the lost one and its retry, seen on the
	// wire.
	id := uuid.NewString()
	watcher := natstest.Connect(t, s)
	published, err := watcher.SubscribeSync(booths.AuditSubject)
	if err != nil {
		t.Fatal(err)
	}
	if err := watcher.Flush(); err != nil {
		t.Fatal(err)
	}
	var got booths.RecordReply
	err = client.Call(rpc.WithRequestID(t.Context(), id), "audit-log", "/record",
		booths.RecordRequest{User: averySSN, Fee: 125, DocID: "doc-1"}, &got)
	if err != nil {
		t.Fatal(err)
	}
	if !proxy.cut() {
		t.Fatal("the connection was never cut after the publish: the test proved nothing")
	}
	st := auditStream(t, natstest.Connect(t, s))
	msg, err := st.GetMsg(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var rec booths.AuditRecord
	if err := json.Unmarshal(msg.Data, &rec); err != nil {
		t.Fatal(err)
	}
	if n := auditCount(t, st); n != 1 || got.Seq != 1 || got.ID != rec.ID || rec.RequestID != id {
		t.Errorf("reply %+v with %d records (first %s for %s), want the one record at seq 1", got, n, rec.ID, rec.RequestID)
	}
	if logs.count("audit append confirmed after retries") != 1 {
		t.Error("the append was not retried")
	}
	var sent int
	for {
		m, err := published.NextMsg(100 * time.Millisecond)
		if err != nil {
			break
		}
		if m.Header.Get(jetstream.MsgIDHeader) == id {
			sent++
		}
	}
	if sent < 2 {
		t.Errorf("the record was published %d times, want the lost one and its retry", sent)
	}
	t.Logf("published %d times, stored once", sent)
	js := natstest.Connect(t, s)
	ok, err := auditchain.RunVerify(t.Context(), js, io.Discard)
	if err != nil || !ok {
		t.Errorf("chain: %v, %v", ok, err)
	}
}

// cutProxy forwards one client's connections to a NATS server and, the
// first time the client sends marker, forwards it and then drops the
// connection: the server gets the message, the client never gets the answer.
type cutProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	isCut  bool
	target string
	marker []byte
}

func cutAfter(t *testing.T, target string, marker []byte) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, marker: marker}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(in)
		}
	}()
	return p
}

func (p *cutProxy) String() string { return p.ln.Addr().String() }

func (p *cutProxy) cut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.isCut
}

func (p *cutProxy) forward(in net.Conn) {
	defer in.Close()
	out, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer out.Close()
	go func() { _, _ = io.Copy(in, out); in.Close() }()
	buf := make([]byte, 64<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if _, werr := out.Write(buf[:n]); werr != nil {
				return
			}
			p.mu.Lock()
			cutNow := !p.isCut && bytes.Contains(buf[:n], p.marker)
			p.isCut = p.isCut || cutNow
			p.mu.Unlock()
			if cutNow {
				return // both ends close: the ack is lost
			}
		}
		if err != nil {
			return
		}
	}
}
