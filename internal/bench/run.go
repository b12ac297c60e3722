package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Config says how to run the benchmark.
type Config struct {
	// RepoDir is the repository root (deployments/ is read from it).
	RepoDir string
	// BinDir holds the built broker-bridge, booth-runner and meshbench.
	BinDir string
	// WorkDir holds credentials, stores and logs; it must exist.
	WorkDir string
	// Rounds is how many times each pair alternates (5: a median that one
	// or two disturbed rounds on a shared machine cannot move).
	Rounds int
	// Window and Warm are the measured and warm-up periods of each
	// closed-loop run (1 s, 0.25 s); OpenWindow that of each open-loop
	// run (2 s); HTTPWindow that of each HTTP run (2 s).
	Window, Warm, OpenWindow, HTTPWindow time.Duration
	// Rate is the fixed rate of the open-loop runs (1000/s).
	Rate int
	// Skip names sections not to run: "rpc", "http".
	Skip map[string]bool
	// Commit names the code measured, for the report.
	Commit string
	// Log receives progress lines.
	Log io.Writer
}

func (c *Config) setDefaults() {
	if c.Rounds == 0 {
		c.Rounds = 5
	}
	if c.Window == 0 {
		c.Window = time.Second
	}
	if c.Warm == 0 {
		c.Warm = 250 * time.Millisecond
	}
	if c.OpenWindow == 0 {
		c.OpenWindow = 2 * time.Second
	}
	if c.HTTPWindow == 0 {
		c.HTTPWindow = 2 * time.Second
	}
	if c.Rate == 0 {
		c.Rate = 1000
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

func (c *Config) demoMatrix() string { return filepath.Join(c.RepoDir, "deployments", "matrix.yaml") }
func (c *Config) feeTable() string   { return filepath.Join(c.RepoDir, "deployments", "fees.yaml") }

// Run runs every pair and returns the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.setDefaults()
	start := time.Now()
	rep := &Report{Machine: ThisMachine(), Rounds: cfg.Rounds}
	rep.Machine.Commit = cfg.Commit
	creds, err := NewCreds(filepath.Join(cfg.WorkDir, "mesh"), cfg.demoMatrix())
	if err != nil {
		return nil, err
	}
	if !cfg.Skip["rpc"] {
		if err := runRPC(ctx, &cfg, creds, rep); err != nil {
			return nil, fmt.Errorf("rpc pairs: %w", err)
		}
	}
	if !cfg.Skip["http"] {
		if err := runHTTP(ctx, &cfg, creds, rep); err != nil {
			return nil, fmt.Errorf("HTTP pairs: %w", err)
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// logf prints a progress line.
func (c *Config) logf(format string, args ...any) {
	fmt.Fprintf(c.Log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// mustDir makes a directory under the work dir.
func (c *Config) mustDir(name string) (string, error) {
	d := filepath.Join(c.WorkDir, name)
	return d, os.MkdirAll(d, 0o755)
}
