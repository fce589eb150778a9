package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"google.golang.org/protobuf/encoding/protojson"
	istiosecurity "istio.io/api/security/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// istioPeerAuthentication is the custom resource around Istio's own spec message, decoded with protojson.
type istioPeerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              json.RawMessage `json:"spec"`
	spec              istiosecurity.PeerAuthentication
}

// The kinds a chart of ours may render, each decoded into its own Go type.
var kinds = map[string]func() any{
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                               func() any { return &corev1.Secret{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"v1/Namespace":                            func() any { return &corev1.Namespace{} },
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"batch/v1/Job":                            func() any { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler":  func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return &networkingv1.NetworkPolicy{} },
	"networking.k8s.io/v1/Ingress":            func() any { return &networkingv1.Ingress{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
	"security.istio.io/v1/PeerAuthentication": func() any { return &istioPeerAuthentication{} },
}

type object struct {
	kind, name, namespace string
	value                 any
}

func (o object) id() string { return o.kind + "/" + o.name }

// decodeAll splits a multi-document YAML stream and decodes each object strictly into its type.
func decodeAll(r io.Reader, defaultNamespace string) ([]object, []string, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var objects []object
	var problems []string
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			problems = append(problems, fmt.Sprintf("document %d: %v", i, err))
			continue
		}
		if head.Kind == "" && head.APIVersion == "" {
			continue // an empty document (comments only)
		}
		newObject, ok := kinds[head.APIVersion+"/"+head.Kind]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s %s: kind %s/%s is not one this checker knows", head.Kind, head.Metadata.Name, head.APIVersion, head.Kind))
			continue
		}
		value := newObject()
		if err := decodeStrict(doc, value); err != nil {
			problems = append(problems, fmt.Sprintf("%s %s: %v", head.Kind, head.Metadata.Name, err))
			continue
		}
		if pa, ok := value.(*istioPeerAuthentication); ok {
			if err := protojson.Unmarshal(pa.Spec, &pa.spec); err != nil {
				problems = append(problems, fmt.Sprintf("%s %s: spec: %v", head.Kind, head.Metadata.Name, err))
				continue
			}
		}
		if head.Metadata.Name == "" {
			problems = append(problems, fmt.Sprintf("document %d (%s): no metadata.name", i, head.Kind))
		}
		ns := head.Metadata.Namespace
		if ns == "" {
			ns = defaultNamespace
		}
		objects = append(objects, object{kind: head.Kind, name: head.Metadata.Name, namespace: ns, value: value})
	}
	return objects, problems, nil
}

// decodeStrict decodes as the API server does in strict mode: YAML to JSON (duplicate keys are errors),
// then field names matched case-sensitively, unknown and duplicate fields being errors.
func decodeStrict(doc []byte, into any) error {
	data, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(data, into)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

func runK8s(args []string) ([]string, error) {
	fs := flag.NewFlagSet("k8s", flag.ExitOnError)
	peersFile := fs.String("peers", "", "endpoints outside the chart, for the NetworkPolicy reachability (YAML)")
	namespace := fs.String("namespace", "default", "the namespace of objects that name none")
	var assumeSecrets stringList
	fs.Var(&assumeSecrets, "assume-secret", "a Secret created outside the chart (repeatable)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		usage()
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return nil, err
	}
	objects, problems, err := decodeAll(bytes.NewReader(data), *namespace)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, o := range objects {
		if seen[o.namespace+"/"+o.id()] {
			problems = append(problems, fmt.Sprintf("%s is rendered twice", o.id()))
		}
		seen[o.namespace+"/"+o.id()] = true
	}
	problems = append(problems, crossCheck(objects, assumeSecrets)...)
	report := map[string]any{"objects": ids(objects)}
	if *peersFile != "" {
		peers, err := readPeers(*peersFile)
		if err != nil {
			return nil, err
		}
		paths, more := reachability(objects, peers)
		problems = append(problems, more...)
		report["reachable"] = paths
	}
	out, _ := json.MarshalIndent(report, "", "  ")
	fmt.Println(string(out))
	return problems, nil
}

func ids(objects []object) []string {
	out := make([]string, 0, len(objects))
	for _, o := range objects {
		out = append(out, o.id())
	}
	sort.Strings(out)
	return out
}

// workload is a pod template with the object that owns it.
type workload struct {
	owner    object
	name     string
	labels   map[string]string
	spec     corev1.PodSpec
	selector *metav1.LabelSelector
}

func workloads(objects []object) []workload {
	var out []workload
	for _, o := range objects {
		switch v := o.value.(type) {
		case *appsv1.Deployment:
			out = append(out, workload{o, o.name, v.Spec.Template.Labels, v.Spec.Template.Spec, v.Spec.Selector})
		case *batchv1.Job:
			out = append(out, workload{o, o.name, v.Spec.Template.Labels, v.Spec.Template.Spec, nil})
		}
	}
	return out
}

func selects(sel *metav1.LabelSelector, l map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(l))
}

// containerPort finds a port of the pod by name or number.
func containerPort(spec corev1.PodSpec, port intstr.IntOrString) (corev1.ContainerPort, bool) {
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
				return p, true
			}
		}
	}
	return corev1.ContainerPort{}, false
}

func crossCheck(objects []object, assumeSecrets []string) []string {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	byKind := map[string]map[string]object{}
	for _, o := range objects {
		if byKind[o.kind] == nil {
			byKind[o.kind] = map[string]object{}
		}
		byKind[o.kind][o.name] = o
	}
	external := map[string]bool{}
	for _, s := range assumeSecrets {
		external[s] = true
	}
	secretKeys := func(name string) (map[string]bool, bool) {
		o, ok := byKind["Secret"][name]
		if !ok {
			return nil, external[name]
		}
		s := o.value.(*corev1.Secret)
		keys := map[string]bool{}
		for k := range s.Data {
			keys[k] = true
		}
		for k := range s.StringData {
			keys[k] = true
		}
		return keys, true
	}
	configKeys := func(name string) (map[string]bool, bool) {
		o, ok := byKind["ConfigMap"][name]
		if !ok {
			return nil, false
		}
		keys := map[string]bool{}
		for k := range o.value.(*corev1.ConfigMap).Data {
			keys[k] = true
		}
		return keys, true
	}
	ws := workloads(objects)
	for _, w := range ws {
		where := w.owner.id()
		if w.selector != nil && !selects(w.selector, w.labels) {
			add("%s: selector %s does not match its pod template labels %v", where, metav1.FormatLabelSelector(w.selector), w.labels)
		}
		if sa := w.spec.ServiceAccountName; sa != "" && sa != "default" {
			if _, ok := byKind["ServiceAccount"][sa]; !ok {
				add("%s: serviceAccountName %s is not rendered", where, sa)
			}
		}
		volumes := map[string]corev1.Volume{}
		for _, v := range w.spec.Volumes {
			volumes[v.Name] = v
			if v.ConfigMap != nil && (v.ConfigMap.Optional == nil || !*v.ConfigMap.Optional) {
				if _, ok := configKeys(v.ConfigMap.Name); !ok {
					add("%s: volume %s: ConfigMap %s is not rendered", where, v.Name, v.ConfigMap.Name)
				}
			}
			if v.Secret != nil && (v.Secret.Optional == nil || !*v.Secret.Optional) {
				if _, ok := secretKeys(v.Secret.SecretName); !ok {
					add("%s: volume %s: Secret %s is not rendered", where, v.Name, v.Secret.SecretName)
				}
			}
		}
		for _, c := range append(append([]corev1.Container{}, w.spec.InitContainers...), w.spec.Containers...) {
			at := where + " container " + c.Name
			for _, m := range c.VolumeMounts {
				if _, ok := volumes[m.Name]; !ok {
					add("%s: volumeMount %s names no volume", at, m.Name)
				}
			}
			for _, e := range c.EnvFrom {
				if e.ConfigMapRef != nil && (e.ConfigMapRef.Optional == nil || !*e.ConfigMapRef.Optional) {
					if _, ok := configKeys(e.ConfigMapRef.Name); !ok {
						add("%s: envFrom ConfigMap %s is not rendered", at, e.ConfigMapRef.Name)
					}
				}
				if e.SecretRef != nil && (e.SecretRef.Optional == nil || !*e.SecretRef.Optional) {
					if _, ok := secretKeys(e.SecretRef.Name); !ok {
						add("%s: envFrom Secret %s is not rendered", at, e.SecretRef.Name)
					}
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil && (r.Optional == nil || !*r.Optional) {
					keys, ok := secretKeys(r.Name)
					if !ok {
						add("%s: env %s: Secret %s is not rendered", at, e.Name, r.Name)
					} else if keys != nil && !keys[r.Key] {
						add("%s: env %s: Secret %s has no key %s", at, e.Name, r.Name, r.Key)
					}
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil && (r.Optional == nil || !*r.Optional) {
					keys, ok := configKeys(r.Name)
					if !ok {
						add("%s: env %s: ConfigMap %s is not rendered", at, e.Name, r.Name)
					} else if !keys[r.Key] {
						add("%s: env %s: ConfigMap %s has no key %s", at, e.Name, r.Name, r.Key)
					}
				}
			}
			for probeName, p := range map[string]*corev1.Probe{"startupProbe": c.StartupProbe, "livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe} {
				if p == nil {
					continue
				}
				var port *intstr.IntOrString
				if p.HTTPGet != nil {
					port = &p.HTTPGet.Port
				} else if p.TCPSocket != nil {
					port = &p.TCPSocket.Port
				}
				if port != nil {
					if _, ok := containerPort(corev1.PodSpec{Containers: []corev1.Container{c}}, *port); !ok {
						add("%s: %s port %s is not a port of the container", at, probeName, port.String())
					}
				}
			}
		}
	}
	servicePorts := map[string]corev1.Service{}
	for _, o := range byKind["Service"] {
		svc := o.value.(*corev1.Service)
		servicePorts[o.name] = *svc
		if len(svc.Spec.Selector) == 0 {
			add("Service/%s: no selector", o.name)
			continue
		}
		matched := 0
		for _, w := range ws {
			if _, isJob := w.owner.value.(*batchv1.Job); isJob || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(w.labels)) {
				continue
			}
			matched++
			for _, p := range svc.Spec.Ports {
				target := p.TargetPort
				if target.Type == intstr.Int && target.IntVal == 0 {
					target = intstr.FromInt32(p.Port)
				}
				if _, ok := containerPort(w.spec, target); !ok {
					add("Service/%s: targetPort %s is not a port of %s", o.name, target.String(), w.owner.id())
				}
			}
		}
		if matched == 0 {
			add("Service/%s: selector %v matches no Deployment's pods", o.name, svc.Spec.Selector)
		}
	}
	for _, o := range byKind["PodDisruptionBudget"] {
		pdb := o.value.(*policyv1.PodDisruptionBudget)
		if !anyWorkload(ws, pdb.Spec.Selector) {
			add("PodDisruptionBudget/%s: selector matches no Deployment's pods", o.name)
		}
	}
	for _, o := range byKind["HorizontalPodAutoscaler"] {
		ref := o.value.(*autoscalingv2.HorizontalPodAutoscaler).Spec.ScaleTargetRef
		if _, ok := byKind[ref.Kind][ref.Name]; !ok || ref.Kind != "Deployment" {
			add("HorizontalPodAutoscaler/%s: scaleTargetRef %s/%s is not a rendered Deployment", o.name, ref.Kind, ref.Name)
		}
	}
	for _, o := range byKind["Ingress"] {
		ing := o.value.(*networkingv1.Ingress)
		var backends []networkingv1.IngressBackend
		if ing.Spec.DefaultBackend != nil {
			backends = append(backends, *ing.Spec.DefaultBackend)
		}
		for _, r := range ing.Spec.Rules {
			if r.HTTP != nil {
				for _, p := range r.HTTP.Paths {
					backends = append(backends, p.Backend)
				}
			}
		}
		for _, b := range backends {
			if b.Service == nil {
				continue
			}
			svc, ok := servicePorts[b.Service.Name]
			if !ok {
				add("Ingress/%s: backend Service %s is not rendered", o.name, b.Service.Name)
				continue
			}
			if !hasServicePort(svc, b.Service.Port.Name, b.Service.Port.Number) {
				add("Ingress/%s: Service %s has no port %s%d", o.name, b.Service.Name, b.Service.Port.Name, b.Service.Port.Number)
			}
		}
		for _, t := range ing.Spec.TLS {
			if _, ok := secretKeys(t.SecretName); !ok && t.SecretName != "" {
				add("Ingress/%s: TLS Secret %s is not rendered", o.name, t.SecretName)
			}
		}
	}
	for _, o := range byKind["ServiceMonitor"] {
		sm := o.value.(*monitoringv1.ServiceMonitor)
		var matched []corev1.Service
		for _, svc := range servicePorts {
			if selects(&sm.Spec.Selector, svc.Labels) {
				matched = append(matched, svc)
			}
		}
		if len(matched) == 0 {
			add("ServiceMonitor/%s: selector matches no Service", o.name)
		}
		for _, ep := range sm.Spec.Endpoints {
			for _, svc := range matched {
				if ep.Port == "" || !hasServicePort(svc, ep.Port, 0) {
					add("ServiceMonitor/%s: Service %s has no port named %q", o.name, svc.Name, ep.Port)
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}

func anyWorkload(ws []workload, sel *metav1.LabelSelector) bool {
	for _, w := range ws {
		if _, isJob := w.owner.value.(*batchv1.Job); !isJob && selects(sel, w.labels) {
			return true
		}
	}
	return false
}

func hasServicePort(svc corev1.Service, name string, number int32) bool {
	for _, p := range svc.Spec.Ports {
		if (name != "" && p.Name == name) || (name == "" && p.Port == number) {
			return true
		}
	}
	return false
}
