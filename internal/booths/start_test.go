package booths_test

import (
	"testing"

	"github.com/hms-svc/hms-svc/internal/booths"
	"github.com/hms-svc/hms-svc/internal/natstest"
)

// Instances that start at once all bind the same stores without tripping
// over each other.
func TestBoothsStartTogether(t *testing.T) {
	s := startServer(t)
	var names []string
	for _, name := range booths.Names {
		names = append(names, name, name, name)
	}
	startTogether(t, s, names...)
	nc := natstest.Connect(t, s)
	for _, name := range booths.Names {
		if got := serviceStats(t, nc, name, 3); len(got) < 3 {
			t.Errorf("%s: %d instances answer, want 3", name, len(got))
		}
	}
}
