// Package filewatch notices that files have changed by polling them: their
// size, modification time and existence, every second or so. The mesh's
// credentials change rarely, and polling needs no dependency and works the
// same on every file system.
package filewatch

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// Watch polls a set of files.
type Watch struct {
	paths func() []string
	last  string
}

// New returns a watch of the files paths lists (it is called at every poll,
// so the set may grow), taking their state now: make it before reading the
// files, so that a change made while they are read is seen.
func New(paths func() []string) *Watch {
	w := &Watch{paths: paths}
	w.last = w.stamp()
	return w
}

// stamp returns what a poll compares.
func (w *Watch) stamp() string {
	var b strings.Builder
	for _, p := range w.paths() {
		st, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(&b, "%s:-;", p)
			continue
		}
		fmt.Fprintf(&b, "%s:%d:%d;", p, st.Size(), st.ModTime().UnixNano())
	}
	return b.String()
}

// Run polls every interval until ctx ends. It calls apply when the files
// have changed since the last poll, or when the time apply last returned
// (first: due) has passed; the zero time is never due. A failed apply is
// reported to onError and not retried until the files change again: what
// is wrong is in them.
func (w *Watch) Run(ctx context.Context, interval time.Duration, due time.Time, apply func() (time.Time, error), onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s := w.stamp()
			if s == w.last && (due.IsZero() || now.Before(due)) {
				continue
			}
			w.last = s
			next, err := apply()
			if err != nil {
				onError(err)
				due = time.Time{}
				continue
			}
			due = next
		}
	}
}
