package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Rewriting BENCHMARKS.md replaces the figures and keeps the hand-written
// analysis below the marker.
func TestWriteFileKeepsTheAnalysis(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	old := "# old figures\n| 1 | 2 |\n\n" + KeptMarker + "\n\n## Analysis\nwhy the bridge misses\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := &Report{Rounds: 3, Rows: []Row{{Pair: "p", Measured: "m", A: "new figure", Holds: Holds}}}
	if err := rep.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, want := range []string{"new figure", KeptMarker, "why the bridge misses"} {
		if !strings.Contains(got, want) {
			t.Errorf("rewritten file lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "old figures") {
		t.Errorf("rewritten file still holds the old figures:\n%s", got)
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtRate(12345.4), "12,345/s"},
		{fmtRate(999), "999/s"},
		{fmtUS(87.4), "87 µs"},
		{fmtUS(12345), "12.3 ms"},
		{fmtAddedUS(23), "+23 µs"},
		{fmtAddedUS(-5), "−5 µs"},
		{callersLabel(1), "1 caller"},
		{callersLabel(64), "64 concurrent callers"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %v, want 2", got)
	}
	if got := rotate([]int{1, 2, 3}, 4); got[0] != 2 || got[2] != 1 {
		t.Errorf("rotate = %v, want [2 3 1]", got)
	}
}
