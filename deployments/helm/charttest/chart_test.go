package charttest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// valueSets are the values the chart is checked with: its defaults, and the
// production file on top of them.
var valueSets = map[string][]string{
	"default":    nil,
	"production": {"values-production.yaml"},
}

// workload is a Deployment or StatefulSet: its name, selector, pod template
// and replicas.
type workload struct {
	kind, name string
	selector   *metav1.LabelSelector
	pod        corev1.PodTemplateSpec
	replicas   int32
}

// rendered is what one value set renders, sorted by kind.
type rendered struct {
	workloads []workload
	pdbs      []*policyv1.PodDisruptionBudget
	services  []*corev1.Service
	policies  []*networkingv1.NetworkPolicy
	configs   []*corev1.ConfigMap
	kinds     []string
}

func renderSet(t *testing.T, files []string) rendered {
	t.Helper()
	var r rendered
	for _, o := range decodeAll(t, render(t, files...)) {
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			r.workloads = append(r.workloads, workload{"Deployment", v.Name, v.Spec.Selector, v.Spec.Template, *v.Spec.Replicas})
		case *appsv1.StatefulSet:
			r.workloads = append(r.workloads, workload{"StatefulSet", v.Name, v.Spec.Selector, v.Spec.Template, *v.Spec.Replicas})
		case *policyv1.PodDisruptionBudget:
			r.pdbs = append(r.pdbs, v)
		case *corev1.Service:
			r.services = append(r.services, v)
		case *networkingv1.NetworkPolicy:
			r.policies = append(r.policies, v)
		case *corev1.ConfigMap:
			r.configs = append(r.configs, v)
		}
		r.kinds = append(r.kinds, fmt.Sprintf("%T", o.obj))
	}
	return r
}

// forEachSet runs check on what every value set renders.
func forEachSet(t *testing.T, check func(t *testing.T, name string, r rendered)) {
	for name, files := range valueSets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			check(t, name, renderSet(t, files))
		})
	}
}

// The chart makes what it should and nothing else: a Deployment per booth
// and for the bridge, the NATS StatefulSet, their PDBs, Services,
// NetworkPolicies and ConfigMaps, and no Secret.
func TestObjects(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string, r rendered) {
		var got []string
		for _, w := range r.workloads {
			got = append(got, w.kind+"/"+w.name)
		}
		slices.Sort(got)
		want := []string{"Deployment/hms-svc-audit-log", "Deployment/hms-svc-bridge", "Deployment/hms-svc-fee-calc",
			"Deployment/hms-svc-license-printer", "Deployment/hms-svc-payment", "StatefulSet/hms-svc-nats"}
		if !slices.Equal(got, want) {
			t.Errorf("workloads %v, want %v", got, want)
		}
		for _, k := range r.kinds {
			if strings.Contains(k, "Secret") {
				t.Errorf("the chart renders a %s: Secrets come from meshctl k8s-secrets, never from the chart", k)
			}
		}
		if len(r.policies) != 3 {
			t.Errorf("%d NetworkPolicies, want 3 (booths, bridge, nats)", len(r.policies))
		}
		wantReplicas := map[string]int32{"hms-svc-bridge": 2, "hms-svc-fee-calc": 2, "hms-svc-nats": 3}
		if name == "production" {
			wantReplicas = map[string]int32{"hms-svc-bridge": 3, "hms-svc-fee-calc": 3, "hms-svc-nats": 3}
		}
		for _, w := range r.workloads {
			if want, ok := wantReplicas[w.name]; ok && w.replicas != want {
				t.Errorf("%s replicas %d, want %d", w.name, w.replicas, want)
			}
		}
	})
}

// Every pod runs as a non-root user with seccomp and no service account
// token; every container drops every capability, cannot gain privileges,
// has a read-only root, probes, and resource requests and limits.
func TestPodsAreLockedDown(t *testing.T) {
	forEachSet(t, func(t *testing.T, _ string, r rendered) {
		for _, w := range r.workloads {
			spec := w.pod.Spec
			psc := spec.SecurityContext
			switch {
			case psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0:
				t.Errorf("%s: pod securityContext %+v, want runAsNonRoot and a non-zero runAsUser", w.name, psc)
			case psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
				t.Errorf("%s: pod seccompProfile %+v, want RuntimeDefault", w.name, psc.SeccompProfile)
			case spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken:
				t.Errorf("%s: the service account token is mounted", w.name)
			case spec.HostNetwork || spec.HostPID || spec.HostIPC:
				t.Errorf("%s: shares a host namespace", w.name)
			}
			if len(spec.InitContainers)+len(spec.EphemeralContainers) > 0 {
				t.Errorf("%s: has init or ephemeral containers, which this test does not check", w.name)
			}
			for _, c := range spec.Containers {
				where := w.name + "/" + c.Name
				checkContainerSecurity(t, where, c.SecurityContext)
				checkProbes(t, where, c)
				for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					if c.Resources.Requests.Name(res, "").IsZero() || c.Resources.Limits.Name(res, "").IsZero() {
						t.Errorf("%s: no %s request or limit", where, res)
					}
				}
			}
		}
	})
}

func checkContainerSecurity(t *testing.T, where string, sc *corev1.SecurityContext) {
	t.Helper()
	switch {
	case sc == nil:
		t.Errorf("%s: no securityContext", where)
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Errorf("%s: runAsNonRoot not set", where)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("%s: allowPrivilegeEscalation not false", where)
	case sc.Privileged != nil && *sc.Privileged:
		t.Errorf("%s: privileged", where)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("%s: root file system not read-only", where)
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("%s: capabilities %+v, want drop [ALL] and no add", where, sc.Capabilities)
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("%s: seccompProfile %+v, want RuntimeDefault", where, sc.SeccompProfile)
	}
}

// checkProbes wants HTTP liveness and readiness probes on a port the
// container declares and, for the mesh's commands, on the port its
// --health-listen serves: the only one a kubelet can reach without a client
// certificate.
func checkProbes(t *testing.T, where string, c corev1.Container) {
	t.Helper()
	for kind, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s: no HTTP %s probe", where, kind)
			continue
		}
		port := containerPort(c, p.HTTPGet.Port.String())
		if port == 0 {
			t.Errorf("%s: %s probe on port %q, which the container does not declare", where, kind, p.HTTPGet.Port.String())
			continue
		}
		if c.Name == "nats" {
			continue
		}
		if want := fmt.Sprintf("--health-listen=:%d", port); !slices.Contains(c.Args, want) {
			t.Errorf("%s: %s probe on port %d, but the args %v have no %s", where, kind, port, c.Args, want)
		}
		if wantPath := map[string]string{"liveness": "/healthz", "readiness": "/readyz"}[kind]; p.HTTPGet.Path != wantPath {
			t.Errorf("%s: %s probe on %s, want %s", where, kind, p.HTTPGet.Path, wantPath)
		}
	}
}

// containerPort returns the number of c's port named or numbered p, 0 if none.
func containerPort(c corev1.Container, p string) int32 {
	for _, cp := range c.Ports {
		if cp.Name == p || fmt.Sprint(cp.ContainerPort) == p {
			return cp.ContainerPort
		}
	}
	return 0
}

// Every workload has exactly one PodDisruptionBudget, whose selector picks
// its pods and no other workload's.
func TestDisruptionBudgetsMatchWorkloads(t *testing.T) {
	forEachSet(t, func(t *testing.T, _ string, r rendered) {
		covered := map[string]int{}
		for _, pdb := range r.pdbs {
			sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
			if err != nil || sel.Empty() {
				t.Errorf("PDB %s: selector %v: %v", pdb.Name, pdb.Spec.Selector, err)
				continue
			}
			var matched []string
			for _, w := range r.workloads {
				if sel.Matches(labels.Set(w.pod.Labels)) {
					matched = append(matched, w.name)
					covered[w.name]++
				}
			}
			if len(matched) != 1 {
				t.Errorf("PDB %s selects the pods of %v, want exactly one workload", pdb.Name, matched)
			}
			if pdb.Spec.MaxUnavailable == nil && pdb.Spec.MinAvailable == nil {
				t.Errorf("PDB %s sets neither maxUnavailable nor minAvailable", pdb.Name)
			}
		}
		for _, w := range r.workloads {
			wsel, err := metav1.LabelSelectorAsSelector(w.selector)
			if err != nil || !wsel.Matches(labels.Set(w.pod.Labels)) {
				t.Errorf("%s: its selector %v does not match its own pods %v", w.name, w.selector, w.pod.Labels)
			}
			if covered[w.name] != 1 {
				t.Errorf("%s is covered by %d PDBs, want 1", w.name, covered[w.name])
			}
		}
	})
}

// appVersion is the chart's appVersion, which the mesh's images are tagged
// with; natsVersion is the nats-server version the mesh's go.mod names.
func versions(t *testing.T) (appVersion, natsVersion string) {
	t.Helper()
	appVersion = loadChart(t).Metadata.AppVersion
	m := regexp.MustCompile(`(?m)^\s*github\.com/nats-io/nats-server/v2 v(\S+)`).FindSubmatch(readFile(t, "../../../go.mod"))
	if m == nil {
		t.Fatal("go.mod names no nats-server version")
	}
	return appVersion, string(m[1])
}

// The mesh's images are tagged with the chart's appVersion; the NATS image
// is the nats-server release the mesh is built and tested with.
func TestImages(t *testing.T) {
	app, natsV := versions(t)
	forEachSet(t, func(t *testing.T, name string, r rendered) {
		registry := ""
		if name == "production" {
			registry = "registry.example.internal/"
		}
		for _, w := range r.workloads {
			for _, c := range w.pod.Spec.Containers {
				want := fmt.Sprintf("%shms-svc/%s:%s", registry, c.Name, app)
				if c.Name == "nats" {
					want = fmt.Sprintf("docker.io/library/nats:%s-alpine", natsV)
				}
				if c.Image != want {
					t.Errorf("%s/%s: image %s, want %s", w.name, c.Name, c.Image, want)
				}
			}
		}
	})
}

// Each booth's Deployment runs that booth alone, on the cluster, with the
// stores at the cluster's replicas; audit-log shares the audit key in
// production.
func TestBoothsRunTheirBooth(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string, r rendered) {
		for _, w := range r.workloads {
			booth := w.pod.Labels["hms-svc.io/booth"]
			if booth == "" {
				continue
			}
			args := w.pod.Spec.Containers[0].Args
			for _, want := range []string{"--booth=" + booth, "--nats=nats://hms-svc-nats:4222", "--replicas=3"} {
				if !slices.Contains(args, want) {
					t.Errorf("%s: args %v lack %s", w.name, args, want)
				}
			}
			hasKey := slices.Contains(args, "--audit-key-file=/etc/hms-svc/audit/audit.key")
			if wantKey := booth == "audit-log" && name == "production"; hasKey != wantKey {
				t.Errorf("%s: --audit-key-file given: %v, want %v", w.name, hasKey, wantKey)
			}
		}
	})
}
