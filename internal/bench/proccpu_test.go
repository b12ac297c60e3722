package bench

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/natstest"
)

// A child that burns CPU is counted in its parent's ProcCPU while it runs.
func TestProcCPUCountsLiveChildren(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	parent := exec.Command(sh, "-c", `sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5' & wait`)
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = parent.Process.Kill(); _ = parent.Wait() }()
	natstest.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		got, err := ProcCPU(parent.Process.Pid)
		if err != nil {
			return err
		}
		if got < 100*time.Millisecond {
			return fmt.Errorf("ProcCPU = %v, want the child's busy loop (>= 100ms) counted", got)
		}
		return nil
	})
	if _, err := ProcCPU(os.Getpid()); err != nil {
		t.Errorf("ProcCPU of this process: %v", err)
	}
}
