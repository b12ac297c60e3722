package hardening_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// dialH1 connects over TLS with the gateway's certificate, negotiating
// HTTP/1.1 by ALPN.
func dialH1(t testing.TB, addr string) *tls.Conn {
	t.Helper()
	tc := gatewayTLS(t)
	tc.NextProtos = []string{"http/1.1"}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, tc)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// rawHTTP1 writes req as given on a new HTTP/1.1 connection and returns the
// status and body of the answer.
func rawHTTP1(t *testing.T, addr, req string) (int, string) {
	t.Helper()
	conn := dialH1(t, addr)
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", req, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}
