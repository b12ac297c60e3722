package trace

import (
	"strconv"
	"strings"
)

// Mermaid renders a trace as a Mermaid sequence diagram: one participant per
// service or caller in order of appearance, a "->>" line per call (a client
// attempt, or a hop whose caller recorded none, such as the gateway's call to
// the bridge) labelled with its path, and a "-->>" reply labelled with its
// code ("ok" or the number) and duration. Nested calls appear between a
// call and its reply.
//
//	sequenceDiagram
//	    participant gateway
//	    participant fee_calc as fee-calc
//	    gateway->>fee_calc: /calculate
//	    fee_calc-->>gateway: ok 1.2 ms
func Mermaid(events []Event) string {
	ordered := CausalOrder(events)
	byID := make(map[SpanID]*Event, len(ordered))
	children := make(map[SpanID][]*Event, len(ordered))
	var roots []*Event
	for i := range ordered {
		byID[ordered[i].SpanID] = &ordered[i]
	}
	for i := range ordered {
		e := &ordered[i]
		if p, ok := byID[e.ParentSpanID]; ok && !e.ParentSpanID.IsZero() && p != e {
			children[e.ParentSpanID] = append(children[e.ParentSpanID], e)
		} else {
			roots = append(roots, e)
		}
	}

	var parts []string
	ids := map[string]string{}
	participant := func(name string) string {
		if name == "" {
			name = "caller"
		}
		if id, ok := ids[name]; ok {
			return id
		}
		id := mermaidID(name)
		for taken := true; taken; {
			taken = false
			for _, v := range ids {
				if v == id {
					id += "_"
					taken = true
				}
			}
		}
		ids[name] = id
		if id == name {
			parts = append(parts, "    participant "+id)
		} else {
			parts = append(parts, "    participant "+id+" as "+mermaidText(name))
		}
		return id
	}

	var lines []string
	visited := map[*Event]bool{}
	var draw func(e *Event)
	draw = func(e *Event) {
		if visited[e] {
			return
		}
		visited[e] = true
		p := byID[e.ParentSpanID]
		if e.Kind == KindServer && p != nil && p.Kind == KindClient && !e.ParentSpanID.IsZero() {
			// The caller's attempt already drew this call.
			for _, c := range children[e.SpanID] {
				draw(c)
			}
			return
		}
		from, to := participant(e.Caller), participant(e.Service)
		label := mermaidText(e.Path)
		if e.Attempt > 1 {
			label += " (attempt " + strconv.Itoa(e.Attempt) + ")"
		}
		lines = append(lines, "    "+from+"->>"+to+": "+label)
		for _, c := range children[e.SpanID] {
			draw(c)
		}
		lines = append(lines, "    "+to+"-->>"+from+": "+result(e))
	}
	for _, r := range roots {
		draw(r)
	}

	var b strings.Builder
	b.WriteString("sequenceDiagram\n")
	for _, l := range parts {
		b.WriteString(l + "\n")
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// result labels a reply: its code and duration.
func result(e *Event) string {
	code := "ok"
	if e.Code != 0 {
		code = strconv.Itoa(int(e.Code))
	}
	return code + " " + strconv.FormatFloat(float64(e.DurationUS)/1000, 'f', 1, 64) + " ms"
}

// mermaidKeywords cannot be participant ids.
var mermaidKeywords = map[string]bool{
	"end": true, "loop": true, "alt": true, "else": true, "opt": true, "par": true, "and": true,
	"rect": true, "note": true, "box": true, "critical": true, "break": true, "participant": true,
	"actor": true, "activate": true, "deactivate": true, "autonumber": true, "title": true,
	"create": true, "destroy": true, "link": true, "links": true, "over": true, "as": true,
}

// mermaidID makes a participant id of name: letters, digits and '_' only.
func mermaidID(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	id := string(b)
	if mermaidKeywords[strings.ToLower(id)] || id[0] >= '0' && id[0] <= '9' {
		id = "p_" + id
	}
	return id
}

// mermaidText keeps a label from breaking the diagram: no line breaks,
// statement separators or entity codes.
func mermaidText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f, r == ';', r == '#', r == '\u2028', r == '\u2029':
			return ' '
		}
		return r
	}, s)
}
