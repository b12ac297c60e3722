package cli_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hms-svc/hms-svc/internal/cli"
)

// flags is a command's flag set with one flag of each kind.
type flags struct {
	common cli.Common
	nats   string
	port   int
	demo   bool
	booths cli.List
}

func newFlags() (*flag.FlagSet, *flags) {
	f := &flags{}
	fs := flag.NewFlagSet("cmd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.common.Register(fs)
	fs.StringVar(&f.nats, "nats", "nats://default", "")
	fs.IntVar(&f.port, "metrics-port", 9464, "")
	fs.BoolVar(&f.demo, "demo", false, "")
	fs.Var(&f.booths, "booth", "")
	return fs, f
}

func writeFile(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cmd.yaml")
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A flag wins over the environment, which wins over the file, which wins
// over the default.
func TestPrecedenceIsFlagEnvFileDefault(t *testing.T) {
	file := writeFile(t, "nats: nats://file\nmetrics-port: 1111\ndemo: true\nbooth: [payment, audit-log]\n")
	t.Setenv("HMS_NATS_URL", "nats://env")
	t.Setenv("HMS_METRICS_PORT", "2222")
	aliases := map[string]string{"nats": "HMS_NATS_URL"}

	fs, f := newFlags()
	if err := cli.Parse(fs, []string{"--config", file, "--metrics-port", "3333"}, &f.common, aliases); err != nil {
		t.Fatal(err)
	}
	if f.nats != "nats://env" || f.port != 3333 || !f.demo || strings.Join(f.booths, ",") != "payment,audit-log" {
		t.Errorf("got nats %q port %d demo %v booths %v; want env, flag, file, file", f.nats, f.port, f.demo, f.booths)
	}

	t.Setenv("HMS_BOOTH", "fee-calc, payment")
	fs, f = newFlags()
	if err := cli.Parse(fs, nil, &f.common, aliases); err != nil {
		t.Fatal(err)
	}
	if f.nats != "nats://env" || f.port != 2222 || f.demo || strings.Join(f.booths, ",") != "fee-calc,payment" {
		t.Errorf("without a file: nats %q port %d demo %v booths %v; want env values and defaults", f.nats, f.port, f.demo, f.booths)
	}
}

// A config file is refused, by name, when a key names no flag or a value
// does not fit its flag; so is a bad environment value.
func TestBadConfigIsRefusedByName(t *testing.T) {
	tests := []struct {
		name, file, env, wantMsg string
	}{
		{"unknown key", "natz: nats://x\n", "", `unknown key "natz"`},
		{"bad value", "metrics-port: lots\n", "", "metrics-port"},
		{"a list for one value", "nats: [a, b]\n", "", "a list is given for a flag that takes one value"},
		{"not YAML", "nats: [\n", "", "cmd.yaml"},
		{"bad environment value", "", "HMS_METRICS_PORT=many", "HMS_METRICS_PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args []string
			if tt.file != "" {
				args = []string{"--config", writeFile(t, tt.file)}
			}
			if k, v, ok := strings.Cut(tt.env, "="); ok {
				t.Setenv(k, v)
			}
			fs, f := newFlags()
			err := cli.Parse(fs, args, &f.common, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want one naming %q", err, tt.wantMsg)
			}
		})
	}
}

func TestLoggerFormatsAndLevels(t *testing.T) {
	var buf bytes.Buffer
	c := cli.Common{LogFormat: "json", LogLevel: "warn"}
	log, err := c.Logger(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "k", "v")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["msg"] != "shown" || line["k"] != "v" {
		t.Errorf("logged %q, want one JSON line for the warning", buf.String())
	}
	for _, bad := range []cli.Common{{LogFormat: "xml", LogLevel: "info"}, {LogFormat: "text", LogLevel: "loud"}} {
		if _, err := bad.Logger(io.Discard, nil); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestVersionNamesTheBinaryAndGo(t *testing.T) {
	v := cli.Version("broker-bridge")
	if !strings.HasPrefix(v, "broker-bridge ") || !strings.Contains(v, "go1.") {
		t.Errorf("Version = %q, want the name, the module version and the Go version", v)
	}
}
