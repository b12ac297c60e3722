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
	"github.com/hms-svc/hms-svc/pkg/trace"
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
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	page, wait := openPage(ctx, t, ts.URL+"/ui")
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
	saveScreenshot(t, "ui-live.png", png)
}

// openPage starts Chromium (after the test server, so that it is closed
// first: its open stream would hold the server's Close), loads url at
// 1280x900 and returns the page with a wait(what, expr) that fails the test
// unless expr becomes true within 15 s.
func openPage(ctx context.Context, t *testing.T, url string) (*uitest.Page, func(what, expr string)) {
	t.Helper()
	browser := uitest.Start(t)
	page, err := browser.NewPage(ctx, 1280, 900)
	if err != nil {
		t.Fatalf("%v\n%s", err, browser.Stderr())
	}
	if err := page.Navigate(ctx, url); err != nil {
		t.Fatal(err)
	}
	return page, func(what, expr string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := page.WaitFor(wctx, expr, 20*time.Millisecond); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// saveScreenshot writes png as name in $HMS_ARTIFACTS (or the test's
// temporary folder).
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := os.Getenv("HMS_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of /ui: %s", path)
}

// TestPageShowsRecentCallsTitledAndFiltered runs calls before the page is
// opened: 45 license flows made as through the bridge (four calls under the
// gateway's unrecorded span), one refused at fee-calc, and one license with
// the gateway's own span. Opened afterwards, the page shows all 47 traces
// from the last minutes (more than the 40 it used to keep); each is titled
// by its root calls and lists its services, and hops name the instance
// that served them, as does the services panel. The service filter keeps
// the traces naming the service, the error filter the failed one.
func TestPageShowsRecentCallsTitledAndFiltered(t *testing.T) {
	m := startMesh(t)
	ts := m.server(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	avery := application{Name: "Avery Johnson", SSN: "123-45-6789", LicenseType: "professional-engineer"}
	const flows = 45
	var first trace.TraceID
	for i := range flows {
		id, err := m.calls(ctx, avery)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = id
		}
	}
	bad, err := m.calls(ctx, application{Name: "Blake Doe", LicenseType: "astronaut"})
	if rpc.CodeOf(err) != rpc.CodeNotFound {
		t.Fatalf("an unknown license type: %v, want 404", err)
	}
	rooted, err := m.license(ctx, avery)
	if err != nil {
		t.Fatal(err)
	}
	const total = flows + 2

	page, wait := openPage(ctx, t, ts.URL+"/ui")
	eval := func(expr string, out any) {
		t.Helper()
		must(t, page.Eval(ctx, expr, out))
	}
	card := func(id trace.TraceID) string { return fmt.Sprintf(`#live article.trace[data-trace="%s"]`, id) }
	wait("the calls made before opening shown", fmt.Sprintf(
		`document.querySelectorAll('#live article.trace').length === %d && document.getElementById('stat-traces').textContent === '%d' && document.querySelectorAll('%s .hop[data-handled="true"]').length === 4 && document.querySelectorAll('#services .svc').length === 4`,
		total, total, card(first)))
	var empty bool
	eval(`document.getElementById('live-empty').hidden`, &empty)
	if !empty {
		t.Error(`"Waiting for calls…" is shown beside the traces`)
	}

	// Titles and services.
	for _, tt := range []struct {
		id                  trace.TraceID
		title, count        string
		services, instances []string
	}{
		{first, "gateway → fee-calc /calculate … audit-log /record", "4 calls · 4 hops",
			[]string{"gateway", "fee-calc", "payment", "license-printer", "audit-log"},
			[]string{"fee-calc-1", "payment-1", "license-printer-1", "audit-log-1"}},
		{bad, "gateway → fee-calc /calculate", "1 call · 1 hop", []string{"gateway", "fee-calc"}, []string{"fee-calc-1"}},
		{rooted, "gateway /apply", "1 call · 5 hops",
			[]string{"gateway", "fee-calc", "payment", "license-printer", "audit-log"},
			[]string{"gateway-1", "fee-calc-1", "payment-1", "license-printer-1", "audit-log-1"}},
	} {
		var got struct {
			Title, Count        string
			Services, Instances []string
		}
		eval(fmt.Sprintf(`(() => { const c = document.querySelector('%s'); return {
			title: c.querySelector('.root').textContent, count: c.querySelector('.count').textContent,
			services: [...c.querySelectorAll('.trace-svcs code')].map(e => e.textContent),
			instances: [...c.querySelectorAll('.hop .inst-name')].map(e => e.textContent)}; })()`, card(tt.id)), &got)
		if got.Title != tt.title || got.Count != tt.count || !reflect.DeepEqual(got.Services, tt.services) || !reflect.DeepEqual(got.Instances, tt.instances) {
			t.Errorf("trace %s shows %+v, want title %q, count %q, services %v, instances %v", tt.id, got, tt.title, tt.count, tt.services, tt.instances)
		}
	}
	var panel map[string]string
	eval(`Object.fromEntries([...document.querySelectorAll('#services .svc')].map(s => [s.dataset.service, s.querySelector('.inst code').textContent]))`, &panel)
	if want := map[string]string{"audit-log": "audit-log-1", "fee-calc": "fee-calc-1", "license-printer": "license-printer-1", "payment": "payment-1"}; !reflect.DeepEqual(panel, want) {
		t.Errorf("the services panel names instances %v, want %v", panel, want)
	}

	// Filters: by service, by error, both, none.
	var options []string
	eval(`[...document.getElementById('filter-service').options].map(o => o.value)`, &options)
	if want := []string{"", "audit-log", "fee-calc", "gateway", "license-printer", "payment"}; !reflect.DeepEqual(options, want) {
		t.Errorf("service filter offers %q, want %q", options, want)
	}
	setFilter := func(service string, errorsOnly bool) {
		t.Helper()
		eval(fmt.Sprintf(`(() => { const s = document.getElementById('filter-service'); s.value = '%s'; s.dispatchEvent(new Event('change'));
			const e = document.getElementById('filter-errors'); e.checked = %t; e.dispatchEvent(new Event('change')); return true; })()`, service, errorsOnly), nil)
	}
	for _, tt := range []struct {
		service   string
		errors    bool
		want      int
		wantShown string
	}{
		{"payment", false, flows + 1, fmt.Sprintf("%d of %d shown", flows+1, total)},
		{"fee-calc", false, total, fmt.Sprintf("%d of %d shown", total, total)},
		{"", true, 1, fmt.Sprintf("1 of %d shown", total)},
		{"payment", true, 0, fmt.Sprintf("0 of %d shown", total)},
		{"", false, total, ""},
	} {
		setFilter(tt.service, tt.errors)
		var got struct {
			Visible []string
			Shown   string
			Empty   bool
		}
		eval(`({visible: [...document.querySelectorAll('#live article.trace')].filter(c => !c.hidden && c.offsetParent !== null).map(c => c.dataset.trace),
			shown: document.getElementById('shown').textContent, empty: !document.getElementById('live-empty').hidden})`, &got)
		if len(got.Visible) != tt.want || got.Shown != tt.wantShown || got.Empty != (tt.want == 0) {
			t.Errorf("filter service %q errors %v: %d traces visible, %q, empty message %v; want %d, %q", tt.service, tt.errors,
				len(got.Visible), got.Shown, got.Empty, tt.want, tt.wantShown)
		}
		if tt.errors && tt.want == 1 && (len(got.Visible) != 1 || got.Visible[0] != bad.String()) {
			t.Errorf("errors only shows %v, want the refused trace %s", got.Visible, bad)
		}
	}
	setFilter("", true)
	png, err := page.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, "ui-filtered.png", png)
}
