package hardening_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/hms-svc/hms-svc/internal/bridge"
)

// badInput is one hostile request and the refusal it must get.
type badInput struct {
	name, method, path string
	body               string
	hdr                []string
	wantStatus         int
	wantMsg            string
}

// padded returns a fee-calc request of exactly n bytes.
func padded(n int) string {
	const pre, post = `{"license_type":"architect","pad":"`, `"}`
	return pre + strings.Repeat("x", n-len(pre)-len(post)) + post
}

// TestBadInputBattery sends every kind of malformed request to the secure
// bridge over HTTP/2 and checks, for each, a JSON error with a 4xx status
// whose message names the problem, that nothing was published on the mesh
// (the watcher sees every subject), and that the bridge is alive: a
// legitimate call made right after succeeds and is seen by the watcher.
func TestBadInputBattery(t *testing.T) {
	m := startMesh(t, nil)
	w := m.watch(t)
	limit := int(m.bridge.MaxBodyBytes())
	const ct = "Content-Type: application/json"
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	tests := []badInput{
		{name: "truncated JSON", body: `{"license_type":"profess`, wantStatus: 400, wantMsg: "truncated JSON value"},
		{name: "truncated object", body: `{"license_type":`, wantStatus: 400, wantMsg: "not valid JSON"},
		{name: "trailing JSON value", body: goodBody + ` {"x":1}`, wantStatus: 400, wantMsg: "data after the JSON value"},
		{name: "trailing garbage", body: goodBody + `x`, wantStatus: 400, wantMsg: "data after the JSON value"},
		{name: "invalid UTF-8", body: "{\"license_type\":\"\xff\xfe\"}", wantStatus: 400, wantMsg: "UTF-8"},
		{name: "10,000 levels of nesting", body: deep, wantStatus: 400, wantMsg: "nest"},
		{name: "10,001 levels of nesting", body: "[" + deep + "]", wantStatus: 400, wantMsg: "exceeded max depth"},
		{name: "number 1e999999", body: `{"license_type":"architect","fee":1e999999}`, wantStatus: 400, wantMsg: "number"},
		{name: "10k-digit integer", body: `{"license_type":"architect","fee":` + strings.Repeat("9", 10000) + `}`, wantStatus: 400, wantMsg: "number"},
		{name: "empty body", wantStatus: 400, wantMsg: "request body is empty"},
		{name: "blank body", body: " \r\n\t ", wantStatus: 400, wantMsg: "request body is empty"},
		{name: "body one byte over the limit", body: padded(limit + 1), wantStatus: 413, wantMsg: "request body is larger than"},
		{name: "no content type", body: goodBody, hdr: []string{}, wantStatus: 415, wantMsg: "Content-Type is missing"},
		{name: "text/plain", body: goodBody, hdr: []string{"Content-Type: text/plain"}, wantStatus: 415, wantMsg: `"text/plain" is not supported`},
		{name: "latin1 charset", body: goodBody, hdr: []string{"Content-Type: application/json; charset=latin1"}, wantStatus: 415, wantMsg: `charset "latin1"`},
		{name: "malformed content type", body: goodBody, hdr: []string{"Content-Type: application/json; ;"}, wantStatus: 415, wantMsg: "malformed"},
		{name: "GET on a call", method: "GET", hdr: []string{}, wantStatus: 405, wantMsg: "method GET is not allowed"},
		{name: "PUT on a call", method: "PUT", body: goodBody, wantStatus: 405, wantMsg: "use POST"},
		{name: "DELETE on a call", method: "DELETE", wantStatus: 405, wantMsg: "use POST"},
		{name: "POST on services", path: "/v1/services", body: goodBody, wantStatus: 405, wantMsg: "use GET, HEAD"},
		{name: "dot in service", path: "/v1/call/a.b/calculate", body: goodBody, wantStatus: 400, wantMsg: "'.' is not allowed"},
		{name: "dot in path", path: "/v1/call/fee-calc/a.b", body: goodBody, wantStatus: 400, wantMsg: "'.' is not allowed"},
		{name: "star service", path: "/v1/call/*/calculate", body: goodBody, wantStatus: 400, wantMsg: "wildcard"},
		{name: "star path", path: "/v1/call/fee-calc/*", body: goodBody, wantStatus: 400, wantMsg: "wildcard"},
		{name: "gt service", path: "/v1/call/>/calculate", body: goodBody, wantStatus: 400, wantMsg: "wildcard"},
		{name: "gt path", path: "/v1/call/fee-calc/>", body: goodBody, wantStatus: 400, wantMsg: "wildcard"},
		{name: "a..b", path: "/v1/call/fee-calc/a..b", body: goodBody, wantStatus: 400, wantMsg: "'.' is not allowed"},
		{name: "dot dot segment", path: "/v1/call/fee-calc/../calculate", body: goodBody, wantStatus: 400, wantMsg: "'.' is not allowed"},
		{name: "dot dot service", path: "/v1/call/../fee-calc/calculate", body: goodBody, wantStatus: 400, wantMsg: "'.' is not allowed"},
		{name: "x y encoded", path: "/v1/call/fee-calc/x%20y", body: goodBody, wantStatus: 400, wantMsg: "whitespace"},
		{name: "CR LF encoded", path: "/v1/call/fee-calc/a%0D%0Ab", body: goodBody, wantStatus: 400, wantMsg: `decodes to "a\r\nb"`},
		{name: "$SYS service", path: "/v1/call/$SYS/calculate", body: goodBody, wantStatus: 400, wantMsg: "'$'-prefixed tokens are reserved"},
		{name: "$SYS path", path: "/v1/call/fee-calc/$SYS", body: goodBody, wantStatus: 400, wantMsg: "'$'-prefixed tokens are reserved"},
		{name: "_INBOX service", path: "/v1/call/_INBOX/calculate", body: goodBody, wantStatus: 400, wantMsg: "service name must match"},
		{name: "_INBOX path", path: "/v1/call/fee-calc/_INBOX", body: goodBody, wantStatus: 404, wantMsg: `has no path /_INBOX`},
		{name: "encoded dot", path: "/v1/call/fee-calc/a%2Eb", body: goodBody, wantStatus: 400, wantMsg: "encoded '.' (%2E)"},
		{name: "encoded lower-case dot", path: "/v1/call/fee-calc/a%2eb", body: goodBody, wantStatus: 400, wantMsg: "encoded '.' (%2E)"},
		{name: "encoded dot dot", path: "/v1/call/fee-calc/%2E%2E/calculate", body: goodBody, wantStatus: 400, wantMsg: "encoded '.' (%2E)"},
		{name: "encoded slash", path: "/v1/call/fee-calc/a%2Fcalculate", body: goodBody, wantStatus: 400, wantMsg: "encoded '/' (%2F)"},
		{name: "encoded slash in service", path: "/v1/call/fee-calc%2Fcalculate", body: goodBody, wantStatus: 400, wantMsg: "encoded '/' (%2F)"},
		{name: "17 segments", path: "/v1/call/fee-calc" + strings.Repeat("/a", 17), body: goodBody, wantStatus: 400, wantMsg: "more than 16 segments"},
		{name: "unknown service", path: "/v1/call/no-such-booth/calculate", body: goodBody, wantStatus: 404, wantMsg: `unknown service "no-such-booth"`},
		{name: "unknown path", path: "/v1/call/fee-calc/refund", body: goodBody, wantStatus: 404, wantMsg: `service "fee-calc" has no path /refund`},
		{name: "unknown route", method: "GET", path: "/v2/call/fee-calc/calculate", hdr: []string{}, wantStatus: 404, wantMsg: "no such endpoint"},
		{name: "request id not a UUID", body: goodBody, hdr: []string{ct, "Idempotency-Key: 42"}, wantStatus: 400, wantMsg: "is not a UUID"},
		{name: "negative timeout", body: goodBody, hdr: []string{ct, "Svc-Timeout-Ms: -1"}, wantStatus: 400, wantMsg: "Svc-Timeout-Ms"},
	}
	for _, tt := range tests {
		tt = tt.withDefaults(ct)
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			res, err := do(m.client, tt.method, m.url+tt.path, body, tt.hdr...)
			if err != nil {
				t.Fatalf("%s %s: %v", tt.method, tt.path, err)
			}
			if res.proto != 2 {
				t.Errorf("answered over HTTP/%d, want 2", res.proto)
			}
			judge(t, m, w, tt, refusalProblem(res, tt.wantStatus, tt.wantMsg))
		})
	}
}

func (b badInput) withDefaults(ct string) badInput {
	if b.method == "" {
		b.method = "POST"
	}
	if b.path == "" {
		b.path = callPath
	}
	if b.hdr == nil {
		b.hdr = []string{ct}
	}
	return b
}

// judge fails the test for a refusal problem or for anything published,
// then checks the bridge still serves.
func judge(t *testing.T, m *fixture, w *watcher, tt badInput, problem error) {
	t.Helper()
	svc, other := w.published(t, m)
	if len(svc)+len(other) != 0 {
		problem = errors.Join(problem, fmt.Errorf("published %v %v, want nothing", svc, other))
	}
	if err := m.goodCall(t); err != nil {
		t.Fatalf("bridge not serving after the bad request: %v", err)
	}
	if svc, _ := w.published(t, m); len(svc) != 1 || svc[0] != "svc.fee-calc.calculate" {
		t.Fatalf("the legitimate call published %v, want [svc.fee-calc.calculate]", svc)
	}
	if problem != nil {
		t.Error(problem)
	}
}

// TestRawRequestsRefusedBeforeTheBridge sends what no well-behaved client
// can: raw spaces, CR/LF and broken escapes in the HTTP/2 :path and header
// values, and the same on HTTP/1.1. net/http refuses these before the
// bridge's handler runs, with a 400 of its own (not JSON) or a stream
// reset; each must publish nothing and leave the bridge serving.
func TestRawRequestsRefusedBeforeTheBridge(t *testing.T) {
	m := startMesh(t, nil)
	w := m.watch(t)
	ctype := []string{"content-type", "application/json"}
	tests := []struct {
		name, path string
		fields     []string
		wantStatus int // 0: a 4xx, a stream reset or a connection error
		wantMsg    string
	}{
		{"x y raw", "/v1/call/fee-calc/x y", ctype, 400, "whitespace"},
		{"CR LF raw", "/v1/call/fee-calc/a\r\nb", ctype, 0, ""},
		{"NUL raw", "/v1/call/fee-calc/a\x00b", ctype, 0, ""},
		{"malformed escape", "/v1/call/fee-calc/a%zz", ctype, 0, ""},
		{"CR LF in a header", callPath, append(ctype, "svc-request-id", "a\r\nb"), 0, ""},
		{"no leading slash", "v1/call/fee-calc/calculate", ctype, 0, ""},
		{"absolute URL", "https://127.0.0.1/v1/call/fee-calc/a.b", ctype, 400, "'.' is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialH2(t, m.addr)
			if _, err := c.send("POST", tt.path, goodBody, tt.fields...); err != nil {
				t.Fatal(err)
			}
			r := c.readUntil(1, time.Now().Add(5*time.Second))
			var a *h2Answer
			for _, a = range r.streams {
			}
			switch {
			case a == nil && (r.goAway != nil || r.closed != nil && !isTimeout(r.closed)) && tt.wantStatus == 0:
				t.Logf("refused with a connection error: GOAWAY %v, then %v", goAwayCode(r.goAway), r.closed)
			case a == nil:
				t.Errorf("no answer: GOAWAY %v, connection %v", goAwayCode(r.goAway), r.closed)
			case a.reset != 0 && tt.wantStatus == 0:
				t.Logf("refused with a stream reset: %v", a.reset)
			case tt.wantStatus == 0 && a.status >= 400 && a.status <= 499:
				t.Logf("refused by net/http: %d %q", a.status, clip(a.body))
			default:
				if err := refusalProblem(response{status: a.status, header: a.header, body: a.body}, tt.wantStatus, tt.wantMsg); err != nil {
					t.Errorf("%v (reset %v)", err, a.reset)
				}
			}
			judge(t, m, w, badInput{}, nil)
		})
	}
	t.Run("HTTP/1.1", func(t *testing.T) {
		for _, line := range []string{
			"POST /v1/call/fee-calc/x y HTTP/1.1",
			"POST /v1/call/fee-calc/a\rb HTTP/1.1",
			"POST /v1/call/fee-calc/a%zz HTTP/1.1",
		} {
			status, body := rawHTTP1(t, m.addr, line+"\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
			if status != 400 {
				t.Errorf("%q: got %d %q, want 400", line, status, body)
			}
			judge(t, m, w, badInput{}, nil)
		}
	})
}

// refusalProblem says how res differs from a JSON error with status want
// whose message contains msg, or returns nil.
func refusalProblem(res response, want int, msg string) error {
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("got %d with Content-Type %q (%s), want a JSON error %d", res.status, ct, clip(res.body), want)
	}
	var e bridge.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(res.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return fmt.Errorf("got %d %s, want a JSON error %d: %v", res.status, clip(res.body), want, err)
	}
	if res.status != want || e.Error.Code != want || !strings.Contains(e.Error.Message, msg) {
		return fmt.Errorf("got %d (code %d) %q, want %d containing %q", res.status, e.Error.Code, e.Error.Message, want, msg)
	}
	return nil
}

// TestBodyAtTheLimitIsAccepted sends a body of exactly the limit (served)
// and one of unknown length one byte past it (413: only the reader's limit
// can stop it).
func TestBodyAtTheLimitIsAccepted(t *testing.T) {
	m := startMesh(t, nil)
	w := m.watch(t)
	limit := int(m.bridge.MaxBodyBytes())
	res, err := do(m.client, "POST", m.url+callPath, strings.NewReader(padded(limit)), "Content-Type: application/json")
	if err != nil {
		t.Fatal(err)
	}
	if res.status != 200 || !strings.Contains(string(res.body), `"license_type":"architect"`) {
		t.Errorf("body of exactly %d bytes: got %d %s, want 200 from fee-calc", limit, res.status, clip(res.body))
	}
	if svc, _ := w.published(t, m); len(svc) != 1 {
		t.Errorf("body at the limit: published %v, want one request", svc)
	}

	over := io.MultiReader(strings.NewReader(padded(limit)), strings.NewReader(" "))
	req, err := http.NewRequest("POST", m.url+callPath, io.NopCloser(over))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	hres, err := m.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(hres.Body)
	hres.Body.Close()
	if req.ContentLength != 0 {
		t.Fatalf("request had a length %d; want it unknown", req.ContentLength)
	}
	problem := refusalProblem(response{status: hres.StatusCode, header: hres.Header, body: data}, 413, "request body is larger than")
	judge(t, m, w, badInput{}, problem)
}

// clip shortens a body for a message.
func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// goAwayCode names a GOAWAY's error code, or "none".
func goAwayCode(f *http2.GoAwayFrame) string {
	if f == nil {
		return "none"
	}
	return f.ErrCode.String()
}
