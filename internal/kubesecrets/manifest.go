package kubesecrets

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/hms-svc/hms-svc/internal/pki"
)

// Labels every manifest carries; the chart selects nothing by them.
const (
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelComponent = "app.kubernetes.io/component"
	LabelIdentity  = "hms-svc.io/identity"
)

type manifest struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   metadata          `yaml:"metadata"`
	Type       string            `yaml:"type"`
	Data       map[string]string `yaml:"data"`
}

type metadata struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels"`
}

// YAML renders s as a v1 Secret of type Opaque, its files base64-encoded
// under data, in namespace when set.
func (s Secret) YAML(namespace string) ([]byte, error) {
	labels := map[string]string{LabelPartOf: "hms-svc", LabelComponent: "nats"}
	if s.Identity != "" {
		labels[LabelComponent], labels[LabelIdentity] = "credentials", s.Identity
	}
	mf := manifest{
		APIVersion: "v1", Kind: "Secret", Type: "Opaque",
		Metadata: metadata{Name: s.Name, Namespace: namespace, Labels: labels},
		Data:     make(map[string]string, len(s.Files)),
	}
	for _, k := range s.keys() {
		mf.Data[k] = base64.StdEncoding.EncodeToString(s.Files[k])
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(mf); err != nil {
		return nil, fmt.Errorf("kubesecrets: %s: %w", s.Name, err)
	}
	return buf.Bytes(), enc.Close()
}

// Render returns every Secret as one multi-document YAML stream, for
// `kubectl apply -f -`.
func Render(secrets []Secret, namespace string) ([]byte, error) {
	var out bytes.Buffer
	for _, s := range secrets {
		y, err := s.YAML(namespace)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(y)
	}
	return out.Bytes(), nil
}

// WriteFiles writes each Secret to dir as "<name>.yaml", readable by its
// owner only, and returns the paths.
func WriteFiles(secrets []Secret, namespace, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, pki.DirMode); err != nil {
		return nil, fmt.Errorf("kubesecrets: %w", err)
	}
	var paths []string
	for _, s := range secrets {
		y, err := s.YAML(namespace)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, s.Name+".yaml")
		if err := os.WriteFile(p, y, pki.SecretMode); err != nil {
			return nil, fmt.Errorf("kubesecrets: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
