package bench

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: every power-of-two range of
// values is cut into 2^subBits linear buckets, so a recorded value is
// reported within 1/2^(subBits+1) (under 1%) of itself.
const subBits = 6

const (
	subCount = 1 << subBits // linear buckets per power of two
	// maxShift bounds the values kept: up to 2^(maxShift+subBits+1) ns,
	// about 1.2 hours; larger ones land in the last bucket.
	maxShift   = 35
	numBuckets = (maxShift + 2) * subCount
)

// Histogram counts durations in log-linear buckets, HDR-style: constant
// relative precision from nanoseconds to hours in a fixed 19 KB. The zero
// value is empty and ready. It is not safe for concurrent use: give each
// goroutine its own and Merge them.
type Histogram struct {
	counts [numBuckets]uint64
	total  uint64
	max    int64
	sum    float64
}

// bucketOf returns the bucket of a value in nanoseconds (negative as 0).
func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	if shift <= 0 {
		return int(v)
	}
	if shift > maxShift {
		return numBuckets - 1
	}
	return shift*subCount + int(v>>shift)
}

// bucketMid returns the middle of a bucket's range of values.
func bucketMid(i int) int64 {
	if i < 2*subCount {
		return int64(i)
	}
	shift := i/subCount - 1
	lo := int64(i-shift*subCount) << shift
	return lo + int64(1)<<(shift-1)
}

// Record counts one duration.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	h.counts[bucketOf(v)]++
	h.total++
	h.sum += float64(v)
	if v > h.max {
		h.max = v
	}
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Max returns the largest duration recorded.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the mean duration, or 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.total))
}

// Quantile returns the duration at quantile q in [0,1] (0.99 is p99): the
// middle of the bucket holding the ceil(q*n)-th smallest value, never more
// than the largest value recorded. It is 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketMid(i), h.max))
		}
	}
	return time.Duration(h.max)
}
