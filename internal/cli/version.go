package cli

import (
	"fmt"
	"runtime/debug"
)

// Version returns what a binary says to --version: its name, the main
// module's version, and the VCS revision and time it was built from
// ("broker-bridge (devel) revision 1a2b3c4d5e6f, 2026-12-04T03:00:00Z,
// modified").
func Version(name string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return name + " (no build information)"
	}
	v := fmt.Sprintf("%s %s", name, bi.Main.Version)
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		v += " revision " + rev
		if t := settings["vcs.time"]; t != "" {
			v += ", " + t
		}
		if settings["vcs.modified"] == "true" {
			v += ", modified"
		}
	}
	return v + ", " + bi.GoVersion
}
