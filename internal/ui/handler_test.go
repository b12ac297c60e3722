package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/ui"
)

func TestHandlerServesThePage(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/ui", ui.Handler())
	mux.Handle("/ui/", ui.Handler())
	ts := httptest.NewUnstartedServer(mux)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	defer ts.Close()

	tests := []struct {
		method, path string
		wantStatus   int
		wantType     string
		wantBody     string
	}{
		{"GET", "/ui", 200, "text/html", `src="/ui/app.js"`},
		{"GET", "/ui/", 200, "text/html", `href="/ui/style.css"`},
		{"GET", "/ui/app.js", 200, "javascript", "/v1/traces/live"},
		{"GET", "/ui/style.css", 200, "text/css", ".hop"},
		{"HEAD", "/ui", 200, "text/html", ""},
		{"GET", "/ui/index.html", 404, "", ""},
		{"GET", "/ui/missing.js", 404, "", ""},
		{"GET", "/ui/static/app.js", 404, "", ""},
		{"GET", "/ui/..%2fhandler.go", 404, "", ""},
		{"POST", "/ui", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, ts.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				return
			}
			if got := res.Header.Get("Content-Type"); !strings.Contains(got, tt.wantType) {
				t.Errorf("Content-Type %q, want %s", got, tt.wantType)
			}
			if got := res.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'self'") {
				t.Errorf("Content-Security-Policy %q, want default-src 'self'", got)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body lacks %q", tt.wantBody)
			}
			// Nothing is loaded from elsewhere: no absolute URL at all.
			if u := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).FindString(string(body)); u != "" {
				t.Errorf("body refers to another origin: %q", u)
			}
		})
	}
}
