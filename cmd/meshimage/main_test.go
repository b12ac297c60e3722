package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunRefusesIncompleteFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"no tag", []string{"--binary", "x", "--out", "x.tar"}, "", "need --binary, --tag and --out"},
		{"no out", []string{"--binary", "x", "--tag", "a/b:1"}, "", "need --binary, --tag and --out"},
		{"bad port", []string{"--port", "https"}, "", `port "https" is not a number`},
		{"bad epoch", []string{"--binary", "x", "--tag", "a/b:1", "--out", "x.tar"}, "yesterday", `SOURCE_DATE_EPOCH "yesterday"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", tt.env)
			var out, errb bytes.Buffer
			if code := run(tt.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("run %v: %d %q, want 2 and %q", tt.args, code, errb.String(), tt.want)
			}
		})
	}
	var out, errb bytes.Buffer
	if code := run([]string{"--binary", "/nonexistent", "--tag", "a/b:1", "--out", t.TempDir() + "/x.tar"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "/nonexistent") {
		t.Errorf("a missing binary: %d %q, want 1 naming it", code, errb.String())
	}
}
