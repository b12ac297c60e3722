package hardening_test

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/hardening"
)

// handlerFunc is on the stack of every goroutine running the bridge's
// handler. net/http counts a handler against MaxConcurrentStreams from
// before it starts until after it has returned and flushed, so goroutines
// inside it never outnumber the limit; net/http's own runHandler frame is
// no such measure, since a goroutine that has reported itself done may be
// preempted before it exits.
const handlerFunc = "github.com/hms-svc/hms-svc/internal/bridge.(*Bridge).ServeHTTP"

// Bounds of the rapid reset attack.
const (
	resetMaxStreams = 20000
	resetMaxTime    = 3 * time.Second
)

// resetOutcome is what the attacking connection saw.
type resetOutcome struct {
	sent, answered, resets int
	goAway                 http2.ErrCode
	gotGoAway, closed      bool
	took                   time.Duration
}

// TestRapidResetIsBounded runs HTTP/2 rapid reset (CVE-2023-44487) against
// the bridge with a gateway certificate: HEADERS of a call immediately
// followed by RST_STREAM, as fast as the connection takes them, for at most
// 20,000 streams or 3 s. The server must stay up with at most
// MaxConcurrentStreams handlers running (net/http starts no more per
// connection, and answers a longer queue of reset streams with GOAWAY
// ENHANCE_YOUR_CALM), its goroutines and heap bounded, nothing left behind, and
// legitimate calls on another connection must keep succeeding; their
// latency is logged beside the baseline.
func TestRapidResetIsBounded(t *testing.T) {
	m := startMesh(t, nil)
	legit := m.httpsClient(t)
	var base latencies
	for range 30 {
		base.timeCall(legit, m.url)
	}
	before := hardening.Baseline()
	sampler := hardening.StartSampler(10*time.Millisecond, handlerFunc)
	var during latencies
	stop := make(chan struct{})
	calls := during.callEvery(legit, m.url, 10*time.Millisecond, 1000, stop)

	out := rapidReset(t, m.addr)

	close(stop)
	<-calls
	peak := sampler.Stop()
	t.Logf("rapid reset: %d streams opened and reset, handled by the server in %v (%.0f/s); the server answered %d, reset %d; GOAWAY %v (%v); connection closed %v",
		out.sent, out.took.Round(time.Millisecond), float64(out.sent)/out.took.Seconds(), out.answered, out.resets,
		out.gotGoAway, out.goAway, out.closed)
	if out.sent < 1000 {
		t.Errorf("only %d streams sent: the attack did not run", out.sent)
	}
	// net/http runs at most MaxConcurrentStreams handlers per connection
	// (the legitimate calls add one more); a handler goroutine that has
	// returned may linger a moment flushing or exiting, so the goroutine
	// bound allows twice that.
	mcs := bridge.DefaultMaxConcurrentStreams
	hBound := mcs + 1
	gBound := before.Goroutines + 2*mcs + 100
	memBound := before.HeapInuse + 64<<20
	t.Logf("handlers running: peak %d (bound %d = MaxConcurrentStreams + 1 legitimate); goroutines: baseline %d, peak %d (bound %d); heap in use: baseline %.1f MiB, peak %.1f MiB (bound %.1f MiB); %d samples",
		peak.Inside, hBound, before.Goroutines, peak.Goroutines, gBound, before.HeapMiB(), peak.HeapMiB(), float64(memBound)/(1<<20), peak.Samples)
	if !out.gotGoAway && peak.Inside > hBound {
		t.Errorf("peak handlers %d without a GOAWAY, want at most %d", peak.Inside, hBound)
	}
	if peak.Goroutines > gBound {
		t.Errorf("peak goroutines %d, want at most %d", peak.Goroutines, gBound)
	}
	if peak.HeapInuse > memBound {
		t.Errorf("peak heap %.1f MiB, want at most %.1f MiB", peak.HeapMiB(), float64(memBound)/(1<<20))
	}
	reportLatency(t, "rapid reset", &base, &during)
	if err := m.goodCall(t); err != nil {
		t.Fatalf("bridge not serving after the attack: %v", err)
	}
	checkNoLeak(t, before)
}

// rapidReset attacks addr on one connection and reports what it saw.
func rapidReset(t *testing.T, addr string) resetOutcome {
	t.Helper()
	tc := gatewayTLS(t)
	tc.NextProtos = []string{http2.NextProtoTLS}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, tc)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	bw := bufio.NewWriterSize(conn, 64<<10)
	var mu sync.Mutex // guards bw and the framer's writes
	fr := http2.NewFramer(bw, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if _, err := bw.WriteString(http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	_ = bw.Flush()

	var out resetOutcome
	readDone := make(chan struct{})
	pong := make(chan struct{}, 1)
	var rmu sync.Mutex
	go func() {
		defer close(readDone)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				rmu.Lock()
				out.closed = !isTimeout(err)
				rmu.Unlock()
				return
			}
			rmu.Lock()
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					mu.Lock()
					_ = fr.WriteSettingsAck()
					_ = bw.Flush()
					mu.Unlock()
				}
			case *http2.MetaHeadersFrame:
				out.answered++
			case *http2.DataFrame:
				if n := len(f.Data()); n > 0 {
					mu.Lock()
					_ = fr.WriteWindowUpdate(0, uint32(n))
					mu.Unlock()
				}
			case *http2.RSTStreamFrame:
				out.resets++
			case *http2.GoAwayFrame:
				out.gotGoAway, out.goAway = true, f.ErrCode
			case *http2.PingFrame:
				if f.IsAck() {
					pong <- struct{}{}
				}
			}
			rmu.Unlock()
		}
	}()

	var block strings.Builder
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "https"}, {":authority", "127.0.0.1"},
		{":path", callPath}, {"content-type", "application/json"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	hdr := []byte(block.String())
	start := time.Now()
	deadline := start.Add(resetMaxTime)
	for id := uint32(1); out.sent < resetMaxStreams && time.Now().Before(deadline); id += 2 {
		mu.Lock()
		err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hdr, EndHeaders: true})
		if err == nil {
			err = fr.WriteRSTStream(id, http2.ErrCodeCancel)
		}
		if err == nil && out.sent%64 == 63 {
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			err = bw.Flush()
		}
		mu.Unlock()
		if err != nil {
			break // the server closed the connection
		}
		out.sent++
	}
	// The server handles frames in order: its answer to a PING says it
	// has dealt with every stream before it.
	mu.Lock()
	_ = fr.WritePing(false, [8]byte{'h', 'a', 'r', 'd', 'e', 'n'})
	_ = bw.Flush()
	mu.Unlock()
	select {
	case <-pong:
	case <-readDone:
	case <-time.After(10 * time.Second):
		t.Errorf("no PING answer 10 s after the attack")
	}
	out.took = time.Since(start)
	// Collect what the server still sends for a moment, then hang up.
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	<-readDone
	rmu.Lock()
	defer rmu.Unlock()
	return out
}

// TestStreamsPerConnectionAreBounded opens more streams on one connection
// than the bridge's MaxConcurrentStreams, each a call whose body is not yet
// sent: the server must refuse every stream past the limit, then answer
// every accepted one once its body arrives.
func TestStreamsPerConnectionAreBounded(t *testing.T) {
	m := startMesh(t, nil)
	w := m.watch(t)
	c := dialH2(t, m.addr)
	want := uint32(bridge.DefaultMaxConcurrentStreams)
	if c.maxStreams != want {
		t.Fatalf("server advertises %d concurrent streams, want %d", c.maxStreams, want)
	}
	const extra = 50
	var ids []uint32
	for range int(want) + extra {
		id, err := c.open("POST", callPath, false, "content-type", "application/json")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// The streams past the limit are reset at once; the others wait for
	// their bodies.
	r := c.readUntil(extra, time.Now().Add(5*time.Second))
	refused := map[uint32]bool{}
	for id, a := range r.streams {
		if a.reset != 0 {
			refused[id] = true
		}
	}
	if len(refused) != extra || r.goAway != nil || r.closed != nil {
		t.Fatalf("refused %d streams (GOAWAY %v, connection %v), want the %d past the limit", len(refused), goAwayCode(r.goAway), r.closed, extra)
	}
	for _, id := range ids[want:] {
		if !refused[id] {
			t.Errorf("stream %d past the limit was not refused", id)
		}
	}
	for _, id := range ids[:want] {
		if err := c.fr.WriteData(id, true, []byte(goodBody)); err != nil {
			t.Fatal(err)
		}
	}
	r = c.readUntil(int(want), time.Now().Add(15*time.Second))
	ok := 0
	for _, a := range r.streams {
		if a.status == 200 && strings.TrimSpace(string(a.body)) == goodRes {
			ok++
		}
	}
	t.Logf("%d streams opened on one connection: %d refused, %d served (MaxConcurrentStreams %d)", len(ids), len(refused), ok, want)
	if ok != int(want) {
		t.Errorf("served %d accepted streams, want %d", ok, want)
	}
	if svc, _ := w.published(t, m); len(svc) != int(want) {
		t.Errorf("published %d requests, want %d (one per accepted stream)", len(svc), want)
	}
}

// TestHeaderLimits sends header blocks past the bridge's MaxHeaderBytes
// (64 KiB), one large field or thousands of small ones, over HTTP/2 and
// HTTP/1.1: each must be refused before anything is published, with the
// bridge's JSON 431 when the block is within net/http's guard (twice the
// limit) and at least with a connection error past it (5,000 fields are
// 205 KB as a header list); a block just under the limit is served.
func TestHeaderLimits(t *testing.T) {
	m := startMesh(t, nil)
	w := m.watch(t)
	many := make([]string, 0, 2*5000)
	for i := range 5000 {
		many = append(many, "x-h-"+itoa(i), "v")
	}
	tests := []struct {
		name       string
		fields     []string
		wantStatus int
	}{
		{"one 70 KB field", []string{"x-big", strings.Repeat("a", 70000)}, 431},
		{"5,000 fields", many, 431},
		{"60 KB, under the limit", []string{"x-big", strings.Repeat("a", 60000)}, 200},
	}
	for _, tt := range tests {
		t.Run("HTTP/2 "+tt.name, func(t *testing.T) {
			c := dialH2(t, m.addr)
			id := c.next
			c.next += 2
			fields := append([]string{"content-type", "application/json", "content-length", itoa(len(goodBody))}, tt.fields...)
			if err := c.writeBlock(id, c.block("POST", callPath, fields...), false); err != nil {
				t.Fatal(err)
			}
			_ = c.fr.WriteData(id, true, []byte(goodBody))
			r := c.readUntil(1, time.Now().Add(5*time.Second))
			a := r.streams[id]
			switch {
			case a == nil && tt.wantStatus != 200 && (r.goAway != nil || r.closed != nil && !isTimeout(r.closed)):
				t.Logf("refused with a connection error: GOAWAY %v, %v", goAwayCode(r.goAway), r.closed)
			case a == nil:
				t.Fatalf("no answer: GOAWAY %v, connection %v", goAwayCode(r.goAway), r.closed)
			case a.status != tt.wantStatus:
				t.Errorf("got %d (reset %v) %s, want %d", a.status, a.reset, clip(a.body), tt.wantStatus)
			case a.status == 431 && !isErrorEnvelope(a.body, 431):
				t.Errorf("431 with body %s, want the bridge's JSON error envelope", clip(a.body))
			}
			if tt.wantStatus == 200 {
				if svc, _ := w.published(t, m); len(svc) != 1 {
					t.Errorf("published %v, want one request", svc)
				}
				return
			}
			judge(t, m, w, badInput{}, nil)
		})
	}
	t.Run("HTTP/1.1 one 70 KB field", func(t *testing.T) {
		status, body := rawHTTP1(t, m.addr, "POST "+callPath+" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Big: "+
			strings.Repeat("a", 70000)+"\r\nContent-Length: 2\r\n\r\n{}")
		if status != 431 || !isErrorEnvelope([]byte(body), 431) {
			t.Errorf("got %d %q, want 431 with the bridge's JSON error envelope", status, body)
		}
		judge(t, m, w, badInput{}, nil)
	})
}
