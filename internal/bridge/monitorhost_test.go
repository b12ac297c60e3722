package bridge_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The monitoring listener answers only requests addressed to a loopback
// name or address and made by no page, or by a page, of a loopback origin:
// a page of another site that rebinds its name to 127.0.0.1 is refused
// (421 for its Host, 403 for its Origin) with the JSON error envelope,
// over HTTP/1.1 and HTTP/2, on every endpoint, the live stream included.
func TestMonitorRefusesForeignHostAndOrigin(t *testing.T) {
	t.Parallel()
	m := startMesh(t, nil)
	base := startMonitor(t, m)
	port := strings.TrimPrefix(base, "http://127.0.0.1:")
	clients := map[string]*http.Client{"HTTP/1.1": h1Client(t), "HTTP/2": h2cClient(t)}

	tests := []struct {
		host, origin string
		wantStatus   int
	}{
		{"127.0.0.1:" + port, "", 200},
		{"localhost:" + port, "", 200},
		{"LOCALHOST", "", 200},
		{"127.9.8.7:" + port, "", 200},
		{"[::1]:" + port, "", 200},
		{"localhost:" + port, "http://localhost:" + port, 200},
		{"127.0.0.1:" + port, "http://127.0.0.1:" + port, 200},
		{"[::1]:" + port, "https://[::1]", 200},
		{"evil.example", "", 421},
		{"evil.example:" + port, "", 421},
		{"localhost.evil.example:" + port, "", 421},
		{"127.0.0.1.nip.io:" + port, "", 421},
		{"10.0.0.1:" + port, "", 421},
		{"[::2]:" + port, "", 421},
		{"0.0.0.0:" + port, "", 421},
		{"localhost:" + port, "http://evil.example", 403},
		{"localhost:" + port, "null", 403},
		{"127.0.0.1:" + port, "http://127.0.0.1.evil.example:" + port, 403},
		{"127.0.0.1:" + port, "file://", 403},
	}
	for proto, c := range clients {
		for _, path := range []string{"/v1/breakers", "/v1/traces/live", "/healthz", "/ui"} {
			for _, tt := range tests {
				if path == "/v1/traces/live" && tt.wantStatus == 200 {
					continue // a stream; its refusals are what matter here
				}
				t.Run(proto+" "+path+" Host "+tt.host+" Origin "+tt.origin, func(t *testing.T) {
					req, err := http.NewRequest("GET", base+path, nil)
					if err != nil {
						t.Fatal(err)
					}
					req.Host = tt.host
					if tt.origin != "" {
						req.Header.Set("Origin", tt.origin)
					}
					res, err := c.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(res.Body)
					res.Body.Close()
					r := response{status: res.StatusCode, header: res.Header, body: body}
					if r.status != tt.wantStatus {
						t.Fatalf("got %d %.200s, want %d", r.status, body, tt.wantStatus)
					}
					if tt.wantStatus == 200 {
						return
					}
					want := map[int]string{421: "is not a loopback name", 403: "is not a loopback origin"}[tt.wantStatus]
					if e := errorOf(t, r); !strings.Contains(e.Message, want) || e.TraceID == "" {
						t.Errorf("error %+v, want one saying %q with a trace id", e, want)
					}
				})
			}
		}
	}

	// HTTP/1.0 may send no Host at all: refused too.
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "GET /v1/breakers HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 421 {
		t.Errorf("no Host: got %d, want 421", res.StatusCode)
	}
}
