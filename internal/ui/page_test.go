package ui_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/uitest"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// hopView is what the page shows of one hop (a row's data attributes).
type hopView struct {
	Kind    string `json:"kind"`
	Caller  string `json:"caller"`
	Service string `json:"service"`
	Path    string `json:"path"`
	Code    string `json:"code"`
	Handled string `json:"handled"`
}

// TestPageDrawsLicenseFlowLive loads /ui in headless Chromium, runs the
// license flow through a real mesh, and checks that the page draws its
// four hops from the live stream, then looks the trace up by id. It saves
// a screenshot in $HMS_ARTIFACTS (or the test's temporary folder).
func TestPageDrawsLicenseFlowLive(t *testing.T) {
	m := startMesh(t)
	ts := m.server(t)
	browser := uitest.Start(t) // closed first: its open stream would hold the server's Close
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	page, err := browser.NewPage(ctx, 1280, 900)
	if err != nil {
		t.Fatalf("%v\n%s", err, browser.Stderr())
	}
	if err := page.Navigate(ctx, ts.URL+"/ui"); err != nil {
		t.Fatal(err)
	}
	wait := func(what, expr string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := page.WaitFor(wctx, expr, 20*time.Millisecond); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait("stream open and services shown",
		`document.querySelector('#conn.live') && document.querySelectorAll('#services .svc').length === 4`)
	var breakers map[string]string
	must(t, page.Eval(ctx, `Object.fromEntries([...document.querySelectorAll('#services .svc')].map(s => [s.dataset.service, s.querySelector('.breaker').textContent]))`, &breakers))
	if want := map[string]string{"audit-log": "closed", "fee-calc": "closed", "license-printer": "closed", "payment": "closed"}; !reflect.DeepEqual(breakers, want) {
		t.Errorf("breakers shown = %v, want %v", breakers, want)
	}

	// The flow runs while the page is open: its hops arrive live.
	id, err := m.license(ctx, application{Name: "Avery Johnson", SSN: "123-45-6789", LicenseType: "professional-engineer"})
	if err != nil {
		t.Fatal(err)
	}
	ran := time.Now()
	card := fmt.Sprintf(`article.trace[data-trace="%s"]`, id)
	wait("the four hops drawn", fmt.Sprintf(`document.querySelectorAll('#live %s .hop[data-handled="true"]').length === 4`, card))
	t.Logf("the page drew the flow's four handled hops %v after the flow returned", time.Since(ran).Round(time.Millisecond))

	var got []hopView
	must(t, page.Eval(ctx, fmt.Sprintf(`[...document.querySelectorAll('#live %s .hop')].map(h => ({...h.dataset}))`, card), &got))
	want := []hopView{{Kind: "server", Service: "gateway", Path: "/apply", Code: "0", Handled: "false"}}
	for _, b := range licenseBooths {
		want = append(want, hopView{Kind: "client", Caller: "gateway", Service: b.service, Path: b.path, Code: "0", Handled: "true"})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hops drawn:\n got %+v\nwant %+v", got, want)
	}

	// A refused application is drawn as failed.
	bad, err := m.license(ctx, application{Name: "Blake Doe", LicenseType: "astronaut"})
	if rpc.CodeOf(err) != rpc.CodeNotFound {
		t.Fatalf("license for an unknown type: %v, want 404", err)
	}
	badCard := fmt.Sprintf(`article.trace[data-trace="%s"]`, bad)
	wait("the refused flow drawn", fmt.Sprintf(`document.querySelector('#live %s .hop[data-service="fee-calc"][data-code="404"][data-handled="true"]') && document.querySelector('#live %s .status.err')`, badCard, badCard))

	// Looking the first trace up by id shows it with its Mermaid diagram.
	must(t, page.Eval(ctx, fmt.Sprintf(`document.getElementById('lookup-id').value = '%s'; document.querySelector('#lookup button').click(); true`, id), nil))
	wait("the trace looked up", fmt.Sprintf(`document.querySelectorAll('#selected %s .hop').length === 5 && document.querySelector('#selected pre')`, card))
	var mermaid string
	must(t, page.Eval(ctx, `document.querySelector('#selected pre').textContent`, &mermaid))
	for _, line := range []string{"sequenceDiagram", "gateway->>fee_calc: /calculate", "gateway->>audit_log: /record", "audit_log-->>gateway: ok"} {
		if !strings.Contains(mermaid, line) {
			t.Errorf("Mermaid diagram shown lacks %q:\n%s", line, mermaid)
		}
	}
	var text string
	must(t, page.Eval(ctx, `document.body.innerText`, &text))
	if strings.Contains(text, "123-45-6789") {
		t.Error("the page shows the applicant's SSN")
	}

	// Let the rows render fully before the photograph.
	wait("settled", `document.querySelectorAll('#live article.trace').length === 2`)
	png, err := page.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("HMS_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ui-live.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of /ui: %s", path)
}
