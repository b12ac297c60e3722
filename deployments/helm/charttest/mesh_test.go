package charttest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/hms-svc/hms-svc/internal/kubesecrets"
	"github.com/hms-svc/hms-svc/internal/pki"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// testSecrets makes the demo matrix's credentials in a new folder, with the
// names the chart's pods use, and returns what `meshctl k8s-secrets` makes
// of them, decoded strictly as Kubernetes Secrets.
func testSecrets(t *testing.T) []*corev1.Secret {
	t.Helper()
	secrets, _ := testMesh(t)
	return secrets
}

// testMesh is testSecrets with the credentials folder they come from.
func testMesh(t *testing.T) ([]*corev1.Secret, string) {
	t.Helper()
	m, err := matrix.Load("../../matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), ".mesh")
	sans := []string{"hms-svc-nats", "*.hms-svc-nats-headless", "hms-svc-bridge", "hms-svc-bridge." + namespace + ".svc"}
	if _, err := pki.Init(dir, m.Identities(), pki.Options{SANs: sans}); err != nil {
		t.Fatal(err)
	}
	ss, err := kubesecrets.Secrets(m, kubesecrets.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	y, err := kubesecrets.Render(ss, namespace)
	if err != nil {
		t.Fatal(err)
	}
	var out []*corev1.Secret
	for _, o := range decodeAll(t, map[string]string{"k8s-secrets": string(y)}) {
		s, ok := o.obj.(*corev1.Secret)
		if !ok {
			t.Fatalf("meshctl k8s-secrets made a %T", o.obj)
		}
		out = append(out, s)
	}
	return out, dir
}

// The Secrets every pod mounts are the ones `meshctl k8s-secrets` makes
// (strict Kubernetes Secrets), each booth's and the bridge's its own
// identity's, and each holds the files its process reads from --mesh-dir.
func TestPodsMountTheSecretsMeshctlMakes(t *testing.T) {
	byName := map[string]*corev1.Secret{}
	for _, s := range testSecrets(t) {
		byName[s.Name] = s
	}
	forEachSet(t, func(t *testing.T, name string, r rendered) {
		for _, w := range r.workloads {
			for _, secret := range mountedSecrets(w.pod.Spec) {
				if secret == "hms-svc-audit-key" && name == "production" {
					continue // made by the operator, see values.yaml
				}
				s, ok := byName[secret]
				if !ok {
					t.Errorf("%s mounts Secret %s, which meshctl k8s-secrets does not make", w.name, secret)
					continue
				}
				identity := w.pod.Labels["hms-svc.io/booth"]
				if w.name == "hms-svc-bridge" {
					identity = "bridge"
				}
				var want []string
				if identity != "" {
					if got := s.Labels[kubesecrets.LabelIdentity]; got != identity {
						t.Errorf("%s mounts the Secret of %q, want its own, %q's", w.name, got, identity)
					}
					want = []string{"ca.pem", identity + ".pem", identity + "-key.pem", identity + ".nk", identity + ".pub"}
				} else {
					want = []string{"ca.pem", "server.pem", "server-key.pem", "route.pem", "route-key.pem", "nkeys.conf"}
				}
				for _, f := range want {
					if _, ok := s.Data[f]; !ok {
						t.Errorf("%s: Secret %s has no %s", w.name, secret, f)
					}
				}
			}
		}
	})
}

// mountedSecrets lists the Secrets a pod mounts, plain or projected.
func mountedSecrets(spec corev1.PodSpec) []string {
	var out []string
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			out = append(out, v.Secret.SecretName)
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					out = append(out, src.Secret.Name)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// writeFiles writes files into dir.
func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
