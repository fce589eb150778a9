package main

import (
	"fmt"
	"net"
	"os"
	"sort"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// peersFile describes the cluster around the chart: its own namespace's labels and the endpoints outside
// it (an ingress controller, Temporal, the databases, DNS, Prometheus, the internet).
type peersFile struct {
	NamespaceLabels map[string]string `json:"namespaceLabels"`
	Peers           []struct {
		Name            string            `json:"name"`
		Namespace       string            `json:"namespace"`
		NamespaceLabels map[string]string `json:"namespaceLabels"`
		Labels          map[string]string `json:"labels"`
		IP              string            `json:"ip"`
		Ports           []struct {
			Port     int32           `json:"port"`
			Protocol corev1.Protocol `json:"protocol"`
		} `json:"ports"`
	} `json:"peers"`
}

type endpoint struct {
	name            string
	namespace       string
	namespaceLabels map[string]string
	labels          map[string]string
	ip              net.IP
	ports           []corev1.ContainerPort
	ours            bool // a pod of the chart, governed by its NetworkPolicies
}

func readPeers(path string) (peersFile, error) {
	var p peersFile
	data, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	return p, yaml.UnmarshalStrict(data, &p)
}

// reachability lists every connection `source -> destination:port/protocol` that the rendered
// NetworkPolicies admit between the chart's pods and the given peers, with Kubernetes' semantics: a pod
// selected by a policy of a type is isolated for that direction, and then only the union of the rules of
// the policies selecting it admits traffic; a connection needs the source's egress and the destination's
// ingress. Endpoints outside the chart are not isolated. Pods get addresses in 10.244.0.0/16 for ipBlocks.
func reachability(objects []object, pf peersFile) ([]string, []string) {
	var problems []string
	var eps []endpoint
	for i, w := range workloads(objects) {
		if _, isJob := w.owner.value.(*batchv1.Job); isJob && w.labels == nil {
			continue
		}
		var ports []corev1.ContainerPort
		for _, c := range w.spec.Containers {
			ports = append(ports, c.Ports...)
		}
		eps = append(eps, endpoint{
			name: w.name, namespace: w.owner.namespace, namespaceLabels: pf.NamespaceLabels,
			labels: w.labels, ip: net.IPv4(10, 244, byte(i/250), byte(i%250+1)), ports: ports, ours: true,
		})
	}
	for i, p := range pf.Peers {
		ip := net.ParseIP(p.IP)
		if p.IP == "" {
			ip = net.IPv4(10, 245, byte(i/250), byte(i%250+1))
		} else if ip == nil {
			problems = append(problems, fmt.Sprintf("peer %s: bad ip %s", p.Name, p.IP))
		}
		var ports []corev1.ContainerPort
		for _, port := range p.Ports {
			proto := port.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			ports = append(ports, corev1.ContainerPort{ContainerPort: port.Port, Protocol: proto})
		}
		eps = append(eps, endpoint{name: p.Name, namespace: p.Namespace, namespaceLabels: p.NamespaceLabels, labels: p.Labels, ip: ip, ports: ports})
	}
	var policies []struct {
		ns string
		np *networkingv1.NetworkPolicy
	}
	for _, o := range objects {
		if np, ok := o.value.(*networkingv1.NetworkPolicy); ok {
			policies = append(policies, struct {
				ns string
				np *networkingv1.NetworkPolicy
			}{o.namespace, np})
		}
	}
	hasType := func(np *networkingv1.NetworkPolicy, t networkingv1.PolicyType) bool {
		if len(np.Spec.PolicyTypes) == 0 {
			return t == networkingv1.PolicyTypeIngress || (t == networkingv1.PolicyTypeEgress && len(np.Spec.Egress) > 0)
		}
		for _, pt := range np.Spec.PolicyTypes {
			if pt == t {
				return true
			}
		}
		return false
	}
	// admitted: whether `subject`'s policies of type t admit `other` on the destination's port.
	admitted := func(subject, other, dst endpoint, port corev1.ContainerPort, t networkingv1.PolicyType) bool {
		if !subject.ours {
			return true
		}
		isolated := false
		for _, p := range policies {
			if p.ns != subject.namespace || !hasType(p.np, t) || !selects(&p.np.Spec.PodSelector, subject.labels) {
				continue
			}
			isolated = true
			if t == networkingv1.PolicyTypeIngress {
				for _, r := range p.np.Spec.Ingress {
					if peersMatch(r.From, other, p.ns) && portsMatch(r.Ports, dst, port) {
						return true
					}
				}
			} else {
				for _, r := range p.np.Spec.Egress {
					if peersMatch(r.To, other, p.ns) && portsMatch(r.Ports, dst, port) {
						return true
					}
				}
			}
		}
		return !isolated
	}
	var paths []string
	for _, src := range eps {
		for _, dst := range eps {
			if src.name == dst.name || (!src.ours && !dst.ours) {
				continue
			}
			for _, port := range dst.ports {
				proto := port.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				port.Protocol = proto
				if admitted(src, dst, dst, port, networkingv1.PolicyTypeEgress) && admitted(dst, src, dst, port, networkingv1.PolicyTypeIngress) {
					paths = append(paths, fmt.Sprintf("%s -> %s:%d/%s", src.name, dst.name, port.ContainerPort, proto))
				}
			}
		}
	}
	sort.Strings(paths)
	return paths, problems
}

func peersMatch(peers []networkingv1.NetworkPolicyPeer, e endpoint, policyNamespace string) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		switch {
		case p.IPBlock != nil:
			_, cidr, err := net.ParseCIDR(p.IPBlock.CIDR)
			if err != nil || !cidr.Contains(e.ip) {
				continue
			}
			excluded := false
			for _, ex := range p.IPBlock.Except {
				if _, exc, err := net.ParseCIDR(ex); err == nil && exc.Contains(e.ip) {
					excluded = true
				}
			}
			if !excluded {
				return true
			}
		case p.NamespaceSelector != nil:
			if selects(p.NamespaceSelector, e.namespaceLabels) && (p.PodSelector == nil || selects(p.PodSelector, e.labels)) {
				return true
			}
		case p.PodSelector != nil:
			if e.namespace == policyNamespace && selects(p.PodSelector, e.labels) {
				return true
			}
		}
	}
	return false
}

func portsMatch(ports []networkingv1.NetworkPolicyPort, dst endpoint, port corev1.ContainerPort) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if proto != port.Protocol {
			continue
		}
		if p.Port == nil {
			return true
		}
		if p.Port.Type == intstr.String {
			if port.Name != "" && port.Name == p.Port.StrVal {
				return true
			}
			continue
		}
		end := p.Port.IntVal
		if p.EndPort != nil {
			end = *p.EndPort
		}
		if port.ContainerPort >= p.Port.IntVal && port.ContainerPort <= end {
			return true
		}
	}
	return false
}
