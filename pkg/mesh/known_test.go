package mesh_test

import (
	"maps"
	"strings"
	"testing"
)

// Every breaker the matrix lets an identity have is exported closed from
// the moment it joins, before any call: the bridge's for the four booths it
// calls for the gateway, the gateway's for the four it calls, and none for
// a booth, which calls nothing.
func TestKnownBreakersAreExportedFromTheStart(t *testing.T) {
	s := secureServer(t)
	booths := []string{"audit-log", "fee-calc", "license-printer", "payment"}
	for _, tt := range []struct {
		identity string
		want     []string
	}{
		{"bridge", booths},
		{"gateway", booths},
		{"fee-calc", nil},
	} {
		t.Run(tt.identity, func(t *testing.T) {
			m := join(t, s, tt.identity)
			body := scrape(t, m)
			var got []string
			for line := range strings.Lines(body) {
				if rest, ok := strings.CutPrefix(line, "hms_svc_breaker_state{"); ok {
					got = append(got, strings.TrimSpace(rest))
				}
			}
			var want []string
			states := map[string]string{}
			for _, svc := range tt.want {
				want = append(want, `service="`+svc+`"} 0`)
				states[svc] = "closed"
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("hms_svc_breaker_state of a new %s:\n%s\nwant:\n%s", tt.identity, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if got := m.Client().BreakerStates(); !maps.Equal(got, states) {
				t.Errorf("breakers of a new %s's client = %v, want %v", tt.identity, got, states)
			}
		})
	}
}
