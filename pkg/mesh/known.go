package mesh

import (
	"slices"

	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// knownServices returns the services the matrix lets the Mesh's identity
// call, itself or on behalf of those it acts for, sorted: the breakers its
// clients keep, exported from the start. None without a matrix.
func (m *Mesh) knownServices() []string {
	if m.matrix == nil {
		return nil
	}
	return callees(m.matrix, m.cfg.Identity)
}

// callees returns the services identity may call in mx, itself or for
// those it acts for, sorted and without repeats.
func callees(mx *matrix.Matrix, identity string) []string {
	id, ok := mx.Identity(identity)
	if !ok {
		return nil
	}
	var out []string
	for _, p := range append([]string{identity}, id.ActsFor...) {
		pid, _ := mx.Identity(p)
		for svc := range pid.Calls {
			out = append(out, svc)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
