package main

import (
	"context"
	"flag"
	"io"
	"os"
	"time"

	"github.com/hms-svc/hms-svc/internal/bench"
)

func runProfile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg bench.ProfileConfig
	fs := flag.NewFlagSet("meshbench profile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.RepoDir, "repo", ".", "repository root (deployments/ is read from it)")
	fs.StringVar(&cfg.OutDir, "out", "bench-profiles", "folder to write the profiles into")
	fs.IntVar(&cfg.Callers, "callers", 16, "concurrent callers")
	fs.DurationVar(&cfg.Window, "window", 5*time.Second, "profiled period of each side")
	if err := parse(fs, args); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "meshbench-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	cfg.WorkDir, cfg.Log = work, stderr
	return bench.Profile(ctx, cfg, stdout)
}
