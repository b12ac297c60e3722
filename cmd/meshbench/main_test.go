package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunRefusesBadCommandLines(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantErr    string
	}{
		{"unknown command", []string{"fly"}, 2, `unknown command "fly"`},
		{"unknown section", []string{"run", "-skip", "disk"}, 2, `-skip "disk"`},
		{"leftover argument", []string{"plain", "extra"}, 2, "unexpected arguments"},
		{"plain server off loopback", []string{"plain", "-listen", "0.0.0.0:0", "-fees", "../../deployments/fees.yaml"}, 1, "not a loopback address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := run(tt.args, &stdout, &stderr)
			if got != tt.wantStatus || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("status %d, stderr %q; want %d and %q", got, stderr.String(), tt.wantStatus, tt.wantErr)
			}
		})
	}
}
