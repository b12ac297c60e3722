package mesh_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/internal/revocation"
	"github.com/hms-svc/hms-svc/pkg/mesh"
	"github.com/hms-svc/hms-svc/pkg/rpc"
)

const twoCallers = "testdata/two-callers.yaml"

// revoke revokes identity in dir as meshctl revoke does, and returns when.
func revoke(t *testing.T, dir, identity string) time.Time {
	t.Helper()
	op, err := pki.ReadOperator(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if _, err := revocation.Update(dir, op, func(l *revocation.List) (*revocation.List, error) {
		return l.Revoke(identity, "test", at)
	}); err != nil {
		t.Fatal(err)
	}
	return at
}

// Two callers call one booth; one is revoked. Its last call is accepted
// within 5 s of the revocation (the files are polled every second), the
// broker then refuses its connections, and the other caller's calls all
// succeed.
func TestRevocationTakesEffectInSecondsUnderLoad(t *testing.T) {
	lm := newLiveMesh(t, twoCallers, true)
	fee, _ := lm.join(t, "fee-calc")
	serve(t, fee, "/calculate")
	gw, _ := lm.join(t, "gateway")
	kiosk, _ := lm.join(t, "kiosk")
	others := startLoad(caller(gw, "fee-calc", "/calculate"), caller(gw, "fee-calc", "/calculate"))
	revoked := startLoad(caller(kiosk, "fee-calc", "/calculate"), caller(kiosk, "fee-calc", "/calculate"))
	time.Sleep(300 * time.Millisecond)
	beforeOK := others.ok.Load()
	at := revoke(t, lm.dir, "kiosk")
	natstest.CheckFor(t, 8*time.Second, 50*time.Millisecond, func() error {
		if last := time.Unix(0, revoked.lastOK.Load()); time.Since(last) < 1500*time.Millisecond {
			return fmt.Errorf("kiosk's calls still succeed (the last %v ago)", time.Since(last).Round(time.Millisecond))
		}
		return nil
	})
	time.Sleep(200 * time.Millisecond)
	others.end()
	revoked.end()
	effect := max(time.Unix(0, revoked.lastOK.Load()).Sub(at), 0)
	if n := others.failed.Load(); n != 0 {
		t.Fatalf("%d calls of gateway failed (of %d); the first: %v", n, others.ok.Load()+n, others.err())
	}
	if effect > 5*time.Second {
		t.Fatalf("kiosk's last call was accepted %v after its revocation, want at most 5s", effect)
	}
	// The broker dropped kiosk's connection and refuses a new one.
	if kiosk.Conn().IsConnected() {
		t.Error("kiosk's connection is still up")
	}
	opts, err := mesh.Credentials{Dir: lm.dir}.NATSOptions("kiosk")
	if err != nil {
		t.Fatal(err)
	}
	if nc, err := nats.Connect(lm.s.ClientURL(), append(opts, nats.MaxReconnects(0))...); err == nil {
		nc.Close()
		t.Error("the broker accepted a new connection of kiosk")
	}
	t.Logf("kiosk revoked under load: its last call accepted %v after the revocation (%d accepted in all); "+
		"gateway made %d calls meanwhile, 0 failed; kiosk refused at the booth %v times",
		effect.Round(time.Millisecond), revoked.ok.Load(), others.ok.Load()-beforeOK, revokedCalls(t, fee, "kiosk"))
}

// With a broker that does not follow the folder, the booths alone refuse a
// revoked caller: 401 naming it, counted and logged; undoing the
// revocation lets it call again.
func TestBoothsRefuseARevokedCaller(t *testing.T) {
	lm := newLiveMesh(t, twoCallers, false)
	fee, feeLog := lm.join(t, "fee-calc")
	serve(t, fee, "/calculate")
	gw, _ := lm.join(t, "gateway")
	kiosk, _ := lm.join(t, "kiosk")
	call := func(m *mesh.Mesh) error {
		return m.Client().Call(t.Context(), "fee-calc", "/calculate", struct{}{}, nil)
	}
	if err := call(kiosk); err != nil {
		t.Fatal(err)
	}
	revoke(t, lm.dir, "kiosk")
	natstest.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error {
		err := call(kiosk)
		if rpc.CodeOf(err) != rpc.CodeUnauthenticated || !strings.Contains(err.Error(), "identity kiosk is revoked") {
			return fmt.Errorf("kiosk's call: %v, want 401 identity kiosk is revoked", err)
		}
		return nil
	})
	if err := call(gw); err != nil {
		t.Errorf("gateway's call after kiosk's revocation: %v", err)
	}
	if n := revokedCalls(t, fee, "kiosk"); n < 1 {
		t.Errorf("hms_svc_revoked_calls_total{identity=kiosk} = %v, want at least 1", n)
	}
	if n := feeLog.count("call of a revoked identity refused"); n != 1 {
		t.Errorf("the refusals were logged %d times, want once (at most one line per 10 s)", n)
	}
	op, _ := pki.ReadOperator(lm.dir)
	if _, err := revocation.Update(lm.dir, op, func(l *revocation.List) (*revocation.List, error) {
		return l.Undo("kiosk", time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 5*time.Second, 50*time.Millisecond, func() error { return call(kiosk) })
}

// revokedCalls reads hms_svc_revoked_calls_total{identity} from m's
// metrics.
func revokedCalls(t *testing.T, m *mesh.Mesh, identity string) float64 {
	t.Helper()
	families, err := m.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "hms_svc_revoked_calls_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "identity" && l.GetValue() == identity {
					return mt.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
