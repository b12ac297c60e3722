package bench

import (
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// RawService is the identity and service name of the plain micro endpoint
// the mesh is compared with: it answers svc.raw-fee.calculate with the same
// JSON work as fee-calc, and the gateway may call it.
const RawService = "raw-fee"

// DedupService is the identity and service name of the booth that serves
// the same fee work twice: /once, exactly once per request id (rpc
// NotIdempotent, answers kept in the SVC_DEDUP bucket), and /plain.
const DedupService = "fee-dedup"

// benchMatrix returns the demo matrix (the file at demo) with the raw
// endpoint's, the dedup booth's and the sidecar booth's identities added and granted to the
// gateway, so that both sides of a pair run on the same secure server under
// the same kind of permissions.
func benchMatrix(demo string) ([]byte, error) {
	data, err := os.ReadFile(demo)
	if err != nil {
		return nil, fmt.Errorf("bench: reading the demo matrix: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", demo, err)
	}
	ids, ok := doc["identities"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("bench: %s has no identities", demo)
	}
	gw, ok := ids["gateway"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("bench: %s has no gateway identity", demo)
	}
	calls, _ := gw["calls"].(map[string]any)
	if calls == nil {
		calls = map[string]any{}
	}
	calls[RawService] = []string{"/calculate"}
	calls[DedupService] = []string{"/once", "/plain"}
	calls[SidecarService] = []string{"/calculate"}
	gw["calls"] = calls
	ids[RawService] = map[string]any{"kind": "booth"}
	ids[SidecarService] = map[string]any{"kind": "booth"}
	ids[DedupService] = map[string]any{"kind": "booth", "jetstream": []any{
		map[string]any{"kv": "SVC_DEDUP", "access": "write"},
	}}
	return yaml.Marshal(doc)
}
