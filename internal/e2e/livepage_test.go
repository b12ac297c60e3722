package e2e

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/uitest"
)

// The live page of the real bridge, opened after Avery's license went
// through it, shows the flow: titled by the gateway's first and last calls,
// listing the bridge and the four booths, each hop and each service naming
// booth-runner's instance (not a NATS id).
func TestLivePageShowsAverysFlowAfterTheFact(t *testing.T) {
	m := startMesh(t)
	const traceID = "3c5e7a9b1d2f4a6c8e0b2d4f6a8c0e1b"
	runAvery(t, m, traceID)

	browser := uitest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	page, err := browser.NewPage(ctx, 1280, 900)
	if err != nil {
		t.Fatalf("%v\n%s", err, browser.Stderr())
	}
	if err := page.Navigate(ctx, m.monitor+"/ui"); err != nil {
		t.Fatal(err)
	}
	card := fmt.Sprintf(`#live article.trace[data-trace="%s"]`, traceID)
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	defer wcancel()
	if err := page.WaitFor(wctx, fmt.Sprintf(`document.querySelectorAll('%s .hop[data-handled="true"]').length === 4 && document.querySelectorAll('#services .svc').length === 4`, card), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Title     string
		Services  []string
		Instances []string
		Panel     []string
	}
	if err := page.Eval(ctx, fmt.Sprintf(`(() => { const c = document.querySelector('%s'); return {
		title: c.querySelector('.root').textContent,
		services: [...c.querySelectorAll('.trace-svcs code')].map(e => e.textContent),
		instances: [...c.querySelectorAll('.hop[data-handled="true"]')].map(h => h.dataset.instance),
		panel: [...document.querySelectorAll('#services .svc .inst code')].map(e => e.textContent)}; })()`, card), &got); err != nil {
		t.Fatal(err)
	}
	want := struct {
		Title     string
		Services  []string
		Instances []string
		Panel     []string
	}{
		"gateway → fee-calc /calculate … audit-log /record",
		[]string{"gateway", "bridge", "fee-calc", "payment", "license-printer", "audit-log"},
		[]string{"e2e-1", "e2e-1", "e2e-1", "e2e-1"},
		[]string{"e2e-1", "e2e-1", "e2e-1", "e2e-1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the page shows %+v, want %+v", got, want)
	}
}
