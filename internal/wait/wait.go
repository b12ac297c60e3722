package wait

import (
	"context"
	"math/rand/v2"
	"time"
)

// Jitter returns a random wait in [b/2, b], or b itself when b <= 1.
func Jitter(b time.Duration) time.Duration {
	if b <= 1 {
		return b
	}
	return b/2 + rand.N(b/2+1)
}

// Sleep waits d or until ctx ends; it reports whether d passed. A d of
// zero or less does not wait and reports whether ctx is still live.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
