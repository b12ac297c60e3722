package charttest

import (
	"fmt"
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
