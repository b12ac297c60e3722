package bridge

import (
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/pkg/rpc"
)

func TestCheckJSONLimits(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name    string
		body    string
		wantMsg string // "" when accepted
	}{
		{"plain object", `{"license_type":"architect","fee":125.5}`, ""},
		{"brackets and quotes inside a string", `{"a":"[[[{{\"\\"}`, ""},
		{"64 levels", deep(MaxJSONDepth), ""},
		{"65 levels", deep(MaxJSONDepth + 1), "deeper than 64 levels"},
		{"10,000 levels", deep(10000), "deeper than 64 levels"},
		{"negative exponent", `[-1.5e-300, 0, 1E10]`, ""},
		{"1e999999", `{"fee":1e999999}`, "number out of range: 1e999999"},
		{"10k digits", `{"fee":` + strings.Repeat("9", 10000) + `}`, "a number of 10000 digits"},
		{"64-digit number", `[` + strings.Repeat("1", 64) + `]`, ""},
		{"invalid UTF-8", "{\"a\":\"\xff\xfe\"}", "not valid UTF-8 (at byte 6)"},
		{"valid non-ASCII", `{"name":"Avery Jöhnson 名前"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkJSONLimits([]byte(tt.body))
			switch {
			case tt.wantMsg == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantMsg != "" && err == nil:
				t.Fatalf("accepted, want refusal naming %q", tt.wantMsg)
			case tt.wantMsg != "":
				if rpc.CodeOf(err) != rpc.CodeBadRequest || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("err = %v, want 400 naming %q", err, tt.wantMsg)
				}
			}
		})
	}
}

func BenchmarkCheckJSONLimits(b *testing.B) {
	body := []byte(`{"name":"Avery Johnson","ssn":"123-45-6789","license_type":"professional-engineer","fee":125}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkJSONLimits(body); err != nil {
			b.Fatal(err)
		}
	}
}
