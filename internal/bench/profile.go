package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"
)

// ProfileConfig says how to profile the pkg/rpc-versus-raw-NATS pair.
type ProfileConfig struct {
	RepoDir, WorkDir, OutDir string
	Callers                  int
	Window                   time.Duration
	Log                      io.Writer
}

// Profile runs the mesh side (everything on) and the raw side of the
// in-process pair one after the other, each under a CPU profile, with
// allocation profiles taken before and after each, and writes them to
// OutDir with the pprof commands that compare them.
func Profile(ctx context.Context, cfg ProfileConfig, out io.Writer) error {
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return err
	}
	cfg2 := Config{RepoDir: cfg.RepoDir}
	creds, err := NewCreds(filepath.Join(cfg.WorkDir, "mesh"), cfg2.demoMatrix())
	if err != nil {
		return err
	}
	p, err := NewRPCPair(ctx, creds, cfg.WorkDir, cfg2.feeTable())
	if err != nil {
		return err
	}
	defer p.Close()
	var cmds []string
	for _, side := range []string{SideMesh, SideRaw} {
		name := strings.ReplaceAll(side, " ", "-")
		op, err := p.Op(side)
		if err != nil {
			return err
		}
		p.Use(side)
		if _, err := Closed(ctx, cfg.Callers, 0, 500*time.Millisecond, op); err != nil { // warm
			return err
		}
		before := filepath.Join(cfg.OutDir, name+"-allocs-before.pprof")
		if err := writeProfile("allocs", before); err != nil {
			return err
		}
		cpuFile := filepath.Join(cfg.OutDir, name+"-cpu.pprof")
		f, err := os.Create(cpuFile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		res, err := Closed(ctx, cfg.Callers, 0, cfg.Window, op)
		pprof.StopCPUProfile()
		f.Close()
		if err != nil {
			return err
		}
		after := filepath.Join(cfg.OutDir, name+"-allocs-after.pprof")
		if err := writeProfile("allocs", after); err != nil {
			return err
		}
		fmt.Fprintf(out, "%-5s %d callers: %.0f calls/s, p50 %.0f µs, CPU %.3f s per 1000 calls (%d calls)\n",
			side, cfg.Callers, res.Rate(), us(res.Latency.Quantile(0.5)), res.CPUPer1000(), res.Calls)
		cmds = append(cmds,
			fmt.Sprintf("go tool pprof -top %s", cpuFile),
			fmt.Sprintf("go tool pprof -top -sample_index=alloc_space -base %s %s", before, after),
			fmt.Sprintf("go tool pprof -top -sample_index=alloc_objects -base %s %s", before, after))
	}
	fmt.Fprintf(out, "\nprofiles in %s; compare with:\n  %s\n", cfg.OutDir, strings.Join(cmds, "\n  "))
	return nil
}

func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
