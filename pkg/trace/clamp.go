package trace

import "unicode/utf8"

// Bounds of an event's free-text fields, so that one event can never
// outgrow a message.
const (
	maxNameLen = 128  // caller, request id, instance, kind
	maxPathLen = 1100 // 16 segments of 64 characters and their slashes
)

// maxEventCost bounds eventCost of a clamped event.
const maxEventCost = 512 + 6*(4*maxNameLen+64+maxPathLen+maxErrorText+len("…"))

// clampEvent cuts the free-text fields of e to their bounds.
func clampEvent(e *Event) {
	e.Kind = Kind(clip(string(e.Kind), maxNameLen))
	e.Caller = clip(e.Caller, maxNameLen)
	e.Service = clip(e.Service, 64)
	e.Path = clip(e.Path, maxPathLen)
	e.RequestID = clip(e.RequestID, maxNameLen)
	e.Instance = clip(e.Instance, maxNameLen)
	e.Error = clip(e.Error, maxErrorText+len("…"))
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// eventCost bounds the bytes e adds to a message: its fixed fields, its
// trace id in HeaderTraceIDs, and its text at the worst JSON escaping (six
// bytes per byte).
func eventCost(e *Event) int {
	text := len(e.Kind) + len(e.Caller) + len(e.Service) + len(e.Path) + len(e.RequestID) + len(e.Instance) + len(e.Error)
	return 512 + 6*text
}
