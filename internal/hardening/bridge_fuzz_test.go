package hardening_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/hms-svc/hms-svc/internal/bridge"
)

// fuzzBodyLimit is the fuzzed bridge's body limit, small so that it is
// reached.
const fuzzBodyLimit = 4096

// FuzzBridgeRequest sends the secure bridge, over real HTTP/2 with the
// gateway's certificate, requests whose method, path, Content-Type,
// Svc-Timeout-Ms, Idempotency-Key and body are fuzzed, while a watcher
// sees every subject published. For every request the client can send it
// checks: an answer (the bridge never drops the stream), 200 or a JSON
// error whose code is the status (never 500), and that a request reaches
// the mesh only when it is a POST to the one known call with a JSON body
// within the limit; at most one request per call, and every 200 to a call
// answers a published request.
func FuzzBridgeRequest(f *testing.F) {
	const ct = "application/json"
	for _, s := range []struct {
		method, path, ctype, timeout, key, body string
	}{
		{"POST", callPath, ct, "", "", goodBody},
		{"POST", callPath, ct + "; charset=utf-8", "250", "5b0f3c52-8f0b-4c3e-9a55-2b8f6e1d0a11", goodBody},
		{"POST", callPath, ct, "", "", `{"license_type":"professional-engineer"} {}`},
		{"POST", callPath, ct, "", "", `{"license_type":"\xff"}`},
		{"POST", callPath, "text/plain", "", "", goodBody},
		{"GET", callPath, "", "", "", ""},
		{"POST", "/v1/call/fee-calc/a.b", ct, "", "", goodBody},
		{"POST", "/v1/call/fee-calc/%2E%2E/calculate", ct, "", "", goodBody},
		{"POST", "/v1/call/fee-calc/>", ct, "", "", goodBody},
		{"POST", "/v1/call/$SYS/x", ct, "", "", goodBody},
		{"POST", "/v1/call/no-such/calculate", ct, "", "", goodBody},
		{"POST", callPath, ct, "0", "", goodBody},
		{"POST", callPath, ct, "", "42", goodBody},
		{"GET", "/v1/services/fee-calc", "", "", "", ""},
		{"GET", "/v1/licenses/../x", "", "", "", ""},
		{"POST", callPath, ct, "", "", padded(fuzzBodyLimit + 1)},
	} {
		f.Add(s.method, s.path, s.ctype, s.timeout, s.key, []byte(s.body))
	}
	m := startMesh(f, func(c *bridge.Config) {
		c.MaxBodyBytes = fuzzBodyLimit
		c.DiscoveryWindow, c.DiscoveryQuiet = 20*time.Millisecond, 5*time.Millisecond
	})
	w := m.watch(f)
	f.Fuzz(func(t *testing.T, method, path, ctype, timeout, key string, body []byte) {
		if !httpguts.ValidHeaderFieldName(method) || method == "CONNECT" {
			return // not a method a client can send
		}
		for _, v := range []string{ctype, timeout, key} {
			if !httpguts.ValidHeaderFieldValue(v) {
				return
			}
		}
		u, err := url.Parse(m.url + "/" + strings.TrimPrefix(path, "/"))
		if err != nil || u.Host != m.addr || u.RawQuery != "" || u.Fragment != "" {
			return
		}
		req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
		if err != nil {
			return
		}
		for _, h := range [][2]string{{"Content-Type", ctype}, {"Svc-Timeout-Ms", timeout}, {"Idempotency-Key", key}} {
			if h[1] != "" {
				req.Header.Set(h[0], h[1])
			}
		}
		res, err := m.client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: no answer: %v", method, u.EscapedPath(), err)
		}
		data, err := readAll(res)
		if err != nil {
			t.Fatalf("%s %s: reading the answer: %v", method, u.EscapedPath(), err)
		}
		svc := w.requestsNow(t, m)

		if res.StatusCode != 200 {
			if err := errorAnswer(res, data); err != nil {
				t.Fatalf("%s %s: %v", method, u.EscapedPath(), err)
			}
		}
		switch {
		case res.StatusCode == 500:
			t.Fatalf("%s %s: 500 %s", method, u.EscapedPath(), data)
		case res.StatusCode == 200 && strings.HasPrefix(u.EscapedPath(), "/v1/call/") && len(svc) != 1:
			t.Fatalf("%s %s: 200 but published %v", method, u.EscapedPath(), svc)
		case len(svc) > 1 || len(svc) == 1 && svc[0] != "svc.fee-calc.calculate":
			t.Fatalf("%s %s: published %v", method, u.EscapedPath(), svc)
		case len(svc) == 1:
			if why := notACall(method, u, ctype, body); why != "" {
				t.Fatalf("%s %s (Content-Type %q, %d bytes) was published although %s", method, u.EscapedPath(), ctype, len(body), why)
			}
		}
	})
}

// notACall says why a request is not one the bridge may publish, or "".
func notACall(method string, u *url.URL, ctype string, body []byte) string {
	mt, params, err := mime.ParseMediaType(ctype)
	switch {
	case method != "POST":
		return "its method is " + method
	case u.EscapedPath() != callPath:
		return "its path is not " + callPath
	case err != nil || mt != "application/json":
		return "it is not application/json"
	case params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8"):
		return "its charset is " + params["charset"]
	case len(body) > fuzzBodyLimit:
		return "its body is over the limit"
	case !json.Valid(body):
		return "its body is not JSON"
	}
	return ""
}

// errorAnswer checks a refusal is a JSON error whose code is its status.
func errorAnswer(res *http.Response, data []byte) error {
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		return errors.New(res.Status + " with Content-Type " + ct + ": " + clip(data))
	}
	var e bridge.ErrorBody
	if err := json.Unmarshal(data, &e); err != nil || e.Error.Code != res.StatusCode || e.Error.Message == "" {
		return errors.New(res.Status + " with body " + clip(data) + ", want a JSON error of that code")
	}
	return nil
}

func readAll(res *http.Response) ([]byte, error) {
	defer res.Body.Close()
	var b bytes.Buffer
	_, err := b.ReadFrom(res.Body)
	return b.Bytes(), err
}
