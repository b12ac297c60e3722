package uitest_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/uitest"
)

func TestPageRunsScriptsAndScreenshots(t *testing.T) {
	b := uitest.Start(t)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title><p id=p>waiting</p>
<script>setTimeout(() => { document.getElementById('p').textContent = 'ready ' + (6*7) }, 50)</script>`)
	}))
	defer ts.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := b.NewPage(ctx, 640, 480)
	if err != nil {
		t.Fatalf("%v\n%s", err, b.Stderr())
	}
	if err := p.Navigate(ctx, ts.URL); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `document.getElementById('p')?.textContent.startsWith('ready')`, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := p.Eval(ctx, `document.getElementById('p').textContent`, &got); err != nil {
		t.Fatal(err)
	}
	if want := "ready 42"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if err := p.Eval(ctx, `no_such_name()`, nil); err == nil {
		t.Error("a script error: no error")
	}
	png, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot is not a PNG: % x", png[:min(8, len(png))])
	}
	// The browser reaches nothing but loopback.
	if err := p.Navigate(ctx, "http://example.invalid/"); err == nil {
		t.Error("navigating to a non-loopback host: no error")
	}
}
