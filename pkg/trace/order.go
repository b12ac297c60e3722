package trace

import (
	"bytes"
	"slices"
)

// CausalOrder returns events in causal order: every event after its parent,
// siblings (and unrelated roots) by start time, and each event's
// descendants right after it, as in a sequence diagram. An event whose
// parent is not among events is a root. Events repeating a span id already
// seen are left out.
func CausalOrder(events []Event) []Event {
	n := len(events)
	idx := make(map[SpanID]int, n)
	uniq := make([]int, 0, n)
	for i := range events {
		if _, dup := idx[events[i].SpanID]; dup {
			continue
		}
		idx[events[i].SpanID] = i
		uniq = append(uniq, i)
	}
	byStart := func(a, b int) int {
		ea, eb := &events[a], &events[b]
		if c := ea.Start.Compare(eb.Start); c != 0 {
			return c
		}
		if ea.Kind != eb.Kind { // a client attempt before the handling it caused
			if ea.Kind == KindClient {
				return -1
			}
			return 1
		}
		return bytes.Compare(ea.SpanID[:], eb.SpanID[:])
	}
	children := make(map[SpanID][]int, n)
	var roots []int
	for _, i := range uniq {
		p := events[i].ParentSpanID
		if _, ok := idx[p]; ok && !p.IsZero() && p != events[i].SpanID {
			children[p] = append(children[p], i)
		} else {
			roots = append(roots, i)
		}
	}
	for _, c := range children {
		slices.SortFunc(c, byStart)
	}
	slices.SortFunc(roots, byStart)

	out := make([]Event, 0, len(uniq))
	seen := make([]bool, n)
	var walk func(i int)
	walk = func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		out = append(out, events[i])
		for _, c := range children[events[i].SpanID] {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	// Events in a parent cycle (possible only in forged data) have no root;
	// they go last, by start time.
	if len(out) < len(uniq) {
		var rest []int
		for _, i := range uniq {
			if !seen[i] {
				rest = append(rest, i)
			}
		}
		slices.SortFunc(rest, byStart)
		for _, i := range rest {
			walk(i)
		}
	}
	return out
}
