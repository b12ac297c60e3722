package bench

import (
	"testing"
	"time"
)

func TestBucketsAreContiguousAndOrdered(t *testing.T) {
	prev := -1
	for v := int64(0); v < 1<<20; v++ {
		got := bucketOf(v)
		if got != prev && got != prev+1 {
			t.Fatalf("bucketOf(%d) = %d after %d: buckets must be contiguous", v, got, prev)
		}
		prev = got
	}
	for _, v := range []int64{1, 100, 127, 128, 1000, 123456, 987654321, int64(time.Hour)} {
		mid := bucketMid(bucketOf(v))
		if rel := float64(mid-v) / float64(v); rel > 0.01 || rel < -0.01 {
			t.Errorf("value %d reported as %d: error %.4f, want under 1%%", v, mid, rel)
		}
	}
	if got := bucketOf(1 << 62); got != numBuckets-1 {
		t.Errorf("bucketOf(2^62) = %d, want the last bucket %d", got, numBuckets-1)
	}
}

func TestQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0, 1 * time.Microsecond},
		{0.5, 500 * time.Microsecond},
		{0.9, 900 * time.Microsecond},
		{0.99, 990 * time.Microsecond},
		{1, 1000 * time.Microsecond},
	}
	for _, tt := range tests {
		got := h.Quantile(tt.q)
		if d := got - tt.want; d > tt.want/100 || -d > tt.want/100 {
			t.Errorf("Quantile(%v) = %v, want %v within 1%%", tt.q, got, tt.want)
		}
	}
	if got, want := h.Count(), uint64(1000); got != want {
		t.Errorf("Count = %d, want %d", got, want)
	}
	if got, want := h.Max(), time.Millisecond; got != want {
		t.Errorf("Max = %v, want %v", got, want)
	}
}

func TestMergeAndEmpty(t *testing.T) {
	var a, b, empty Histogram
	a.Record(10 * time.Microsecond)
	b.Record(30 * time.Microsecond)
	a.Merge(&b)
	if got, want := a.Count(), uint64(2); got != want {
		t.Errorf("merged Count = %d, want %d", got, want)
	}
	if got, want := a.Mean(), 20*time.Microsecond; got != want {
		t.Errorf("merged Mean = %v, want %v", got, want)
	}
	if got := empty.Quantile(0.99); got != 0 {
		t.Errorf("empty Quantile = %v, want 0", got)
	}
}
