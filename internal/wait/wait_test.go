package wait

import (
	"context"
	"testing"
	"time"
)

func TestJitterStaysInBounds(t *testing.T) {
	for _, b := range []time.Duration{-1, 0, 1, 2, 3, 25 * time.Millisecond, time.Second} {
		for range 50 {
			got := Jitter(b)
			if b <= 1 && got != b {
				t.Fatalf("Jitter(%v) = %v, want %v", b, got, b)
			}
			if b > 1 && (got < b/2 || got > b) {
				t.Fatalf("Jitter(%v) = %v, want within [%v, %v]", b, got, b/2, b)
			}
		}
	}
}

func TestSleep(t *testing.T) {
	live := context.Background()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want bool
	}{
		{"zero on a live ctx", live, 0, true},
		{"zero on an ended ctx", ended, 0, false},
		{"negative on a live ctx", live, -time.Second, true},
		{"short on a live ctx", live, time.Millisecond, true},
		{"long on an ended ctx", ended, time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sleep(tc.ctx, tc.d); got != tc.want {
				t.Errorf("Sleep(%v) = %v, want %v", tc.d, got, tc.want)
			}
		})
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if Sleep(ctx, time.Hour) {
		t.Fatal("Sleep(1h) reported the hour passed")
	}
	if got := time.Since(start); got > 10*time.Second {
		t.Errorf("Sleep returned after %v, want soon after its ctx ended", got)
	}
}
