package validation

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

// want is one expected error: its type, its field path and, when set, a
// fragment its detail must contain.
type want struct {
	typ    field.ErrorType
	field  string
	detail string
}

func required(f string) want     { return want{typ: field.ErrorTypeRequired, field: f} }
func invalid(f string) want      { return want{typ: field.ErrorTypeInvalid, field: f} }
func notSupported(f string) want { return want{typ: field.ErrorTypeNotSupported, field: f} }
func duplicate(f string) want    { return want{typ: field.ErrorTypeDuplicate, field: f} }
func forbidden(f string) want    { return want{typ: field.ErrorTypeForbidden, field: f} }
func notFound(f string) want     { return want{typ: field.ErrorTypeNotFound, field: f} }

func ptrTo[T any](v T) *T { return &v }

func (w want) with(detail string) want { w.detail = detail; return w }

func (w want) String() string { return fmt.Sprintf("%s %s", w.field, w.typ) }

// expectErrors checks that got holds exactly the wanted errors, in any order
// (maps are walked in random order).
func expectErrors(t *testing.T, got field.ErrorList, wants ...want) {
	t.Helper()
	var gotKeys, wantKeys []string
	for _, e := range got {
		gotKeys = append(gotKeys, fmt.Sprintf("%s %s", e.Field, e.Type))
	}
	for _, w := range wants {
		wantKeys = append(wantKeys, w.String())
	}
	sort.Strings(gotKeys)
	sort.Strings(wantKeys)
	if strings.Join(gotKeys, "\n") != strings.Join(wantKeys, "\n") {
		t.Fatalf("errors:\n  got  %q\n  want %q\nfull errors:\n%s", gotKeys, wantKeys, describe(got))
	}
	for _, w := range wants {
		if w.detail == "" {
			continue
		}
		found := false
		for _, e := range got {
			if e.Field == w.field && e.Type == w.typ && strings.Contains(e.Error(), w.detail) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s error mentions %q:\n%s", w, w.detail, describe(got))
		}
	}
}

func describe(errs field.ErrorList) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  %v\n", e)
	}
	return b.String()
}

// validPod is a pod as it looks after defaulting: every case starts from it
// and breaks one thing.
func validPod() *core.Pod {
	return &core.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "1", Labels: map[string]string{"app": "web"}},
		Spec: core.PodSpec{
			Containers: []core.Container{{
				Name:            "nginx",
				Image:           "nginx:1.25",
				ImagePullPolicy: core.PullIfNotPresent,
				Command:         []string{"nginx"},
				Env:             []core.EnvVar{{Name: "MODE", Value: "prod"}},
				Ports:           []core.ContainerPort{{Name: "http", ContainerPort: 80, Protocol: core.ProtocolTCP}},
				Resources: core.ResourceRequirements{
					Requests: core.ResourceList{core.ResourceCPU: resource.MustParse("100m"), core.ResourceMemory: resource.MustParse("64Mi")},
					Limits:   core.ResourceList{core.ResourceCPU: resource.MustParse("500m"), core.ResourceMemory: resource.MustParse("128Mi")},
				},
			}},
			RestartPolicy:                 core.RestartPolicyAlways,
			TerminationGracePeriodSeconds: ptrTo[int64](30),
			SchedulerName:                 "skiff-scheduler",
			NodeSelector:                  map[string]string{"kubernetes.io/os": "linux"},
			Tolerations:                   []core.Toleration{{Key: "dedicated", Operator: core.TolerationOpEqual, Value: "web", Effect: core.TaintEffectNoSchedule}},
			Affinity: &core.Affinity{NodeAffinity: &core.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &core.NodeSelector{NodeSelectorTerms: []core.NodeSelectorTerm{{
					MatchExpressions: []core.NodeSelectorRequirement{{Key: "zone", Operator: core.NodeSelectorOpIn, Values: []string{"a", "b"}}},
				}}},
				PreferredDuringSchedulingIgnoredDuringExecution: []core.PreferredSchedulingTerm{{
					Weight:     10,
					Preference: core.NodeSelectorTerm{MatchExpressions: []core.NodeSelectorRequirement{{Key: "cores", Operator: core.NodeSelectorOpGt, Values: []string{"4"}}}},
				}},
			}},
		},
	}
}

// addContainer appends a second valid container named name.
func addContainer(p *core.Pod, name string) *core.Container {
	p.Spec.Containers = append(p.Spec.Containers, core.Container{Name: name, Image: "busybox", ImagePullPolicy: core.PullAlways})
	return &p.Spec.Containers[len(p.Spec.Containers)-1]
}

func TestValidatePod(t *testing.T) {
	const c0 = "spec.containers[0]"
	const required0 = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
	const expr0 = required0 + ".nodeSelectorTerms[0].matchExpressions[0]"
	const pref0 = "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"

	tests := []struct {
		name   string
		mutate func(p *core.Pod)
		want   []want
	}{
		{name: "a complete valid pod has no errors", mutate: func(p *core.Pod) {}},
		{name: "a minimal pod (one container, defaults) is valid", mutate: func(p *core.Pod) {
			p.Spec = core.PodSpec{
				Containers:    []core.Container{{Name: "c", Image: "busybox", ImagePullPolicy: core.PullAlways}},
				RestartPolicy: core.RestartPolicyNever,
			}
		}},

		// metadata
		{name: "name must be a DNS subdomain", mutate: func(p *core.Pod) { p.Name = "Web_1" },
			want: []want{invalid("metadata.name").with("RFC 1123 subdomain")}},
		{name: "name is required", mutate: func(p *core.Pod) { p.Name = "" },
			want: []want{required("metadata.name")}},
		{name: "pods are namespaced", mutate: func(p *core.Pod) { p.Namespace = "" },
			want: []want{required("metadata.namespace")}},
		{name: "label values are checked", mutate: func(p *core.Pod) { p.Labels["app"] = "not a value" },
			want: []want{invalid("metadata.labels")}},

		// containers
		{name: "a pod needs a container", mutate: func(p *core.Pod) { p.Spec.Containers = nil },
			want: []want{required("spec.containers")}},
		{name: "a pod has at most MaxContainers containers", mutate: func(p *core.Pod) {
			for i := 0; i < MaxContainers; i++ {
				addContainer(p, fmt.Sprintf("c%d", i))
			}
		}, want: []want{{typ: field.ErrorTypeTooMany, field: "spec.containers"}}},
		{name: "container name is required", mutate: func(p *core.Pod) { p.Spec.Containers[0].Name = "" },
			want: []want{required(c0 + ".name")}},
		{name: "container name must be a DNS label", mutate: func(p *core.Pod) { p.Spec.Containers[0].Name = "Nginx.Main" },
			want: []want{invalid(c0 + ".name").with("RFC 1123 label")}},
		{name: "container names are unique", mutate: func(p *core.Pod) { addContainer(p, "nginx") },
			want: []want{duplicate("spec.containers[1].name")}},
		{name: "image is required", mutate: func(p *core.Pod) { p.Spec.Containers[0].Image = "" },
			want: []want{required(c0 + ".image")}},
		{name: "image may not have surrounding spaces", mutate: func(p *core.Pod) { p.Spec.Containers[0].Image = " nginx" },
			want: []want{invalid(c0 + ".image")}},
		{name: "imagePullPolicy must be known", mutate: func(p *core.Pod) { p.Spec.Containers[0].ImagePullPolicy = "Sometimes" },
			want: []want{notSupported(c0 + ".imagePullPolicy").with(`"Always", "IfNotPresent", "Never"`)}},
		{name: "imagePullPolicy is filled by defaulting, so empty is required", mutate: func(p *core.Pod) { p.Spec.Containers[0].ImagePullPolicy = "" },
			want: []want{required(c0 + ".imagePullPolicy")}},

		// env
		{name: "env var name is required", mutate: func(p *core.Pod) { p.Spec.Containers[0].Env[0].Name = "" },
			want: []want{required(c0 + ".env[0].name")}},
		{name: "env var name may not contain '='", mutate: func(p *core.Pod) { p.Spec.Containers[0].Env[0].Name = "A=B" },
			want: []want{invalid(c0 + ".env[0].name")}},
		{name: "env var name may not contain control characters", mutate: func(p *core.Pod) { p.Spec.Containers[0].Env[0].Name = "A\nB" },
			want: []want{invalid(c0 + ".env[0].name")}},
		{name: "env var names like kube-apiserver's relaxed rule are valid", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Env = []core.EnvVar{{Name: "1ST-VAR.x"}, {Name: "my var"}}
		}},

		// ports
		{name: "containerPort is required", mutate: func(p *core.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 0 },
			want: []want{required(c0 + ".ports[0].containerPort")}},
		{name: "containerPort must be at most 65535", mutate: func(p *core.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 70000 },
			want: []want{invalid(c0 + ".ports[0].containerPort").with("between 1 and 65535")}},
		{name: "containerPort may not be negative", mutate: func(p *core.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = -1 },
			want: []want{invalid(c0 + ".ports[0].containerPort")}},
		{name: "hostPort must be a port number", mutate: func(p *core.Pod) { p.Spec.Containers[0].Ports[0].HostPort = 65536 },
			want: []want{invalid(c0 + ".ports[0].hostPort")}},
		{name: "protocol must be TCP, UDP or SCTP", mutate: func(p *core.Pod) { p.Spec.Containers[0].Ports[0].Protocol = "HTTP" },
			want: []want{notSupported(c0 + ".ports[0].protocol").with(`"TCP", "UDP", "SCTP"`)}},
		{name: "protocol is filled by defaulting, so empty is required", mutate: func(p *core.Pod) { p.Spec.Containers[0].Ports[0].Protocol = "" },
			want: []want{required(c0 + ".ports[0].protocol")}},
		{name: "port name must be an IANA service name", mutate: func(p *core.Pod) { p.Spec.Containers[0].Ports[0].Name = "http_port" },
			want: []want{invalid(c0 + ".ports[0].name")}},
		{name: "port names are unique within a container", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, core.ContainerPort{Name: "http", ContainerPort: 8080, Protocol: core.ProtocolTCP})
		}, want: []want{duplicate(c0 + ".ports[1].name")}},
		{name: "the same port and protocol twice in a container", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, core.ContainerPort{ContainerPort: 80, Protocol: core.ProtocolTCP})
		}, want: []want{duplicate(c0 + ".ports[1].containerPort").with("80/TCP")}},
		{name: "the same port and protocol in two containers (one network namespace)", mutate: func(p *core.Pod) {
			c := addContainer(p, "sidecar")
			c.Ports = []core.ContainerPort{{ContainerPort: 80, Protocol: core.ProtocolTCP}}
		}, want: []want{duplicate("spec.containers[1].ports[0].containerPort")}},
		{name: "the same port with another protocol is fine", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, core.ContainerPort{ContainerPort: 80, Protocol: core.ProtocolUDP})
		}},
		{name: "the same hostPort twice in a pod", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Ports[0].HostPort = 8080
			c := addContainer(p, "sidecar")
			c.Ports = []core.ContainerPort{{ContainerPort: 81, HostPort: 8080, Protocol: core.ProtocolTCP}}
		}, want: []want{duplicate("spec.containers[1].ports[0].hostPort")}},

		// resources
		{name: "request above limit is reported at the request", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Requests[core.ResourceCPU] = resource.MustParse("1")
		}, want: []want{invalid(c0 + ".resources.requests[cpu]").with(`Invalid value: "1": must be less than or equal to cpu limit of 500m`)}},
		{name: "request equal to limit is fine", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Requests[core.ResourceMemory] = resource.MustParse("128Mi")
		}},
		{name: "a request without a limit is fine", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Limits = nil
		}},
		{name: "negative request", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Requests[core.ResourceMemory] = resource.MustParse("-1Mi")
		}, want: []want{invalid(c0 + ".resources.requests[memory]").with("must be greater than or equal to 0")}},
		{name: "negative limit (and the request above it)", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Limits[core.ResourceCPU] = resource.MustParse("-1")
		}, want: []want{invalid(c0 + ".resources.limits[cpu]"), invalid(c0 + ".resources.requests[cpu]")}},
		{name: "an absurdly large quantity", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Limits[core.ResourceMemory] = resource.MustParse("1e999999")
		}, want: []want{invalid(c0 + ".resources.limits[memory]").with("must be less than or equal to 9223372036854775807")}},
		{name: "an absurdly large request is not compared with its limit", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Requests[core.ResourceCPU] = resource.MustParse("9e999999")
		}, want: []want{invalid(c0 + ".resources.requests[cpu]").with("must be less than or equal to")}},
		{name: "the largest int64 quantity is accepted", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Limits[core.ResourceMemory] = resource.MustParse("9223372036854775807")
		}},
		{name: "one more than the largest int64 is not", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Limits[core.ResourceMemory] = resource.MustParse("9223372036854775808")
		}, want: []want{invalid(c0 + ".resources.limits[memory]")}},
		{name: "an unprefixed resource other than cpu and memory", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Limits["gpu"] = resource.MustParse("1")
		}, want: []want{invalid(c0 + ".resources.limits[gpu]").with("must be a standard resource for containers")}},
		{name: "pods is not a container resource", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Requests[core.ResourcePods] = resource.MustParse("1")
		}, want: []want{invalid(c0 + ".resources.requests[pods]")}},
		{name: "a resource name that is not a qualified name", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Limits["bad name!"] = resource.MustParse("1")
		}, want: []want{invalid(c0 + ".resources.limits[bad name!]")}},
		{name: "an extended resource with request equal to limit is fine", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Requests["example.com/gpu"] = resource.MustParse("2")
			p.Spec.Containers[0].Resources.Limits["example.com/gpu"] = resource.MustParse("2")
		}},
		{name: "an extended resource request needs a limit", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Requests["example.com/gpu"] = resource.MustParse("1")
		}, want: []want{required(c0 + ".resources.limits[example.com/gpu]")}},
		{name: "an extended resource cannot be overcommitted", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Requests["example.com/gpu"] = resource.MustParse("1")
			p.Spec.Containers[0].Resources.Limits["example.com/gpu"] = resource.MustParse("2")
		}, want: []want{invalid(c0 + ".resources.requests[example.com/gpu]").with("must be equal to example.com/gpu limit of 2")}},
		{name: "an extended resource is counted in whole units", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Limits["example.com/gpu"] = resource.MustParse("500m")
		}, want: []want{invalid(c0 + ".resources.limits[example.com/gpu]").with("must be an integer")}},

		// pod-level fields
		{name: "restartPolicy must be known", mutate: func(p *core.Pod) { p.Spec.RestartPolicy = "Sometimes" },
			want: []want{notSupported("spec.restartPolicy").with(`"Always", "OnFailure", "Never"`)}},
		{name: "restartPolicy is filled by defaulting, so empty is required", mutate: func(p *core.Pod) { p.Spec.RestartPolicy = "" },
			want: []want{required("spec.restartPolicy")}},
		{name: "negative terminationGracePeriodSeconds", mutate: func(p *core.Pod) { p.Spec.TerminationGracePeriodSeconds = ptrTo[int64](-1) },
			want: []want{invalid("spec.terminationGracePeriodSeconds")}},
		{name: "zero terminationGracePeriodSeconds (kill at once) is fine", mutate: func(p *core.Pod) { p.Spec.TerminationGracePeriodSeconds = ptrTo[int64](0) }},
		{name: "nodeName set at creation must be a valid node name", mutate: func(p *core.Pod) { p.Spec.NodeName = "Node_1" },
			want: []want{invalid("spec.nodeName")}},
		{name: "nodeName set at creation to a valid name is fine", mutate: func(p *core.Pod) { p.Spec.NodeName = "node-1.example.com" }},
		{name: "nodeSelector key must be a label key", mutate: func(p *core.Pod) { p.Spec.NodeSelector = map[string]string{"bad key": "x"} },
			want: []want{invalid("spec.nodeSelector")}},
		{name: "nodeSelector value must be a label value", mutate: func(p *core.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "-ssd"} },
			want: []want{invalid("spec.nodeSelector")}},
		{name: "schedulerName must be a DNS subdomain", mutate: func(p *core.Pod) { p.Spec.SchedulerName = "My_Scheduler" },
			want: []want{invalid("spec.schedulerName")}},

		// tolerations
		{name: "toleration operator must be Equal or Exists", mutate: func(p *core.Pod) { p.Spec.Tolerations[0].Operator = "Like" },
			want: []want{notSupported("spec.tolerations[0].operator").with(`"Equal", "Exists"`)}},
		{name: "Exists toleration must have no value", mutate: func(p *core.Pod) { p.Spec.Tolerations[0].Operator = core.TolerationOpExists },
			want: []want{invalid("spec.tolerations[0].value").with("value must be empty when `operator` is 'Exists'")}},
		{name: "Exists toleration without a value is fine", mutate: func(p *core.Pod) {
			p.Spec.Tolerations[0].Operator = core.TolerationOpExists
			p.Spec.Tolerations[0].Value = ""
		}},
		{name: "empty key needs Exists", mutate: func(p *core.Pod) {
			p.Spec.Tolerations = []core.Toleration{{Operator: core.TolerationOpEqual}}
		}, want: []want{invalid("spec.tolerations[0].operator").with("operator must be Exists when `key` is empty")}},
		{name: "empty key with Exists tolerates everything", mutate: func(p *core.Pod) {
			p.Spec.Tolerations = []core.Toleration{{Operator: core.TolerationOpExists}}
		}},
		{name: "toleration effect must be a taint effect", mutate: func(p *core.Pod) { p.Spec.Tolerations[0].Effect = "NoRun" },
			want: []want{notSupported("spec.tolerations[0].effect").with(`"NoSchedule", "PreferNoSchedule", "NoExecute"`)}},
		{name: "an empty toleration effect matches all effects", mutate: func(p *core.Pod) { p.Spec.Tolerations[0].Effect = "" }},
		{name: "tolerationSeconds needs NoExecute", mutate: func(p *core.Pod) { p.Spec.Tolerations[0].TolerationSeconds = ptrTo[int64](60) },
			want: []want{invalid("spec.tolerations[0].effect").with("effect must be 'NoExecute' when `tolerationSeconds` is set")}},
		{name: "tolerationSeconds with NoExecute is fine", mutate: func(p *core.Pod) {
			p.Spec.Tolerations[0].TolerationSeconds = ptrTo[int64](60)
			p.Spec.Tolerations[0].Effect = core.TaintEffectNoExecute
		}},
		{name: "toleration key must be a label key", mutate: func(p *core.Pod) { p.Spec.Tolerations[0].Key = "bad key" },
			want: []want{invalid("spec.tolerations[0].key")}},
		{name: "Equal toleration value must be a label value", mutate: func(p *core.Pod) { p.Spec.Tolerations[0].Value = "web app" },
			want: []want{invalid("spec.tolerations[0].value")}},

		// node affinity
		{name: "required node selector needs a term", mutate: func(p *core.Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = nil
		}, want: []want{required(required0 + ".nodeSelectorTerms")}},
		{name: "selector operator must be known", mutate: func(p *core.Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Operator = "Near"
		}, want: []want{invalid(expr0 + ".operator").with("not a valid selector operator")}},
		{name: "In needs values", mutate: func(p *core.Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values = nil
		}, want: []want{required(expr0 + ".values")}},
		{name: "NotIn needs values", mutate: func(p *core.Pod) {
			e := &p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0]
			e.Operator, e.Values = core.NodeSelectorOpNotIn, nil
		}, want: []want{required(expr0 + ".values")}},
		{name: "Exists takes no values", mutate: func(p *core.Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Operator = core.NodeSelectorOpExists
		}, want: []want{forbidden(expr0 + ".values")}},
		{name: "DoesNotExist without values is fine", mutate: func(p *core.Pod) {
			e := &p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0]
			e.Operator, e.Values = core.NodeSelectorOpDoesNotExist, nil
		}},
		{name: "Gt needs exactly one value", mutate: func(p *core.Pod) {
			e := &p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0]
			e.Operator, e.Values = core.NodeSelectorOpGt, []string{"1", "2"}
		}, want: []want{required(expr0 + ".values")}},
		{name: "Lt needs an integer", mutate: func(p *core.Pod) {
			e := &p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0]
			e.Operator, e.Values = core.NodeSelectorOpLt, []string{"ten"}
		}, want: []want{invalid(expr0 + ".values[0]").with("must be an integer")}},
		{name: "selector key must be a label key", mutate: func(p *core.Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Key = "bad key"
		}, want: []want{invalid(expr0 + ".key")}},
		{name: "selector values must be label values", mutate: func(p *core.Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values[1] = "b c"
		}, want: []want{invalid(expr0 + ".values[1]")}},
		{name: "preferred weight must be at least 1", mutate: func(p *core.Pod) {
			p.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Weight = 0
		}, want: []want{invalid(pref0 + ".weight").with("must be in the range 1-100")}},
		{name: "preferred weight must be at most 100", mutate: func(p *core.Pod) {
			p.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Weight = 101
		}, want: []want{invalid(pref0 + ".weight")}},
		{name: "preferred terms are checked too", mutate: func(p *core.Pod) {
			p.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Preference.MatchExpressions[0].Values = nil
		}, want: []want{required(pref0 + ".preference.matchExpressions[0].values")}},
		{name: "affinity without node affinity is fine", mutate: func(p *core.Pod) { p.Spec.Affinity = &core.Affinity{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := validPod()
			tc.mutate(pod)
			expectErrors(t, ValidatePod(pod), tc.want...)
		})
	}
}

// TestValidatePodReportsEveryError shows that validation does not stop at
// the first mistake: a client fixing a manifest sees everything at once.
func TestValidatePodReportsEveryError(t *testing.T) {
	pod := validPod()
	pod.Name = "Bad_Name"
	pod.Spec.RestartPolicy = "Sometimes"
	pod.Spec.Containers[0].Image = ""
	pod.Spec.Containers[0].Ports[0].Protocol = "HTTP"
	pod.Spec.Containers[0].Resources.Requests[core.ResourceCPU] = resource.MustParse("2")
	pod.Spec.Tolerations[0].Operator = "Like"
	addContainer(pod, "nginx")

	expectErrors(t, ValidatePod(pod),
		invalid("metadata.name"),
		notSupported("spec.restartPolicy"),
		required("spec.containers[0].image"),
		notSupported("spec.containers[0].ports[0].protocol"),
		invalid("spec.containers[0].resources.requests[cpu]"),
		notSupported("spec.tolerations[0].operator"),
		duplicate("spec.containers[1].name"),
	)
}

func TestValidatePodUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    func(p *core.Pod)
		mutate func(p *core.Pod)
		want   []want
	}{
		{name: "an unchanged pod is a valid update", mutate: func(p *core.Pod) {}},
		{name: "labels and annotations may change", mutate: func(p *core.Pod) {
			p.Labels["tier"] = "frontend"
			p.Annotations = map[string]string{"note": "x"}
		}},
		{name: "a container image may change", mutate: func(p *core.Pod) { p.Spec.Containers[0].Image = "nginx:1.26" }},
		{name: "a toleration may be added", mutate: func(p *core.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, core.Toleration{Key: "gpu", Operator: core.TolerationOpExists})
		}},
		{name: "an existing toleration's tolerationSeconds may change",
			old: func(p *core.Pod) {
				p.Spec.Tolerations[0].Effect = core.TaintEffectNoExecute
				p.Spec.Tolerations[0].TolerationSeconds = ptrTo[int64](300)
			},
			mutate: func(p *core.Pod) { p.Spec.Tolerations[0].TolerationSeconds = ptrTo[int64](60) }},
		{name: "a toleration may not be removed", mutate: func(p *core.Pod) { p.Spec.Tolerations = nil },
			want: []want{forbidden("spec.tolerations").with("existing toleration can not be modified")}},
		{name: "a toleration may not be changed", mutate: func(p *core.Pod) { p.Spec.Tolerations[0].Value = "batch" },
			want: []want{forbidden("spec.tolerations")}},
		{name: "nodeName may not be set by an update", mutate: func(p *core.Pod) { p.Spec.NodeName = "node-1" },
			want: []want{forbidden("spec.nodeName").with("pods/binding")}},
		{name: "nodeName may not be changed by an update",
			old:    func(p *core.Pod) { p.Spec.NodeName = "node-1" },
			mutate: func(p *core.Pod) { p.Spec.NodeName = "node-2" },
			want:   []want{forbidden("spec.nodeName")}},
		{name: "a bound pod keeps its nodeName through an update",
			old:    func(p *core.Pod) { p.Spec.NodeName = "node-1" },
			mutate: func(p *core.Pod) { p.Spec.Containers[0].Image = "nginx:1.26" }},
		{name: "restartPolicy is immutable", mutate: func(p *core.Pod) { p.Spec.RestartPolicy = core.RestartPolicyNever },
			want: []want{forbidden("spec").with("pod updates may not change fields other than `spec.containers[*].image`")}},
		{name: "the forbidden error shows old and new values", mutate: func(p *core.Pod) {
			p.Spec.RestartPolicy = core.RestartPolicyNever
			p.Spec.TerminationGracePeriodSeconds = nil
		}, want: []want{forbidden("spec").with(`changed: spec.restartPolicy: "Always" -> "Never", spec.terminationGracePeriodSeconds: 30 -> null`)}},
		{name: "the forbidden error names the changed container field", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Command = []string{"httpd"}
			p.Spec.Containers[0].Image = "httpd" // allowed, so not listed
		}, want: []want{forbidden("spec").with("changed: spec.containers[0].command")}},
		{name: "the forbidden error names nested changes", mutate: func(p *core.Pod) {
			p.Spec.NodeSelector["disk"] = "ssd"
			p.Spec.Containers[0].Args = []string{"-g", "daemon off;"}
			p.Spec.SchedulerName = "other"
		}, want: []want{forbidden("spec").with(`changed: spec.containers[0].args, spec.nodeSelector, spec.schedulerName: "skiff-scheduler" -> "other"`)}},
		{name: "the forbidden error lists a bounded number of changes",
			old: func(p *core.Pod) {
				for i := 1; i < 12; i++ {
					addContainer(p, fmt.Sprint("c", i))
				}
			},
			mutate: func(p *core.Pod) {
				for i := range p.Spec.Containers {
					p.Spec.Containers[i].WorkingDir = "/srv"
				}
			}, want: []want{forbidden("spec").with(`spec.containers[9].workingDir: "" -> "/srv", and 2 more`)}},
		{name: "resources are immutable", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Limits[core.ResourceMemory] = resource.MustParse("256Mi")
		}, want: []want{forbidden("spec")}},
		{name: "an equal quantity written differently is no change", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Requests[core.ResourceCPU] = resource.MustParse("0.1")
		}},
		{name: "an absurd quantity is reported once, not compared", mutate: func(p *core.Pod) {
			p.Spec.Containers[0].Resources.Limits[core.ResourceMemory] = resource.MustParse("1e999999")
		}, want: []want{invalid("spec.containers[0].resources.limits[memory]")}},
		{name: "containers may not be added", mutate: func(p *core.Pod) { addContainer(p, "sidecar") },
			want: []want{forbidden("spec.containers").with("may not add or remove containers")}},
		{name: "the new pod must itself be valid", mutate: func(p *core.Pod) { p.Spec.Containers[0].Image = "" },
			want: []want{required("spec.containers[0].image")}},
		{name: "name is immutable", mutate: func(p *core.Pod) { p.Name = "other" },
			want: []want{invalid("metadata.name").with("field is immutable")}},
		{name: "an update needs a resourceVersion", mutate: func(p *core.Pod) { p.ResourceVersion = "" },
			want: []want{invalid("metadata.resourceVersion")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oldPod := validPod()
			if tc.old != nil {
				tc.old(oldPod)
			}
			newPod := oldPod.DeepCopy()
			tc.mutate(newPod)
			expectErrors(t, ValidatePodUpdate(newPod, oldPod), tc.want...)
		})
	}
}

// runningPod is a bound pod with a status as a kubelet writes it.
func runningPod() *core.Pod {
	p := validPod()
	p.Spec.NodeName = "node-1"
	now := metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	p.Status = core.PodStatus{
		Phase: core.PodRunning,
		Conditions: []core.PodCondition{
			{Type: core.PodScheduled, Status: core.ConditionTrue},
			{Type: core.PodReady, Status: core.ConditionTrue},
			{Type: "example.com/Healthy", Status: core.ConditionUnknown},
		},
		HostIP:    "10.0.0.5",
		PodIP:     "10.244.1.7",
		StartTime: &now,
		ContainerStatuses: []core.ContainerStatus{{
			Name:  "nginx",
			State: core.ContainerState{Running: &core.ContainerStateRunning{StartedAt: now}},
			Ready: true, RestartCount: 2, Image: "nginx:1.25",
		}},
	}
	return p
}

func TestValidatePodStatusUpdate(t *testing.T) {
	terminated := func(code int32) core.ContainerState {
		return core.ContainerState{Terminated: &core.ContainerStateTerminated{ExitCode: code}}
	}
	running := core.ContainerState{Running: &core.ContainerStateRunning{}}

	tests := []struct {
		name   string
		old    func(p *core.Pod)
		mutate func(p *core.Pod)
		want   []want
	}{
		{name: "an unchanged status is valid", mutate: func(p *core.Pod) {}},
		{name: "a pending pod with an empty status is valid", old: func(p *core.Pod) { p.Status = core.PodStatus{} },
			mutate: func(p *core.Pod) { p.Status = core.PodStatus{Phase: core.PodPending} }},
		{name: "phase must be known", mutate: func(p *core.Pod) { p.Status.Phase = "Done" },
			want: []want{notSupported("status.phase").with(`"Pending", "Running", "Succeeded", "Failed", "Unknown"`)}},
		{name: "observedGeneration may not be negative", mutate: func(p *core.Pod) { p.Status.ObservedGeneration = -1 },
			want: []want{invalid("status.observedGeneration")}},
		{name: "a finished pod stays finished",
			old:    func(p *core.Pod) { p.Status.Phase = core.PodSucceeded },
			mutate: func(p *core.Pod) { p.Status.Phase = core.PodRunning },
			want:   []want{forbidden("status.phase")}},
		{name: "a running pod may finish", mutate: func(p *core.Pod) { p.Status.Phase = core.PodFailed }},
		{name: "condition type is required", mutate: func(p *core.Pod) { p.Status.Conditions[0].Type = "" },
			want: []want{required("status.conditions[0].type")}},
		{name: "a custom condition type must be a qualified name", mutate: func(p *core.Pod) { p.Status.Conditions[2].Type = "is healthy" },
			want: []want{invalid("status.conditions[2].type")}},
		{name: "condition types are unique", mutate: func(p *core.Pod) { p.Status.Conditions[1].Type = core.PodScheduled },
			want: []want{duplicate("status.conditions[1].type")}},
		{name: "condition status must be True, False or Unknown", mutate: func(p *core.Pod) { p.Status.Conditions[0].Status = "Yes" },
			want: []want{notSupported("status.conditions[0].status").with(`"True", "False", "Unknown"`)}},
		{name: "condition status is required", mutate: func(p *core.Pod) { p.Status.Conditions[0].Status = "" },
			want: []want{required("status.conditions[0].status")}},
		{name: "podIP must be an IP", mutate: func(p *core.Pod) { p.Status.PodIP = "300.1.1.1" },
			want: []want{invalid("status.podIP")}},
		{name: "hostIP must be an IP without leading zeros", mutate: func(p *core.Pod) { p.Status.HostIP = "010.0.0.5" },
			want: []want{invalid("status.hostIP")}},
		{name: "an IPv6 podIP is fine", mutate: func(p *core.Pod) { p.Status.PodIP = "fd00::7" }},
		{name: "a legacy hostIP already stored may stay",
			old:    func(p *core.Pod) { p.Status.HostIP = "010.0.0.5" },
			mutate: func(p *core.Pod) {}},
		{name: "restartCount may not be negative", mutate: func(p *core.Pod) { p.Status.ContainerStatuses[0].RestartCount = -1 },
			want: []want{invalid("status.containerStatuses[0].restartCount")}},
		{name: "a container status names a container of the pod", mutate: func(p *core.Pod) { p.Status.ContainerStatuses[0].Name = "ghost" },
			want: []want{notFound("status.containerStatuses[0].name")}},
		{name: "container status name is required", mutate: func(p *core.Pod) { p.Status.ContainerStatuses[0].Name = "" },
			want: []want{required("status.containerStatuses[0].name")}},
		{name: "a container has one status", mutate: func(p *core.Pod) {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, p.Status.ContainerStatuses[0])
		}, want: []want{duplicate("status.containerStatuses[1].name")}},
		{name: "a container state holds one of waiting, running, terminated", mutate: func(p *core.Pod) {
			p.Status.ContainerStatuses[0].State.Terminated = &core.ContainerStateTerminated{ExitCode: 1}
		}, want: []want{forbidden("status.containerStatuses[0].state")}},
		{name: "so does the last termination state", mutate: func(p *core.Pod) {
			p.Status.ContainerStatuses[0].LastTerminationState = core.ContainerState{
				Waiting: &core.ContainerStateWaiting{}, Terminated: &core.ContainerStateTerminated{},
			}
		}, want: []want{forbidden("status.containerStatuses[0].lastTerminationState")}},
		{name: "restartPolicy Never: a terminated container stays terminated",
			old: func(p *core.Pod) {
				p.Spec.RestartPolicy = core.RestartPolicyNever
				p.Status.ContainerStatuses[0].State = terminated(0)
			},
			mutate: func(p *core.Pod) { p.Status.ContainerStatuses[0].State = running },
			want:   []want{forbidden("status.containerStatuses[0].state").with("may not be transitioned to non-terminated state")}},
		{name: "restartPolicy OnFailure: a failed container may restart",
			old: func(p *core.Pod) {
				p.Spec.RestartPolicy = core.RestartPolicyOnFailure
				p.Status.ContainerStatuses[0].State = terminated(1)
			},
			mutate: func(p *core.Pod) { p.Status.ContainerStatuses[0].State = running }},
		{name: "restartPolicy OnFailure: a succeeded container stays terminated",
			old: func(p *core.Pod) {
				p.Spec.RestartPolicy = core.RestartPolicyOnFailure
				p.Status.ContainerStatuses[0].State = terminated(0)
			},
			mutate: func(p *core.Pod) { p.Status.ContainerStatuses[0].State = running },
			want:   []want{forbidden("status.containerStatuses[0].state")}},
		{name: "restartPolicy Always: a terminated container may restart",
			old:    func(p *core.Pod) { p.Status.ContainerStatuses[0].State = terminated(0) },
			mutate: func(p *core.Pod) { p.Status.ContainerStatuses[0].State = running }},
		{name: "nodeName may not change through status", mutate: func(p *core.Pod) { p.Spec.NodeName = "node-2" },
			want: []want{forbidden("spec.nodeName")}},
		{name: "metadata update rules apply", mutate: func(p *core.Pod) { p.Namespace = "other" },
			want: []want{invalid("metadata.namespace").with("field is immutable")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oldPod := runningPod()
			if tc.old != nil {
				tc.old(oldPod)
			}
			newPod := oldPod.DeepCopy()
			tc.mutate(newPod)
			expectErrors(t, ValidatePodStatusUpdate(newPod, oldPod), tc.want...)
		})
	}
}

func TestValidatePodBinding(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(b *core.Binding)
		want   []want
	}{
		{name: "a binding to a node is valid", mutate: func(b *core.Binding) {}},
		{name: "target kind may be left empty", mutate: func(b *core.Binding) { b.Target.Kind = "" }},
		{name: "a binding without namespace takes the request's", mutate: func(b *core.Binding) { b.Namespace = "" }},
		{name: "target kind must be Node", mutate: func(b *core.Binding) { b.Target.Kind = "Pod" },
			want: []want{notSupported("target.kind").with(`"Node", "<empty>"`)}},
		{name: "target name is required", mutate: func(b *core.Binding) { b.Target.Name = "" },
			want: []want{required("target.name").with("target.name: Required value")}},
		{name: "target name must be a node name", mutate: func(b *core.Binding) { b.Target.Name = "Node_1" },
			want: []want{invalid("target.name")}},
		{name: "the binding names the pod", mutate: func(b *core.Binding) { b.Name = "" },
			want: []want{required("metadata.name")}},
		{name: "the pod name must be valid", mutate: func(b *core.Binding) { b.Name = "Web_1" },
			want: []want{invalid("metadata.name")}},
		{name: "every problem is reported", mutate: func(b *core.Binding) {
			b.Name, b.Target.Kind, b.Target.Name = "", "Pod", ""
		}, want: []want{required("metadata.name"), notSupported("target.kind"), required("target.name")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &core.Binding{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
				Target:     core.ObjectReference{Kind: "Node", Name: "node-1"},
			}
			tc.mutate(b)
			expectErrors(t, ValidatePodBinding(b), tc.want...)
		})
	}
}

func validNode() *core.Node {
	return &core.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1", ResourceVersion: "1"},
		Spec: core.NodeSpec{Taints: []core.Taint{
			{Key: "dedicated", Value: "gpu", Effect: core.TaintEffectNoSchedule},
			{Key: "dedicated", Value: "gpu", Effect: core.TaintEffectNoExecute},
		}},
		Status: core.NodeStatus{
			Capacity:        core.ResourceList{core.ResourceCPU: resource.MustParse("4"), core.ResourceMemory: resource.MustParse("8Gi"), core.ResourcePods: resource.MustParse("110")},
			Allocatable:     core.ResourceList{core.ResourceCPU: resource.MustParse("3800m"), core.ResourceMemory: resource.MustParse("7Gi"), core.ResourcePods: resource.MustParse("110")},
			Conditions:      []core.NodeCondition{{Type: core.NodeReady, Status: core.ConditionTrue}, {Type: "DiskPressure", Status: core.ConditionFalse}},
			Addresses:       []core.NodeAddress{{Type: core.NodeInternalIP, Address: "10.0.0.5"}, {Type: core.NodeHostName, Address: "node-1"}},
			DaemonEndpoints: core.NodeDaemonEndpoints{KubeletEndpoint: core.DaemonEndpoint{Port: 10250}},
		},
	}
}

// nodeStatusCases are status mistakes that every node validation reports.
var nodeStatusCases = []struct {
	name   string
	mutate func(n *core.Node)
	want   []want
}{
	{name: "negative capacity", mutate: func(n *core.Node) { n.Status.Capacity[core.ResourceCPU] = resource.MustParse("-1") },
		want: []want{invalid("status.capacity[cpu]").with("must be greater than or equal to 0")}},
	{name: "negative allocatable", mutate: func(n *core.Node) { n.Status.Allocatable[core.ResourceMemory] = resource.MustParse("-1Gi") },
		want: []want{invalid("status.allocatable[memory]")}},
	{name: "a fractional pod count", mutate: func(n *core.Node) { n.Status.Capacity[core.ResourcePods] = resource.MustParse("1500m") },
		want: []want{invalid("status.capacity[pods]").with("must be an integer")}},
	{name: "a resource name that is not a qualified name", mutate: func(n *core.Node) { n.Status.Capacity["bad name"] = resource.MustParse("1") },
		want: []want{invalid("status.capacity[bad name]")}},
	{name: "an address needs a type", mutate: func(n *core.Node) { n.Status.Addresses[0].Type = "" },
		want: []want{required("status.addresses[0].type")}},
	{name: "an address type must be known", mutate: func(n *core.Node) { n.Status.Addresses[0].Type = "PublicIP" },
		want: []want{notSupported("status.addresses[0].type")}},
	{name: "an address needs an address", mutate: func(n *core.Node) { n.Status.Addresses[1].Address = "" },
		want: []want{required("status.addresses[1].address")}},
	{name: "condition status must be True, False or Unknown", mutate: func(n *core.Node) { n.Status.Conditions[0].Status = "Maybe" },
		want: []want{notSupported("status.conditions[0].status")}},
	{name: "condition type is required", mutate: func(n *core.Node) { n.Status.Conditions[1].Type = "" },
		want: []want{required("status.conditions[1].type")}},
	{name: "condition types are unique", mutate: func(n *core.Node) { n.Status.Conditions[1].Type = core.NodeReady },
		want: []want{duplicate("status.conditions[1].type")}},
	{name: "kubelet port must be a port number", mutate: func(n *core.Node) { n.Status.DaemonEndpoints.KubeletEndpoint.Port = 70000 },
		want: []want{invalid("status.daemonEndpoints.kubeletEndpoint.Port")}},
	{name: "an InternalIP must be an IP, not a URL authority", mutate: func(n *core.Node) { n.Status.Addresses[0].Address = "evil.example@127.0.0.1" },
		want: []want{invalid("status.addresses[0].address")}},
	{name: "an InternalIP carries no port or path", mutate: func(n *core.Node) { n.Status.Addresses[0].Address = "127.0.0.1:36443/x?" },
		want: []want{invalid("status.addresses[0].address")}},
	{name: "an ExternalIP must be an IP", mutate: func(n *core.Node) {
		n.Status.Addresses = append(n.Status.Addresses, core.NodeAddress{Type: core.NodeExternalIP, Address: "node-1.example"})
	}, want: []want{invalid("status.addresses[2].address")}},
	{name: "an IPv6 InternalIP is valid", mutate: func(n *core.Node) { n.Status.Addresses[0].Address = "fd00::5" }},
	{name: "a Hostname must be a DNS subdomain", mutate: func(n *core.Node) { n.Status.Addresses[1].Address = "evil.example@127.0.0.1" },
		want: []want{invalid("status.addresses[1].address")}},
	{name: "an InternalDNS must be a DNS subdomain", mutate: func(n *core.Node) {
		n.Status.Addresses = append(n.Status.Addresses, core.NodeAddress{Type: core.NodeInternalDNS, Address: "node-1:10250"})
	}, want: []want{invalid("status.addresses[2].address")}},
	{name: "an ExternalDNS name is valid", mutate: func(n *core.Node) {
		n.Status.Addresses = append(n.Status.Addresses, core.NodeAddress{Type: core.NodeExternalDNS, Address: "node-1.example.com"})
	}},
	{name: "addresses are unique", mutate: func(n *core.Node) { n.Status.Addresses = append(n.Status.Addresses, n.Status.Addresses[0]) },
		want: []want{duplicate("status.addresses[2]")}},
	{name: "kubelet port must be positive", mutate: func(n *core.Node) { n.Status.DaemonEndpoints.KubeletEndpoint.Port = -1 },
		want: []want{invalid("status.daemonEndpoints.kubeletEndpoint.Port")}},
}

func TestValidateNode(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(n *core.Node)
		want   []want
	}{
		{name: "a registered node is valid", mutate: func(n *core.Node) {}},
		{name: "a node with no status yet is valid", mutate: func(n *core.Node) { n.Status = core.NodeStatus{} }},
		{name: "name must be a DNS subdomain", mutate: func(n *core.Node) { n.Name = "Node_1" },
			want: []want{invalid("metadata.name")}},
		{name: "nodes are cluster-scoped", mutate: func(n *core.Node) { n.Namespace = "default" },
			want: []want{forbidden("metadata.namespace")}},
		{name: "taint key must be a qualified name", mutate: func(n *core.Node) { n.Spec.Taints[0].Key = "bad key" },
			want: []want{invalid("spec.taints[0].key")}},
		// apimachinery reports an empty key as both empty and malformed.
		{name: "taint key is required", mutate: func(n *core.Node) { n.Spec.Taints[0].Key = "" },
			want: []want{invalid("spec.taints[0].key").with("must be non-empty"), invalid("spec.taints[0].key")}},
		{name: "taint value must be a label value", mutate: func(n *core.Node) { n.Spec.Taints[0].Value = "a b" },
			want: []want{invalid("spec.taints[0].value")}},
		{name: "taint effect is required", mutate: func(n *core.Node) { n.Spec.Taints[0].Effect = "" },
			want: []want{required("spec.taints[0].effect")}},
		{name: "taint effect must be known", mutate: func(n *core.Node) { n.Spec.Taints[0].Effect = "NoRun" },
			want: []want{notSupported("spec.taints[0].effect").with(`"NoSchedule", "PreferNoSchedule", "NoExecute"`)}},
		{name: "taints are unique by key and effect", mutate: func(n *core.Node) {
			n.Spec.Taints = append(n.Spec.Taints, core.Taint{Key: "dedicated", Value: "other", Effect: core.TaintEffectNoSchedule})
		}, want: []want{duplicate("spec.taints[2]").with("taints must be unique by key and effect pair")}},
	}
	for _, tc := range append(tests, nodeStatusCases...) {
		t.Run(tc.name, func(t *testing.T) {
			n := validNode()
			tc.mutate(n)
			expectErrors(t, ValidateNode(n), tc.want...)
		})
	}
}

func TestValidateNodeUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(n *core.Node)
		want   []want
	}{
		{name: "an unchanged node is valid", mutate: func(n *core.Node) {}},
		{name: "taints and unschedulable may change", mutate: func(n *core.Node) {
			n.Spec.Unschedulable = true
			n.Spec.Taints = []core.Taint{{Key: "node.kubernetes.io/unschedulable", Effect: core.TaintEffectNoSchedule}}
		}},
		{name: "the new taints must be valid", mutate: func(n *core.Node) { n.Spec.Taints[1].Effect = "" },
			want: []want{required("spec.taints[1].effect")}},
		{name: "name is immutable", mutate: func(n *core.Node) { n.Name = "node-2" },
			want: []want{invalid("metadata.name")}},
		{name: "an update needs a resourceVersion", mutate: func(n *core.Node) { n.ResourceVersion = "" },
			want: []want{invalid("metadata.resourceVersion")}},
	}
	for _, tc := range append(tests, nodeStatusCases...) {
		t.Run(tc.name, func(t *testing.T) {
			oldNode := validNode()
			n := oldNode.DeepCopy()
			tc.mutate(n)
			expectErrors(t, ValidateNodeUpdate(n, oldNode), tc.want...)
		})
	}
}

func TestValidateNodeStatusUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(n *core.Node)
		want   []want
	}{
		{name: "a heartbeat is valid", mutate: func(n *core.Node) {
			n.Status.Conditions[0].LastHeartbeatTime = metav1.Now()
		}},
		{name: "name is immutable", mutate: func(n *core.Node) { n.Name = "node-2" },
			want: []want{invalid("metadata.name")}},
	}
	for _, tc := range append(tests, nodeStatusCases...) {
		t.Run(tc.name, func(t *testing.T) {
			oldNode := validNode()
			n := oldNode.DeepCopy()
			tc.mutate(n)
			expectErrors(t, ValidateNodeStatusUpdate(n, oldNode), tc.want...)
		})
	}
}

func validLease() *core.Lease {
	now := metav1.NewMicroTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	return &core.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1", Namespace: "skiff-node-lease", ResourceVersion: "1"},
		Spec: core.LeaseSpec{
			HolderIdentity:       ptrTo("node-1"),
			LeaseDurationSeconds: ptrTo[int32](40),
			RenewTime:            &now,
			LeaseTransitions:     ptrTo[int32](0),
		},
	}
}

func TestValidateLease(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(l *core.Lease)
		want   []want
	}{
		{name: "a node heartbeat lease is valid", mutate: func(l *core.Lease) {}},
		{name: "an empty spec is valid", mutate: func(l *core.Lease) { l.Spec = core.LeaseSpec{} }},
		{name: "name must be a DNS subdomain", mutate: func(l *core.Lease) { l.Name = "Node_1" },
			want: []want{invalid("metadata.name")}},
		{name: "leases are namespaced", mutate: func(l *core.Lease) { l.Namespace = "" },
			want: []want{required("metadata.namespace")}},
		{name: "zero lease duration", mutate: func(l *core.Lease) { l.Spec.LeaseDurationSeconds = ptrTo[int32](0) },
			want: []want{invalid("spec.leaseDurationSeconds").with("must be greater than 0")}},
		{name: "negative lease duration", mutate: func(l *core.Lease) { l.Spec.LeaseDurationSeconds = ptrTo[int32](-5) },
			want: []want{invalid("spec.leaseDurationSeconds")}},
		{name: "negative transitions", mutate: func(l *core.Lease) { l.Spec.LeaseTransitions = ptrTo[int32](-1) },
			want: []want{invalid("spec.leaseTransitions").with("must be greater than or equal to 0")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := validLease()
			tc.mutate(l)
			expectErrors(t, ValidateLease(l), tc.want...)
		})
	}
}

func TestValidateLeaseUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(l *core.Lease)
		want   []want
	}{
		{name: "a renewal is valid", mutate: func(l *core.Lease) {
			renew := metav1.NewMicroTime(time.Date(2025, 1, 1, 0, 0, 10, 0, time.UTC))
			l.Spec.RenewTime = &renew
		}},
		{name: "a change of holder is valid", mutate: func(l *core.Lease) {
			l.Spec.HolderIdentity = ptrTo("other")
			l.Spec.LeaseTransitions = ptrTo[int32](1)
		}},
		{name: "zero lease duration", mutate: func(l *core.Lease) { l.Spec.LeaseDurationSeconds = ptrTo[int32](0) },
			want: []want{invalid("spec.leaseDurationSeconds")}},
		{name: "name is immutable", mutate: func(l *core.Lease) { l.Name = "node-2" },
			want: []want{invalid("metadata.name")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oldLease := validLease()
			l := oldLease.DeepCopy()
			tc.mutate(l)
			expectErrors(t, ValidateLeaseUpdate(l, oldLease), tc.want...)
		})
	}
}
