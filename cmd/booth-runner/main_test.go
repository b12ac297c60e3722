package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The command line, the HMS_* environment and the --config file all reach
// the runner's config, in that order of precedence, and what is wrong is
// refused by name with exit status 2 before anything connects.
func TestFlagsEnvironmentAndFileAreRefusedByName(t *testing.T) {
	file := filepath.Join(t.TempDir(), "runner.yaml")
	if err := os.WriteFile(file, []byte("sidecar: true\nidentity: fee-calc\nendpoint: [/calculate]\napp-url: http://127.0.0.1:8090\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantMsg string
	}{
		{"nothing to run", nil, nil, "nothing to run"},
		{"sidecar from the file, no token", []string{"--config", file}, nil, "an API token of at least 16 characters is required"},
		{"the app off loopback, from the environment", []string{"--config", file}, map[string]string{"HMS_APP_URL": "http://192.0.2.1:8090", "HMS_API_TOKEN": "0123456789abcdef0123"}, "must be on a loopback address"},
		{"the flag over the environment", []string{"--config", file, "--app-url", "http://127.0.0.1:8090", "--listen", "0.0.0.0:3500"},
			map[string]string{"HMS_APP_URL": "http://192.0.2.1:8090", "HMS_API_TOKEN": "0123456789abcdef0123"}, "refused: the app's endpoint is cleartext"},
		{"endpoints without --sidecar", []string{"--demo", "--endpoint", "/x"}, nil, "apply with --sidecar only"},
		{"a bad environment value", []string{"--demo"}, map[string]string{"HMS_REPLICAS": "many"}, "HMS_REPLICAS"},
		{"a bad log level", []string{"--demo", "--log-level", "loud"}, nil, `--log-level "loud"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.wantMsg) {
				t.Errorf("exit %d, stderr %q; want 2 saying %q", code, stderr.String(), tt.wantMsg)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, &stderr); code != 0 || !strings.HasPrefix(stderr.String(), "booth-runner ") {
		t.Errorf("exit %d, %q; want 0 and the version", code, stderr.String())
	}
}
