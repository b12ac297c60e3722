package charttest

import (
	"fmt"
	"strings"
	"testing"
)

// The strict decoding that every check relies on refuses what the API
// server would drop or refuse: an unknown field, a misspelt one, a duplicate,
// a wrong type, an unknown kind.
func TestStrictDecodingRefuses(t *testing.T) {
	const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: c, image: i%s}]
%s`
	tests := map[string]string{
		"unknown field":  fmt.Sprintf(deployment, "", "  replicaz: 2"),
		"misspelt field": fmt.Sprintf(deployment, ", imagePullPolcy: Always", ""),
		"duplicate":      fmt.Sprintf(deployment, "", "  replicas: 1\n  replicas: 2"),
		"wrong type":     fmt.Sprintf(deployment, "", "  replicas: two"),
		"unknown kind":   "apiVersion: v1\nkind: Secrett\nmetadata: {name: x}\n",
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := decode(map[string]string{"t.yaml": doc}); err == nil {
				t.Errorf("decoded:\n%s", doc)
			}
		})
	}
	ok := fmt.Sprintf(deployment, ", imagePullPolicy: Always", "  replicas: 2")
	if _, err := decode(map[string]string{"t.yaml": ok}); err != nil {
		t.Errorf("a valid Deployment: %v", err)
	}
}

// values.schema.json refuses a misspelt or unknown value, a booth the mesh
// does not have, and values no pod could run with, by name.
func TestValuesSchemaRefuses(t *testing.T) {
	tests := map[string]struct {
		vals map[string]any
		want string
	}{
		"misspelt key":  {map[string]any{"bridge": map[string]any{"replica": 3}}, "replica"},
		"unknown top":   {map[string]any{"bridges": map[string]any{}}, "bridges"},
		"unknown booth": {map[string]any{"booths": map[string]any{"fee-calculator": map[string]any{"enabled": true}}}, "fee-calculator"},
		"no replicas":   {map[string]any{"booths": map[string]any{"payment": map[string]any{"replicas": 0}}}, "replicas"},
		"small NATS":    {map[string]any{"nats": map[string]any{"replicas": 1}}, "replicas"},
		"bad registry":  {map[string]any{"image": map[string]any{"registry": "registry.example.internal"}}, "registry"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := renderValues(t, tt.vals)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("values %v: %v, want an error naming %q", tt.vals, err, tt.want)
			}
		})
	}
}
