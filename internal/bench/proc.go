package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a child process of the benchmark, its output kept in a log file.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error

	mu    sync.Mutex
	lines []string
	seen  chan struct{} // signalled on every new line
}

// StartProc starts name with args, in dir, with its stdout and stderr
// written to logPath and kept for WaitLine.
func StartProc(name, dir, logPath string, args []string, env ...string) (*Proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	// A grandchild holding the output open must not keep Wait from
	// returning once the child itself has exited.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: starting %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, log: f, done: make(chan struct{}), seen: make(chan struct{}, 1)}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(f, line)
			p.mu.Lock()
			p.lines = append(p.lines, line)
			p.mu.Unlock()
			select {
			case p.seen <- struct{}{}:
			default:
			}
		}
		_, _ = io.Copy(f, pr)
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// WaitLine waits for an output line matching re and returns its submatches;
// the first is the whole line.
func (p *Proc) WaitLine(ctx context.Context, re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	next := 0
	for {
		p.mu.Lock()
		lines := p.lines[next:]
		next = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			if m := re.FindStringSubmatch(l); m != nil {
				m[0] = l
				return m, nil
			}
		}
		select {
		case <-p.seen:
		case <-p.done:
			return nil, fmt.Errorf("bench: %s exited (%v) before printing a line matching %s; see %s", p.Name, p.err, re, p.log.Name())
		case <-deadline.C:
			return nil, fmt.Errorf("bench: %s printed no line matching %s in %v; see %s", p.Name, re, timeout, p.log.Name())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Running reports whether the process has not exited.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM, waits up to timeout, then kills.
func (p *Proc) Stop(timeout time.Duration) error {
	if !p.Running() {
		p.log.Close()
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		return p.err
	}
	return nil
}

// RSS returns the resident memory of a process in bytes (VmRSS).
func RSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) < 1 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("bench: no VmRSS for process %d", pid)
}

// RSSPeak samples the RSS of pids every interval until stop is closed and
// returns the largest seen per pid.
func RSSPeak(pids []int, interval time.Duration, stop <-chan struct{}) map[int]int64 {
	peak := map[int]int64{}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, pid := range pids {
			if v, err := RSS(pid); err == nil && v > peak[pid] {
				peak[pid] = v
			}
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}
