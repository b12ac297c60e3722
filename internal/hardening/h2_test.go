package hardening_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Conn is a hand-driven HTTP/2 connection to the bridge over TLS with the
// gateway's certificate: it writes exactly the frames a test asks for, as
// an attacker would, with the x/net Framer.
type h2Conn struct {
	conn net.Conn
	fr   *http2.Framer
	buf  bytes.Buffer
	enc  *hpack.Encoder
	next uint32 // next client stream id
	// maxStreams is the server's SETTINGS_MAX_CONCURRENT_STREAMS.
	maxStreams uint32
}

// dialH2 connects, negotiates h2 by ALPN, sends the preface and settings,
// and acknowledges the server's settings.
func dialH2(t testing.TB, addr string) *h2Conn {
	t.Helper()
	tc := gatewayTLS(t)
	tc.NextProtos = []string{http2.NextProtoTLS}
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, tc)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	if p := conn.ConnectionState().NegotiatedProtocol; p != http2.NextProtoTLS {
		t.Fatalf("ALPN chose %q, want h2", p)
	}
	c := &h2Conn{conn: conn, next: 1}
	c.fr = http2.NewFramer(conn, conn)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = 1 << 20
	c.enc = hpack.NewEncoder(&c.buf)
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	if err := c.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	// Read up to the server's settings; acknowledge them.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the server's settings: %v", err)
		}
		sf, ok := f.(*http2.SettingsFrame)
		if !ok || sf.IsAck() {
			continue
		}
		if v, ok := sf.Value(http2.SettingMaxConcurrentStreams); ok {
			c.maxStreams = v
		}
		break
	}
	_ = conn.SetReadDeadline(time.Time{})
	if err := c.fr.WriteSettingsAck(); err != nil {
		t.Fatal(err)
	}
	return c
}

// block encodes a request's header block: method, path and "name", "value"
// pairs of regular fields.
func (c *h2Conn) block(method, path string, fields ...string) []byte {
	c.buf.Reset()
	_ = c.enc.WriteField(hpack.HeaderField{Name: ":method", Value: method})
	_ = c.enc.WriteField(hpack.HeaderField{Name: ":scheme", Value: "https"})
	_ = c.enc.WriteField(hpack.HeaderField{Name: ":authority", Value: "127.0.0.1"})
	_ = c.enc.WriteField(hpack.HeaderField{Name: ":path", Value: path})
	for i := 0; i+1 < len(fields); i += 2 {
		_ = c.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return bytes.Clone(c.buf.Bytes())
}

// open starts a stream with a whole header block; end closes the client's
// side (no body). It returns the stream id.
func (c *h2Conn) open(method, path string, end bool, fields ...string) (uint32, error) {
	id := c.next
	c.next += 2
	err := c.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID: id, BlockFragment: c.block(method, path, fields...), EndStream: end, EndHeaders: true,
	})
	return id, err
}

// h2Answer is what the server sent on one stream.
type h2Answer struct {
	status int
	header http.Header
	body   []byte
	reset  http2.ErrCode // RST_STREAM code, if the stream was reset
	done   bool          // ended by END_STREAM or RST_STREAM
}

// h2Result is what a read of the connection saw.
type h2Result struct {
	streams map[uint32]*h2Answer
	goAway  *http2.GoAwayFrame
	closed  error // the read error that ended the connection, if any
}

// readUntil reads frames until want streams are done, the connection ends
// or the deadline passes.
func (c *h2Conn) readUntil(want int, deadline time.Time) h2Result {
	r := h2Result{streams: map[uint32]*h2Answer{}}
	done := 0
	at := func(id uint32) *h2Answer {
		a, ok := r.streams[id]
		if !ok {
			a = &h2Answer{}
			r.streams[id] = a
		}
		return a
	}
	finish := func(a *h2Answer) {
		if !a.done {
			a.done = true
			done++
		}
	}
	_ = c.conn.SetReadDeadline(deadline)
	defer func() { _ = c.conn.SetReadDeadline(time.Time{}) }()
	for done < want {
		f, err := c.fr.ReadFrame()
		if err != nil {
			r.closed = err
			return r
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			a := at(f.StreamID)
			if s, err := strconv.Atoi(f.PseudoValue("status")); err == nil {
				a.status = s
			}
			a.header = http.Header{}
			for _, hf := range f.RegularFields() {
				a.header.Add(hf.Name, hf.Value)
			}
			if f.StreamEnded() {
				finish(a)
			}
		case *http2.DataFrame:
			a := at(f.StreamID)
			a.body = append(a.body, f.Data()...)
			if n := len(f.Data()); n > 0 {
				_ = c.fr.WriteWindowUpdate(0, uint32(n))
				_ = c.fr.WriteWindowUpdate(f.StreamID, uint32(n))
			}
			if f.StreamEnded() {
				finish(a)
			}
		case *http2.RSTStreamFrame:
			a := at(f.StreamID)
			a.reset = f.ErrCode
			finish(a)
		case *http2.GoAwayFrame:
			r.goAway = f
			if f.ErrCode != http2.ErrCodeNo {
				// The connection is refused; the server closes it soon.
				return r
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = c.fr.WritePing(true, f.Data)
			}
		}
	}
	return r
}

// isTimeout reports whether err is a read deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// send starts a stream with a whole header block and, when body is not
// empty, one DATA frame holding it; the client's side ends with it.
func (c *h2Conn) send(method, path, body string, fields ...string) (uint32, error) {
	if body == "" {
		return c.open(method, path, true, fields...)
	}
	id, err := c.open(method, path, false, append(fields, "content-length", strconv.Itoa(len(body)))...)
	if err != nil {
		return id, err
	}
	return id, c.fr.WriteData(id, true, []byte(body))
}

// writeBlock sends a header block of any size as a HEADERS frame and as
// many CONTINUATION frames as the server's 16 KiB frame size needs.
func (c *h2Conn) writeBlock(id uint32, block []byte, end bool) error {
	const maxFrame = 16 << 10
	first := block[:min(len(block), maxFrame)]
	rest := block[len(first):]
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID: id, BlockFragment: first, EndStream: end, EndHeaders: len(rest) == 0,
	}); err != nil {
		return err
	}
	for len(rest) > 0 {
		n := min(len(rest), maxFrame)
		if err := c.fr.WriteContinuation(id, n == len(rest), rest[:n]); err != nil {
			return err
		}
		rest = rest[n:]
	}
	return nil
}
