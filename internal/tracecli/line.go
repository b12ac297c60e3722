package tracecli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hms-svc/hms-svc/pkg/trace"
)

// TimeFormat is how Tail prints an event's start: UTC, milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Line formats one event as Tail prints it:
//
//	2026-05-01T10:00:00.001Z 4bf92f3577b34da6a3ce929d0e0e4736 client gateway -> fee-calc /calculate ok 1.2ms
//
// then " attempt=N" after a first attempt and " error=..." (quoted) when
// the hop failed. An unknown caller is "-".
func Line(ev trace.Event) string {
	var b strings.Builder
	b.Grow(128)
	b.WriteString(ev.Start.UTC().Format(TimeFormat))
	b.WriteByte(' ')
	b.WriteString(ev.TraceID.String())
	fmt.Fprintf(&b, " %-6s %s -> %s %s %s %s", ev.Kind, caller(ev), ev.Service, ev.Path, code(ev), Duration(ev.Duration()))
	if ev.Attempt > 1 {
		b.WriteString(" attempt=" + strconv.Itoa(ev.Attempt))
	}
	if ev.Error != "" {
		b.WriteString(" error=" + strconv.Quote(ev.Error))
	}
	return b.String()
}

func caller(ev trace.Event) string {
	if ev.Caller == "" {
		return "-"
	}
	return ev.Caller
}

func code(ev trace.Event) string {
	if ev.Code == 0 {
		return "ok"
	}
	return ev.Code.String()
}

// Duration prints d rounded for reading: "850µs", "1.2ms", "1.25s".
func Duration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}
