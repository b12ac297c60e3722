package bench

import (
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Machine describes where a run happened.
type Machine struct {
	CPUs        int
	CPUModel    string
	GoVersion   string
	NATSServer  string
	NATSClient  string
	H2Load      string
	Nginx       string
	LoadAverage string // at the start of the run
	Date        time.Time
	// Commit is the code measured (git describe), when known.
	Commit string
}

// ThisMachine describes this machine now.
func ThisMachine() Machine {
	m := Machine{
		CPUs: runtime.NumCPU(), CPUModel: "unknown", GoVersion: runtime.Version(),
		NATSServer: server.VERSION, NATSClient: nats.Version, Nginx: NginxVersion(),
		H2Load: "not installed", Date: time.Now().UTC(),
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) >= 3 {
			m.LoadAverage = strings.Join(f[:3], " ")
		}
	}
	return m
}
