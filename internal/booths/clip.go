package booths

import (
	"strconv"
	"unicode/utf8"
)

// clipLen is how much of a caller's value an error message quotes.
const clipLen = 64

// clip quotes s for an error message, cut to clipLen runes, so that a huge
// or odd value cannot blow up the reply's error header.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= clipLen {
		return strconv.Quote(s)
	}
	r := []rune(s)
	return strconv.Quote(string(r[:clipLen])) + "..."
}
