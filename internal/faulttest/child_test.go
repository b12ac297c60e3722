package faulttest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// child is a booth-runner running as a child process.
type child struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's error, once done
}

// startRunner runs booth-runner with booth as instance against url. When
// the test ends a child still running is stopped, and a failed test shows
// its log.
func startRunner(t *testing.T, url, booth, instance string) *child {
	t.Helper()
	c := &child{name: instance, out: &syncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(runnerBinary(t), childArgs(url, booth, instance)...)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", instance, err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		if !c.exited() {
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-c.done:
			case <-time.After(10 * time.Second):
				_ = c.cmd.Process.Kill()
				<-c.done
			}
		}
		if t.Failed() {
			t.Logf("log of %s:\n%s", c.name, c.out.String())
		}
	})
	return c
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the child.
func (c *child) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signalling %s: %v", c.name, err)
	}
}

// wait waits for the child to exit and returns its state, failing the test
// after timeout.
func (c *child) wait(t *testing.T, timeout time.Duration) *os.ProcessState {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		t.Fatalf("%s still running %v after it was told to stop", c.name, timeout)
	}
	var exit *exec.ExitError
	if c.err != nil && !errors.As(c.err, &exit) {
		t.Fatalf("%s: %v", c.name, c.err)
	}
	return c.cmd.ProcessState
}

// syncBuffer is a bytes.Buffer safe for the child's writes and the test's
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// contains reports whether the log holds text.
func (s *syncBuffer) contains(text string) bool { return strings.Contains(s.String(), text) }
