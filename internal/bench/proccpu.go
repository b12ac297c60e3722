package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc/<pid>/stat's CPU times (USER_HZ, 100 on
// Linux).
const clockTick = 10 * time.Millisecond

// ProcCPU returns the CPU time (user plus system) process pid and its
// live child processes have used.
func ProcCPU(pid int) (time.Duration, error) {
	own, _, err := statCPU(pid)
	if err != nil {
		return 0, err
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		child, err := strconv.Atoi(filepath.Base(d))
		if err != nil || child == pid {
			continue
		}
		if cpu, ppid, err := statCPU(child); err == nil && ppid == pid {
			own += cpu
		}
	}
	return own, nil
}

// statCPU reads a process's CPU time and parent from /proc/<pid>/stat.
func statCPU(pid int) (time.Duration, int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces; fields after it are plain.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("bench: unreadable /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("bench: short /proc/%d/stat", pid)
	}
	ppid, _ := strconv.Atoi(f[1])
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("bench: unreadable CPU times in /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * clockTick, ppid, nil
}
