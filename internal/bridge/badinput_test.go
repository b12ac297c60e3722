package bridge_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/bridge"
)

// TestBadInputIsRefusedBeforeAnythingIsPublished sends every kind of bad
// request and checks the JSON error, its status and message, and that no
// message was published on the mesh.
func TestBadInputIsRefusedBeforeAnythingIsPublished(t *testing.T) {
	t.Parallel()
	m := startMesh(t, func(c *bridge.Config) { c.MaxBodyBytes = 1024 })
	rawBooth(t, m, `{}`)
	w := m.watch(t)

	// A valid call proves the watcher sees what the bridge publishes.
	if res := m.post(t, "/v1/call/fee-calc/calculate", `{}`); res.status != 200 {
		t.Fatalf("valid call: status %d (body %s)", res.status, res.body)
	}
	if svc, _ := w.published(t, m); len(svc) != 1 || svc[0] != "svc.fee-calc.calculate" {
		t.Fatalf("valid call published %v, want [svc.fee-calc.calculate]", svc)
	}

	const call = "/v1/call/fee-calc/calculate"
	const ct = "Content-Type: application/json"
	big := `{"pad":"` + strings.Repeat("x", 2000) + `"}`
	tests := []struct {
		name, method, path, body string
		hdr                      []string
		wantStatus               int
		wantMsg                  string
	}{
		{"malformed JSON", "POST", call, `{"license_type":`, []string{ct}, 400, "not valid JSON"},
		{"bad token", "POST", call, `{"a":tru}`, []string{ct}, 400, "invalid character"},
		{"empty body", "POST", call, "", []string{ct}, 400, "request body is empty"},
		{"blank body", "POST", call, " \n ", []string{ct}, 400, "request body is empty"},
		{"trailing data", "POST", call, `{} {}`, []string{ct}, 400, "data after the JSON value"},
		{"unknown service", "POST", "/v1/call/no-such/calculate", `{}`, []string{ct}, 404, `unknown service "no-such"`},
		{"unknown path", "POST", "/v1/call/fee-calc/nope", `{}`, []string{ct}, 404, `service "fee-calc" has no path /nope`},
		{"no service", "POST", "/v1/call/", `{}`, []string{ct}, 400, "names no service"},
		{"no path", "POST", "/v1/call/fee-calc", `{}`, []string{ct}, 400, "path is empty"},
		{"dot in service", "POST", "/v1/call/a.b/calculate", `{}`, []string{ct}, 400, "'.' is not allowed"},
		{"dot in path", "POST", "/v1/call/fee-calc/a.b", `{}`, []string{ct}, 400, "'.' is not allowed"},
		{"dot dot", "POST", "/v1/call/fee-calc/../calculate", `{}`, []string{ct}, 400, "'.' is not allowed"},
		{"star service", "POST", "/v1/call/*/calculate", `{}`, []string{ct}, 400, "wildcard"},
		{"star path", "POST", "/v1/call/fee-calc/*", `{}`, []string{ct}, 400, "wildcard"},
		{"gt path", "POST", "/v1/call/fee-calc/>", `{}`, []string{ct}, 400, "wildcard"},
		{"gt encoded", "POST", "/v1/call/fee-calc/%3E", `{}`, []string{ct}, 400, "wildcard"},
		{"space", "POST", "/v1/call/fee-calc/a%20b", `{}`, []string{ct}, 400, "whitespace"},
		{"tab", "POST", "/v1/call/fee-calc/a%09b", `{}`, []string{ct}, 400, "whitespace"},
		{"$SYS service", "POST", "/v1/call/$SYS/calculate", `{}`, []string{ct}, 400, "'$'-prefixed tokens are reserved"},
		{"$SYS path", "POST", "/v1/call/fee-calc/$SYS", `{}`, []string{ct}, 400, "'$'-prefixed tokens are reserved"},
		{"_INBOX service", "POST", "/v1/call/_INBOX/x", `{}`, []string{ct}, 400, "service name must match"},
		{"reserved service", "POST", "/v1/call/trace/x", `{}`, []string{ct}, 400, "reserved by the mesh"},
		{"encoded dot", "POST", "/v1/call/fee-calc/a%2Eb", `{}`, []string{ct}, 400, "encoded '.' (%2E)"},
		{"encoded dot dot", "POST", "/v1/call/fee-calc/%2E%2E/x", `{}`, []string{ct}, 400, "encoded '.' (%2E)"},
		{"encoded slash", "POST", "/v1/call/fee-calc/a%2Fcalculate", `{}`, []string{ct}, 400, "encoded '/' (%2F)"},
		{"encoded service", "POST", "/v1/call/fee%2Dcalc/calculate", `{}`, []string{ct}, 400, "percent-encoding is not allowed"},
		{"empty segment", "POST", "/v1/call/fee-calc/a//b", `{}`, []string{ct}, 400, "path segment is empty"},
		{"trailing slash", "POST", "/v1/call/fee-calc/calculate/", `{}`, []string{ct}, 400, "path segment is empty"},
		{"17 segments", "POST", "/v1/call/fee-calc" + strings.Repeat("/a", 17), `{}`, []string{ct}, 400, "more than 16 segments"},
		{"long segment", "POST", "/v1/call/fee-calc/" + strings.Repeat("a", 65), `{}`, []string{ct}, 400, "longer than 64"},
		{"body over limit", "POST", call, big, []string{ct}, 413, "larger than 1024 bytes"},
		{"no content type", "POST", call, `{}`, nil, 415, "Content-Type is missing"},
		{"text/plain", "POST", call, `{}`, []string{"Content-Type: text/plain"}, 415, `"text/plain" is not supported`},
		{"form", "POST", call, `{}`, []string{"Content-Type: application/x-www-form-urlencoded"}, 415, "not supported"},
		{"latin1", "POST", call, `{}`, []string{"Content-Type: application/json; charset=latin1"}, 415, `charset "latin1"`},
		{"GET on call", "GET", call, "", nil, 405, "method GET is not allowed"},
		{"PUT on call", "PUT", call, `{}`, []string{ct}, 405, "use POST"},
		{"bad request id", "POST", call, `{}`, []string{ct, "Idempotency-Key: 1234"}, 400, "is not a UUID"},
		{"braced request id", "POST", call, `{}`, []string{ct, "Svc-Request-Id: {5b0f3c52-8f0b-4c3e-9a55-2b8f6e1d0a11}"}, 400, "is not a UUID"},
		{"ids disagree", "POST", call, `{}`, []string{ct, "Idempotency-Key: 5b0f3c52-8f0b-4c3e-9a55-2b8f6e1d0a11", "Svc-Request-Id: 6b0f3c52-8f0b-4c3e-9a55-2b8f6e1d0a11"}, 400, "disagree"},
		{"bad timeout", "POST", call, `{}`, []string{ct, "Svc-Timeout-Ms: soon"}, 400, "Svc-Timeout-Ms"},
		{"zero timeout", "POST", call, `{}`, []string{ct, "Svc-Timeout-Ms: 0"}, 400, "positive"},
		{"POST on services", "POST", "/v1/services", `{}`, []string{ct}, 405, "use GET, HEAD"},
		{"unknown route", "GET", "/v2/call/fee-calc/calculate", "", nil, 404, "no such endpoint"},
		{"bad service name", "GET", "/v1/services/a.b", "", nil, 400, "'.' is not allowed"},
		{"bad license id", "GET", "/v1/licenses/a.b", "", nil, 400, "must match [A-Za-z0-9-]{1,64}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := m.do(t, tt.method, tt.path, tt.body, tt.hdr...)
			if res.proto != 2 {
				t.Errorf("answered over HTTP/%d, want 2", res.proto)
			}
			e := errorOf(t, res)
			if res.status != tt.wantStatus || !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("got %d %q, want %d containing %q", res.status, e.Message, tt.wantStatus, tt.wantMsg)
			}
			if tt.wantStatus == 405 && res.header.Get("Allow") == "" {
				t.Errorf("405 without an Allow header")
			}
			if svc, other := w.published(t, m); len(svc)+len(other) != 0 {
				t.Errorf("published %v %v, want nothing", svc, other)
			}
		})
	}
}

// TestBodyOverLimitWithoutLengthIs413 streams a body of unknown length, so
// only the reader's limit can stop it.
func TestBodyOverLimitWithoutLengthIs413(t *testing.T) {
	t.Parallel()
	m := startMesh(t, func(c *bridge.Config) { c.MaxBodyBytes = 1024 })
	rawBooth(t, m, `{}`)
	w := m.watch(t)
	body := io.MultiReader(strings.NewReader(`{"pad":"`), strings.NewReader(strings.Repeat("x", 4096)), strings.NewReader(`"}`))
	req, err := http.NewRequest("POST", m.url+"/v1/call/fee-calc/calculate", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := m.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if req.ContentLength != 0 {
		t.Fatalf("request had a length %d; want it unknown", req.ContentLength)
	}
	e := errorOf(t, response{status: res.StatusCode, header: res.Header, body: data})
	if res.StatusCode != 413 || !strings.Contains(e.Message, "larger than 1024") {
		t.Errorf("got %d %q, want 413", res.StatusCode, e.Message)
	}
	if svc, other := w.published(t, m); len(svc)+len(other) != 0 {
		t.Errorf("published %v %v, want nothing", svc, other)
	}
}
