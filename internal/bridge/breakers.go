package bridge

import (
	"net/http"

	"github.com/hms-svc/hms-svc/internal/ui"
)

// handleBreakers serves GET /v1/breakers: the state of the bridge's circuit
// breaker for each service discovery knows.
func (b *Bridge) handleBreakers(w http.ResponseWriter, _ *http.Request) {
	out := ui.Breakers{Breakers: map[string]string{}}
	for _, s := range b.disc.list() {
		out.Breakers[s.Name] = b.client.BreakerState(s.Name)
	}
	writeJSON(w, http.StatusOK, out)
}
