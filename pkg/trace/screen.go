package trace

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ScreenLogEvery is how often, at most, a Screen logs the events it
// withheld: one line per interval, with the count since the last line.
const ScreenLogEvery = time.Minute

// Screen counts and logs the stored events a reader withholds because
// their emitter may not have made them (MayEmit), and the stored messages
// that are not valid batches. Follow and Get apply the rule with or without
// a Screen (WithScreen); a Screen makes what they withhold visible. It is
// safe for concurrent use; share one per process, so its counts are the
// process's and its log lines at most one per ScreenLogEvery.
type Screen struct {
	log    *slog.Logger
	counts [len(rejectReasons)]atomic.Uint64

	mu       sync.Mutex
	lastLog  time.Time
	unlogged uint64
}

// NewScreen returns a Screen that logs to log (nil: counts only).
func NewScreen(log *slog.Logger) *Screen { return &Screen{log: log} }

// Rejected returns how many events (for RejectMalformed: messages) have
// been withheld for reason.
func (s *Screen) Rejected(reason RejectReason) uint64 {
	for i, r := range rejectReasons {
		if r == reason {
			return s.counts[i].Load()
		}
	}
	return 0
}

// reject counts one withheld event (or message) and logs it unless a line
// was logged within ScreenLogEvery. A nil Screen does nothing.
func (s *Screen) reject(reason RejectReason, subject string, ev *Event) {
	if s == nil {
		return
	}
	for i, r := range rejectReasons {
		if r == reason {
			s.counts[i].Add(1)
		}
	}
	if s.log == nil {
		return
	}
	s.mu.Lock()
	s.unlogged++
	now := time.Now()
	if !s.lastLog.IsZero() && now.Sub(s.lastLog) < ScreenLogEvery {
		s.mu.Unlock()
		return
	}
	n := s.unlogged
	s.lastLog, s.unlogged = now, 0
	s.mu.Unlock()
	attrs := []any{"reason", string(reason), "subject", subject, "withheld", n, "log_every", ScreenLogEvery}
	if ev != nil {
		attrs = append(attrs, "trace_id", ev.TraceID.String(), "kind", string(ev.Kind),
			"caller", ev.Caller, "service", ev.Service, "path", ev.Path)
	}
	s.log.Warn("trace events withheld: their emitter may not have made them", attrs...)
}

// admit decodes the stored message on subject and returns the events of
// it that want accepts (nil: all) and their emitter may have made; the
// others, and a message that is not a valid batch, are counted on s.
func (s *Screen) admit(subject string, data []byte, want func(*Event) bool) []Event {
	events, err := DecodeBatch(data)
	if err != nil {
		s.reject(RejectMalformed, subject, nil)
		return nil
	}
	emitter, named := EmitterOf(subject)
	kept := events[:0]
	for i := range events {
		ev := &events[i]
		if want != nil && !want(ev) {
			continue
		}
		if !named {
			s.reject(RejectSubject, subject, ev)
			continue
		}
		if reason, ok := MayEmit(emitter, ev); !ok {
			s.reject(reason, subject, ev)
			continue
		}
		kept = append(kept, *ev)
	}
	return kept
}
