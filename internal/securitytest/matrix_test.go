package securitytest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/matrix"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

// universe returns every path the demo matrix names, plus paths it names
// nowhere, so that each (caller, callee, path) triple can be tried.
func universe(m *matrix.Matrix) []string {
	paths := []string{"/unknown", "/calculate/extra"}
	for _, id := range m.Identities() {
		ident, _ := m.Identity(id)
		for _, ps := range ident.Calls {
			paths = append(paths, ps...)
		}
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// brokerShouldAllow is the matrix's answer for a publish: what the caller
// may call itself or for someone it acts for.
func brokerShouldAllow(m *matrix.Matrix, caller, service, path string) bool {
	if m.Allowed(caller, service, path) {
		return true
	}
	id, _ := m.Identity(caller)
	for _, p := range id.ActsFor {
		if m.Allowed(p, service, path) {
			return true
		}
	}
	return false
}

type tally struct {
	allowed, denied, falseAllows, falseDenies int
	wrong                                     []string
}

func (tl *tally) add(want, got bool, what string) {
	switch {
	case want && got:
		tl.allowed++
	case !want && !got:
		tl.denied++
	case got:
		tl.falseAllows++
		tl.wrong = append(tl.wrong, "false allow: "+what)
	default:
		tl.falseDenies++
		tl.wrong = append(tl.wrong, "false deny: "+what)
	}
}

func (tl *tally) check(t *testing.T, layer string) {
	t.Helper()
	t.Logf("%s: %d allowed, %d denied, %d false allows, %d false denies",
		layer, tl.allowed, tl.denied, tl.falseAllows, tl.falseDenies)
	if tl.falseAllows != 0 || tl.falseDenies != 0 {
		t.Errorf("%s:\n%s", layer, strings.Join(tl.wrong, "\n"))
	}
	if tl.allowed == 0 || tl.denied == 0 {
		t.Errorf("%s: the matrix test tried only one outcome", layer)
	}
}

// Every caller x callee x path of the demo at the broker: a publish reaches
// the callee's booth exactly when the matrix allows it, and each refused
// publish is reported to its sender as a permissions violation.
func TestDemoMatrixAtTheBroker(t *testing.T) {
	s := startMesh(t)
	spies := boothSpies(t, s)
	paths := universe(demo)
	var tl tally
	type sent struct{ caller, subject string }
	var all []sent
	conns := map[string]*nats.Conn{}
	vs := map[string]*violations{}
	wantDenied := map[string]int{}
	for _, caller := range demo.Identities() {
		vs[caller] = &violations{}
		conns[caller] = connectAs(t, s, caller, vs[caller].handler())
		for _, svc := range demo.Services() {
			for _, p := range paths {
				subject := "svc." + svc + strings.ReplaceAll(p, "/", ".")
				if err := conns[caller].Publish(subject, []byte(caller)); err != nil {
					t.Fatal(err)
				}
				all = append(all, sent{caller, subject})
				if !brokerShouldAllow(demo, caller, svc, p) {
					wantDenied[caller]++
				}
			}
		}
	}
	for _, nc := range conns {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	got := map[sent]bool{}
	for _, svc := range demo.Services() {
		sp := spies[svc]
		sp.settled(t)
		sp.mu.Lock()
		for _, m := range sp.got {
			got[sent{string(m.Data), m.Subject}] = true
		}
		sp.mu.Unlock()
	}
	for _, x := range all {
		svc, path, _ := strings.Cut(strings.TrimPrefix(x.subject, "svc."), ".")
		path = "/" + strings.ReplaceAll(path, ".", "/")
		tl.add(brokerShouldAllow(demo, x.caller, svc, path), got[x], fmt.Sprintf("%s -> %s", x.caller, x.subject))
	}
	tl.check(t, "broker")
	for caller, v := range vs {
		want := wantDenied[caller]
		natstest.CheckFor(t, 2*time.Second, 5*time.Millisecond, func() error {
			v.mu.Lock()
			defer v.mu.Unlock()
			if len(v.errs) != want {
				return fmt.Errorf("%s got %d violations, want %d", caller, len(v.errs), want)
			}
			return nil
		})
	}
}

// Every caller x callee x path of the demo at the booths, with the broker out
// of the way: each identity signs, with its own key, a token granting itself
// exactly the call (the most an identity can forge), and the bridge also
// acts for the gateway. The handler runs exactly when the matrix allows it.
func TestDemoMatrixAtTheBooths(t *testing.T) {
	s := natstest.Start(t)
	paths := universe(demo)
	booths := map[string]*countingBooth{}
	for _, svc := range demo.Services() {
		booths[svc] = startCountingBooth(t, natstest.Connect(t, s), svc, paths...)
	}
	nc := natstest.Connect(t, s)
	type principal struct{ subject, actor string }
	var principals []principal
	for _, id := range demo.Identities() {
		principals = append(principals, principal{id, ""})
		ident, _ := demo.Identity(id)
		for _, p := range ident.ActsFor {
			principals = append(principals, principal{p, id})
		}
	}
	var tl tally
	wantRuns := map[string]int32{}
	for _, pr := range principals {
		signer := pr.subject
		if pr.actor != "" {
			signer = pr.actor
		}
		key := keyOf(t, signer)
		for _, svc := range demo.Services() {
			for _, p := range paths {
				c := claims(t, signer, svc, p)
				if pr.actor != "" {
					c = with(c, map[string]any{"sub": pr.subject, "act": map[string]any{"sub": pr.actor}})
				}
				code, msg := callWith(t, nc, svc, p, "Bearer "+signEd(t, key, c), pr.subject)
				want := demo.AllowedFor(signer, pr.subject, svc, p)
				if !want && code != rpc.CodePermissionDenied {
					t.Errorf("%+v -> %s %s: %v %q, want 403", pr, svc, p, code, msg)
				}
				tl.add(want, code == rpc.CodeOK, fmt.Sprintf("%s (actor %q) -> %s %s", pr.subject, pr.actor, svc, p))
				if want {
					wantRuns[svc]++
				}
			}
		}
	}
	tl.check(t, "booths")
	for svc, b := range booths {
		if got := b.runs.Load(); got != wantRuns[svc] {
			t.Errorf("%s handler ran %d times, want %d", svc, got, wantRuns[svc])
		}
	}
}
