package charttest

import (
	"regexp"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// policyFor returns the NetworkPolicies that select w's pods.
func policyFor(r rendered, w workload) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	for _, p := range r.policies {
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(w.pod.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// peerPicks reports whether a peer's pod selector picks pods labelled l.
func peerPicks(p networkingv1.NetworkPolicyPeer, l map[string]string) bool {
	if p.PodSelector == nil || p.IPBlock != nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(p.PodSelector)
	return err == nil && sel.Matches(labels.Set(l))
}

// Every pod is isolated both ways by exactly one policy. Booths take in
// only their probe port and the bridge only the gateway (and probes);
// booths and the bridge reach out only to NATS's client port and DNS; NATS
// takes clients from the mesh's pods and routes from its own.
func TestNetworkPolicies(t *testing.T) {
	forEachSet(t, func(t *testing.T, _ string, r rendered) {
		pods := map[string]map[string]string{} // component -> labels of one of its pods
		for _, w := range r.workloads {
			pods[w.pod.Labels["app.kubernetes.io/component"]] = w.pod.Labels
		}
		for _, w := range r.workloads {
			ps := policyFor(r, w)
			if len(ps) != 1 {
				t.Errorf("%s: selected by %d NetworkPolicies, want 1", w.name, len(ps))
				continue
			}
			p := ps[0]
			if len(p.Spec.PolicyTypes) != 2 {
				t.Errorf("%s: policy %s isolates %v, want Ingress and Egress", w.name, p.Name, p.Spec.PolicyTypes)
			}
			component := w.pod.Labels["app.kubernetes.io/component"]
			if component == "nats" {
				checkNATSPolicy(t, p, pods)
				continue
			}
			checkClientEgress(t, w.name, p.Spec.Egress, pods["nats"])
			for _, in := range p.Spec.Ingress {
				ports := portNames(in.Ports)
				switch {
				case ports == "health":
					if len(in.From) != 0 {
						t.Errorf("%s: the probe port is limited to %v; kubelets and load balancers come from anywhere", w.name, in.From)
					}
				case ports == "https" && component == "bridge":
					if len(in.From) == 0 {
						t.Errorf("%s: the API port is open to every pod, want the gateway's only", w.name)
					}
					for _, from := range in.From {
						if peerPicks(from, pods["booth"]) {
							t.Errorf("%s: a booth may reach the bridge's API", w.name)
						}
					}
				default:
					t.Errorf("%s: ingress on ports %q from %v; want only the probe port (and https for the bridge)", w.name, ports, in.From)
				}
			}
		}
	})
}

// checkClientEgress wants every egress rule of a NATS client to go to the
// NATS pods' client port or to DNS on port 53, and both to be allowed.
func checkClientEgress(t *testing.T, who string, rules []networkingv1.NetworkPolicyEgressRule, natsPod map[string]string) {
	t.Helper()
	var toNATS, toDNS bool
	for _, e := range rules {
		ports := portNames(e.Ports)
		switch {
		case ports == "4222" && len(e.To) == 1 && peerPicks(e.To[0], natsPod):
			toNATS = true
		case ports == "53/UDP,53":
			toDNS = len(e.To) > 0
		default:
			t.Errorf("%s: egress to %v on %q; want only NATS's client port and DNS", who, e.To, ports)
		}
	}
	if !toNATS || !toDNS {
		t.Errorf("%s: egress to NATS %v, to DNS %v; want both", who, toNATS, toDNS)
	}
}

func checkNATSPolicy(t *testing.T, p *networkingv1.NetworkPolicy, pods map[string]map[string]string) {
	t.Helper()
	for _, in := range p.Spec.Ingress {
		switch portNames(in.Ports) {
		case "client":
			for _, c := range []string{"bridge", "booth"} {
				if !peerPicks(in.From[0], pods[c]) {
					t.Errorf("NATS policy: the %s may not reach the client port", c)
				}
			}
			if peerPicks(in.From[0], map[string]string{"app.kubernetes.io/name": "other"}) {
				t.Errorf("NATS policy: any pod may reach the client port")
			}
		case "cluster":
			if len(in.From) != 1 || !peerPicks(in.From[0], pods["nats"]) || peerPicks(in.From[0], pods["booth"]) {
				t.Errorf("NATS policy: routes from %v, want the NATS pods only", in.From)
			}
		default:
			t.Errorf("NATS policy: ingress on %q from %v", portNames(in.Ports), in.From)
		}
	}
}

// portNames spells a rule's ports as "name" or "number[/UDP]", comma-joined.
func portNames(ps []networkingv1.NetworkPolicyPort) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ","
		}
		s += p.Port.String()
		if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
			s += "/" + string(*p.Protocol)
		}
	}
	return s
}

// Services select the pods they front, on ports those pods declare; the
// StatefulSet's serviceName is the headless Service that lists every node.
func TestServices(t *testing.T) {
	forEachSet(t, func(t *testing.T, _ string, r rendered) {
		for _, s := range r.services {
			var matched []workload
			for _, w := range r.workloads {
				if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(w.pod.Labels)) {
					matched = append(matched, w)
				}
			}
			if len(matched) != 1 {
				t.Errorf("Service %s selects %d workloads, want 1", s.Name, len(matched))
				continue
			}
			for _, p := range s.Spec.Ports {
				if containerPort(matched[0].pod.Spec.Containers[0], p.TargetPort.String()) == 0 {
					t.Errorf("Service %s: target port %s is not a port of %s", s.Name, p.TargetPort.String(), matched[0].name)
				}
			}
		}
		var headless bool
		for _, s := range r.services {
			headless = headless || (s.Name == "hms-svc-nats-headless" && s.Spec.ClusterIP == "None" && s.Spec.PublishNotReadyAddresses)
		}
		if !headless {
			t.Error("no headless Service hms-svc-nats-headless publishing not-ready nodes, which the routes need")
		}
	})
}

// secretRE matches what must never be in the chart: a private key or an
// NKey seed.
var secretRE = regexp.MustCompile(`PRIVATE KEY|\bS[UAONCX][A-Z2-7]{56}\b`)

// The ConfigMaps are the repository's matrix and fee table and the NATS
// authorization generated from that matrix; nothing the chart renders holds
// a key or a seed.
func TestConfigMapsHoldNoSecret(t *testing.T) {
	for name, files := range valueSets {
		for f, text := range render(t, files...) {
			if secretRE.MatchString(text) {
				t.Errorf("%s, %s holds a private key or an NKey seed", name, f)
			}
		}
	}
	want := map[string]map[string][]byte{
		"hms-svc-config":      {"matrix.yaml": readFile(t, "../../matrix.yaml"), "fees.yaml": readFile(t, "../../fees.yaml")},
		"hms-svc-nats-config": {"authorization.conf": readFile(t, "../hms-svc/files/nats-authorization.conf")},
	}
	r := renderSet(t, nil)
	for _, cm := range r.configs {
		for key, data := range want[cm.Name] {
			if cm.Data[key] != string(data) {
				t.Errorf("ConfigMap %s: %s is not the repository's copy; refresh it: "+
					"cp deployments/matrix.yaml deployments/fees.yaml deployments/helm/hms-svc/files/", cm.Name, key)
			}
		}
		delete(want, cm.Name)
	}
	if len(want) > 0 {
		t.Errorf("no ConfigMaps %v", want)
	}
}
