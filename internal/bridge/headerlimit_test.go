package bridge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// One header limit, one answer: a header block past the bridge's limit
// (64 KiB, counted as HTTP/2 counts a header list: name, value and 32 per
// field) gets the same JSON 431 over HTTP/1.1 and HTTP/2, before anything
// is published; a block under it is served on both.
func TestHeaderLimitIsTheSameOnBothProtocols(t *testing.T) {
	t.Parallel()
	m := startMesh(t, nil)
	rawBooth(t, m, `{}`)
	w := m.watch(t)
	many := make([]string, 0, 1800)
	for i := range 1800 {
		many = append(many, fmt.Sprintf("X-H-%04d: v", i))
	}
	tests := []struct {
		name       string
		hdr        []string
		wantStatus int
	}{
		{"one 66 KB field", []string{"X-Big: " + strings.Repeat("a", 66000)}, 431},
		{"1,800 small fields (74 KB as a header list)", many, 431},
		{"one 60 KB field, under the limit", []string{"X-Big: " + strings.Repeat("a", 60000)}, 200},
	}
	for _, proto := range []struct {
		name   string
		client *http.Client
		major  int
	}{{"HTTP/1.1", h1Client(t), 1}, {"HTTP/2", m.client, 2}} {
		for _, tt := range tests {
			t.Run(proto.name+" "+tt.name, func(t *testing.T) {
				hdr := append([]string{"Content-Type: application/json"}, tt.hdr...)
				res := doWith(t, proto.client, "POST", m.url+"/v1/call/fee-calc/calculate", `{}`, hdr...)
				if res.status != tt.wantStatus || res.proto != proto.major {
					t.Fatalf("got %d over HTTP/%d %.200s, want %d over HTTP/%d", res.status, res.proto, res.body, tt.wantStatus, proto.major)
				}
				svc, _ := w.published(t, m)
				if tt.wantStatus == 200 {
					if len(svc) != 1 {
						t.Errorf("published %v, want the one call", svc)
					}
					return
				}
				e := errorOf(t, res)
				if !strings.Contains(e.Message, "request header fields are too large") || !strings.Contains(e.Message, "65536") || e.TraceID == "" {
					t.Errorf("error %+v, want one naming the limit and the trace", e)
				}
				if len(svc) != 0 {
					t.Errorf("published %v, want nothing", svc)
				}
			})
		}
	}
}
