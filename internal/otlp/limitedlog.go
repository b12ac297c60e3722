package otlp

import (
	"log/slog"
	"sync"
	"time"
)

// logEvery is how often, at most, the exporter logs a warning: one line per
// interval, with how many were not logged since the last.
const logEvery = time.Minute

// limitedLog logs warnings at most once per logEvery, so that an endpoint
// down for an hour writes 60 lines, not one per batch.
type limitedLog struct {
	log *slog.Logger

	mu      sync.Mutex
	last    time.Time
	skipped int
}

func (l *limitedLog) printf(msg string, attrs ...any) {
	l.mu.Lock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < logEvery {
		l.skipped++
		l.mu.Unlock()
		return
	}
	skipped := l.skipped
	l.last, l.skipped = now, 0
	l.mu.Unlock()
	l.log.Warn(msg, append(attrs, "not_logged_since_last", skipped, "log_every", logEvery)...)
}
