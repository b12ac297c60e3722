package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// median returns the median of xs (the mean of the middle two for an even
// count), or 0 when empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// each maps every result to a number.
func each(rs []Result, f func(Result) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

// pairwise maps the i-th results of a and b (the same round) to a number.
func pairwise(a, b []Result, f func(a, b Result) float64) []float64 {
	n := min(len(a), len(b))
	out := make([]float64, n)
	for i := range n {
		out[i] = f(a[i], b[i])
	}
	return out
}

// quantileUS returns a function reading quantile q of a result in µs.
func quantileUS(q float64) func(Result) float64 {
	return func(r Result) float64 { return us(r.Latency.Quantile(q)) }
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// rotate returns xs rotated left by n, so that each round runs the sides
// of a pair in another order.
func rotate[T any](xs []T, n int) []T {
	if len(xs) == 0 {
		return nil
	}
	n %= len(xs)
	return append(slices.Clone(xs[n:]), xs[:n]...)
}

// Formatting of figures.

func fmtRate(v float64) string { return groupThousands(int64(v+0.5)) + "/s" }

func fmtUS(v float64) string {
	if v >= 10000 {
		return fmt.Sprintf("%.1f ms", v/1000)
	}
	return fmt.Sprintf("%.0f µs", v)
}

func fmtAddedUS(v float64) string {
	if v >= 0 {
		return "+" + fmtUS(v)
	}
	return "−" + fmtUS(-v)
}

func fmtRatio(v float64) string { return fmt.Sprintf("%.2f", v) }

func fmtMB(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + groupThousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
