package bench

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A child's output lines are found as they come, and its listening line
// gives the addresses whatever the order of its fields.
func TestWaitLineFindsTheBridgeAddresses(t *testing.T) {
	line := `time=2026-11-26T22:00:00Z level=INFO msg="bridge listening" mode=h2c addr=127.0.0.1:8443 embedded=true nats=nats://127.0.0.1:4222`
	p, err := StartProc("sh", t.TempDir(), filepath.Join(t.TempDir(), "out.log"), []string{"-c", "echo starting; echo '" + line + "'; sleep 5"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	m, err := p.WaitLine(context.Background(), reBridgeUp, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := reAddr.FindStringSubmatch(m[0]); got == nil || got[1] != "127.0.0.1:8443" {
		t.Errorf("addr = %v, want 127.0.0.1:8443", got)
	}
	if got := reNATS.FindStringSubmatch(m[0]); got == nil || got[1] != "nats://127.0.0.1:4222" {
		t.Errorf("nats = %v, want nats://127.0.0.1:4222", got)
	}
	if _, err := p.WaitLine(context.Background(), regexp.MustCompile("never printed"), 200*time.Millisecond); err == nil || !strings.Contains(err.Error(), "never printed") {
		t.Errorf("err = %v, want one naming the pattern not seen", err)
	}
	if rss, err := RSS(p.Pid()); err != nil || rss <= 0 {
		t.Errorf("RSS = %d, %v; want a positive size", rss, err)
	}
}
