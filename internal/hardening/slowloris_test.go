package hardening_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/hms-svc/hms-svc/internal/bridge"
	"github.com/hms-svc/hms-svc/internal/hardening"
	"github.com/hms-svc/hms-svc/internal/natstest"
)

// Slowloris limits, shortened from the defaults (5 s and 120 s) so that the
// test is quick; the bounds below scale with them. The TLS handshake has
// ReadHeaderTimeout too, so it is kept long enough for 200 handshakes on a
// busy machine.
const (
	slowHeaderTimeout = 2 * time.Second
	slowIdleTimeout   = 2 * time.Second
	slowPerKind       = 100                    // connections of each kind
	slowTick          = 100 * time.Millisecond // one trickle per connection per tick
	// goAwayGrace is how long the HTTP/2 server waits after its GOAWAY
	// before closing (net/http's goAwayTimeout).
	goAwayGrace = time.Second
)

// slowConn is one slowloris connection: it writes one piece of its
// unfinished request per tick until a write fails, which says the server
// closed it.
type slowConn struct {
	kind     string
	conn     net.Conn
	pieces   [][]byte
	next     int
	start    time.Time     // when the server's clock for it started
	closedIn time.Duration // 0 while open
}

// trickle writes the next piece; it reports false once the connection is
// closed.
func (s *slowConn) trickle() bool {
	if s.closedIn != 0 {
		return false
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(slowTick))
	p := s.pieces[min(s.next, len(s.pieces)-1)]
	s.next++
	if s.next == 1 && s.kind == "http2" {
		// The server's idle clock starts with the preface.
		s.start = time.Now()
	}
	if _, err := s.conn.Write(p); err != nil {
		s.closedIn = time.Since(s.start)
		s.conn.Close()
		return false
	}
	return true
}

// TestSlowlorisIsBounded opens 300 connections that never finish a request
// and trickle bytes to keep them busy: 100 raw TCP connections trickling a
// TLS ClientHello (what anyone can do without a certificate), 100 TLS
// connections with a gateway certificate trickling HTTP/1.1 header lines,
// and 100 trickling an HTTP/2 header block in CONTINUATION frames. It
// checks the server closes each within its timeout (the TLS handshake and
// HTTP/1.1 headers: ReadHeaderTimeout; an HTTP/2 connection that never
// completes a header block: IdleTimeout, then the GOAWAY grace), that the
// peak of goroutines and heap stays within a per-connection bound, that
// nothing leaks after, and that legitimate calls keep succeeding; their
// latency is logged beside the baseline.
func TestSlowlorisIsBounded(t *testing.T) {
	m := startMesh(t, func(c *bridge.Config) {
		c.ReadHeaderTimeout = slowHeaderTimeout
		c.IdleTimeout = slowIdleTimeout
	})
	legit := m.httpsClient(t)
	var base latencies
	for range 30 {
		base.timeCall(legit, m.url)
	}
	before := hardening.Baseline()
	hello := clientHello(t)

	var conns []*slowConn
	conns = append(conns, dialConcurrently(t, slowPerKind, func() (*slowConn, error) { return slowHTTP1(t, m.addr) })...)
	conns = append(conns, dialConcurrently(t, slowPerKind, func() (*slowConn, error) { return slowHTTP2(t, m.addr) })...)
	conns = append(conns, dialConcurrently(t, slowPerKind, func() (*slowConn, error) { return slowHello(m.addr, hello) })...)

	sampler := hardening.StartSampler(10 * time.Millisecond)
	var during latencies
	stop := make(chan struct{})
	calls := during.callEvery(legit, m.url, 20*time.Millisecond, 500, stop)
	limit := time.Now().Add(slowIdleTimeout + goAwayGrace + 4*time.Second)
	for open := len(conns); open > 0 && time.Now().Before(limit); {
		time.Sleep(slowTick)
		open = 0
		for _, c := range conns {
			if c.trickle() {
				open++
			}
		}
	}
	// A new connection during the attack is served too.
	during.timeCall(m.httpsClient(t), m.url)
	close(stop)
	<-calls
	peak := sampler.Stop()

	worst := map[string]time.Duration{}
	for _, c := range conns {
		if c.closedIn == 0 {
			t.Errorf("%s connection still open after %v", c.kind, time.Since(c.start).Round(time.Millisecond))
			c.conn.Close()
			continue
		}
		worst[c.kind] = max(worst[c.kind], c.closedIn)
	}
	// Closing is seen at the second write after it, so allow two ticks and
	// a margin for a busy machine.
	slack := 2*slowTick + 1500*time.Millisecond
	for kind, bound := range map[string]time.Duration{
		"tls-hello": slowHeaderTimeout + slack,
		"http1":     slowHeaderTimeout + slack,
		"http2":     slowIdleTimeout + goAwayGrace + slack,
	} {
		if worst[kind] > bound {
			t.Errorf("%s connections: the last was closed after %v, want at most %v", kind, worst[kind], bound)
		}
		t.Logf("%-9s x%d: the last was closed by the server after %v (bound %v)", kind, slowPerKind, worst[kind].Round(time.Millisecond), bound)
	}
	checkPeaks(t, before, peak, len(conns))
	reportLatency(t, "slowloris", &base, &during)
	checkNoLeak(t, before)
}

// checkPeaks checks the peak goroutines and heap stayed within the bounds
// per attacking connection: the server keeps at most two goroutines per
// connection (its conn loop and, for HTTP/2, the frame reader) and the
// attack one in all, so 3 per connection leaves room for the legitimate
// calls; a connection's buffers (TLS records, bufio, the HTTP/2 framer, both
// ends being in this process) stay under 128 KiB.
func checkPeaks(t *testing.T, before, peak hardening.Peaks, conns int) {
	t.Helper()
	gBound := before.Goroutines + 3*conns + 100
	hBound := before.HeapInuse + uint64(conns)*(128<<10) + 32<<20
	t.Logf("goroutines: baseline %d, peak %d (bound %d, %d connections); heap in use: baseline %.1f MiB, peak %.1f MiB (bound %.1f MiB); %d samples",
		before.Goroutines, peak.Goroutines, gBound, conns, before.HeapMiB(), peak.HeapMiB(), float64(hBound)/(1<<20), peak.Samples)
	if peak.Goroutines > gBound {
		t.Errorf("peak goroutines %d, want at most %d", peak.Goroutines, gBound)
	}
	if peak.HeapInuse > hBound {
		t.Errorf("peak heap in use %.1f MiB, want at most %.1f MiB", peak.HeapMiB(), float64(hBound)/(1<<20))
	}
}

// checkNoLeak waits for the goroutines to come back near the baseline.
func checkNoLeak(t *testing.T, before hardening.Peaks) {
	t.Helper()
	natstest.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		if g := runtime.NumGoroutine(); g > before.Goroutines+20 {
			return &countError{"goroutines after the attack", g, before.Goroutines + 20}
		}
		return nil
	})
}

type countError struct {
	what      string
	got, want int
}

func (e *countError) Error() string {
	return fmt.Sprintf("%s: %d, want at most %d", e.what, e.got, e.want)
}

// reportLatency logs the legitimate calls' latency during an attack beside
// the baseline and fails the test if any failed.
func reportLatency(t *testing.T, attack string, base, during *latencies) {
	t.Helper()
	bn, b50, b99, bmax := base.stats()
	dn, d50, d99, dmax := during.stats()
	t.Logf("legitimate calls: baseline n=%d p50=%v p99=%v max=%v; during %s n=%d p50=%v p99=%v max=%v",
		bn, b50.Round(time.Microsecond), b99.Round(time.Microsecond), bmax.Round(time.Microsecond),
		attack, dn, d50.Round(time.Microsecond), d99.Round(time.Microsecond), dmax.Round(time.Microsecond))
	for _, err := range during.failed {
		t.Errorf("legitimate call failed during %s: %v", attack, err)
	}
	if dn == 0 {
		t.Errorf("no legitimate call succeeded during %s", attack)
	}
}

// dialConcurrently makes n connections with dial, a few at a time. A dial
// that fails (a handshake past its timeout on a busy machine) is tried
// again, up to three times.
func dialConcurrently(t *testing.T, n int, dial func() (*slowConn, error)) []*slowConn {
	t.Helper()
	out := make([]*slowConn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			for range 3 {
				if out[i], errs[i] = dial(); errs[i] == nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for i, c := range out {
		if c == nil {
			t.Fatalf("dialing a slow connection: %v", errs[i])
		}
		t.Cleanup(func() { c.conn.Close() })
	}
	return out
}

// slowHello is a raw TCP connection that sends a real ClientHello one byte
// per tick: the server's clock is the TLS handshake timeout, from accept.
func slowHello(addr string, hello []byte) (*slowConn, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	s := &slowConn{kind: "tls-hello", conn: conn, start: time.Now()}
	for i := range hello {
		s.pieces = append(s.pieces, hello[i:i+1])
	}
	return s, nil
}

// slowHTTP1 is a TLS connection with the gateway's certificate that sends
// HTTP/1.1 header lines one byte per tick and never ends them: the
// server's clock is ReadHeaderTimeout, from the end of the handshake.
func slowHTTP1(t *testing.T, addr string) (*slowConn, error) {
	tc := gatewayTLS(t)
	tc.NextProtos = []string{"http/1.1"}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, tc)
	if err != nil {
		return nil, err
	}
	s := &slowConn{kind: "http1", conn: conn, start: time.Now()}
	head := []byte("POST " + callPath + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: ")
	s.pieces = append(s.pieces, head)
	for range 200 {
		s.pieces = append(s.pieces, []byte("a"))
	}
	return s, nil
}

// slowHTTP2 is a TLS connection with the gateway's certificate that sends
// the HTTP/2 preface and settings, then a HEADERS frame without
// END_HEADERS and one CONTINUATION frame of a byte per tick, never ending
// the header block: no stream starts, so the server's clock is IdleTimeout
// from the preface.
func slowHTTP2(t *testing.T, addr string) (*slowConn, error) {
	tc := gatewayTLS(t)
	tc.NextProtos = []string{http2.NextProtoTLS}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, tc)
	if err != nil {
		return nil, err
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "https"}, {":authority", "127.0.0.1"}, {":path", callPath}, {"x-slow", string(bytes.Repeat([]byte("a"), 300))}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	b := block.Bytes()
	var first bytes.Buffer
	first.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&first, nil)
	_ = fr.WriteSettings()
	_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:8]})
	s := &slowConn{kind: "http2", conn: conn, start: time.Now(), pieces: [][]byte{first.Bytes()}}
	for i := 8; i < len(b); i++ {
		var f bytes.Buffer
		_ = http2.NewFramer(&f, nil).WriteContinuation(1, false, b[i:i+1])
		s.pieces = append(s.pieces, f.Bytes())
	}
	return s, nil
}

// clientHello returns the first TLS record a gateway client sends: its
// ClientHello.
func clientHello(t *testing.T) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	tc := gatewayTLS(t)
	tc.ServerName = "127.0.0.1"
	go func() { _ = tls.Client(a, tc).Handshake() }()
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(b, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(b, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}
