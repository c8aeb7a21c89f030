package v1alpha1_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// defaulted runs the scheme's defaulting on obj, as the apiserver does after
// decoding a request.
func defaulted(t *testing.T, obj runtime.Object) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatalf("add v1alpha1 to scheme: %v", err)
	}
	scheme.Default(obj)
}

func TestPodSpecDefaults(t *testing.T) {
	pod := &v1alpha1.Pod{Spec: v1alpha1.PodSpec{
		Containers: []v1alpha1.Container{{
			Name:  "web",
			Image: "nginx",
			Ports: []v1alpha1.ContainerPort{{ContainerPort: 80}},
		}},
		Tolerations: []v1alpha1.Toleration{{Key: "dedicated", Value: "web"}},
	}}
	defaulted(t, pod)

	spec := pod.Spec
	if spec.RestartPolicy != v1alpha1.RestartPolicyAlways {
		t.Errorf("restartPolicy = %q, want Always", spec.RestartPolicy)
	}
	if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds != 30 {
		t.Errorf("terminationGracePeriodSeconds = %v, want 30", spec.TerminationGracePeriodSeconds)
	}
	if spec.SchedulerName != "skiff-scheduler" {
		t.Errorf("schedulerName = %q, want skiff-scheduler", spec.SchedulerName)
	}
	if got := spec.Containers[0].Ports[0].Protocol; got != v1alpha1.ProtocolTCP {
		t.Errorf("port protocol = %q, want TCP", got)
	}
	if got := spec.Tolerations[0].Operator; got != v1alpha1.TolerationOpEqual {
		t.Errorf("toleration operator = %q, want Equal", got)
	}
	if got := spec.Containers[0].ImagePullPolicy; got != v1alpha1.PullAlways {
		t.Errorf("imagePullPolicy = %q, want Always", got)
	}
}

func TestPodSpecDefaultsKeepExplicitValues(t *testing.T) {
	grace := int64(0)
	pod := &v1alpha1.Pod{Spec: v1alpha1.PodSpec{
		Containers: []v1alpha1.Container{{
			Name:            "job",
			Image:           "busybox",
			ImagePullPolicy: v1alpha1.PullNever,
			Ports:           []v1alpha1.ContainerPort{{ContainerPort: 53, Protocol: v1alpha1.ProtocolUDP}},
		}},
		RestartPolicy:                 v1alpha1.RestartPolicyOnFailure,
		TerminationGracePeriodSeconds: &grace,
		SchedulerName:                 "my-scheduler",
		Tolerations:                   []v1alpha1.Toleration{{Operator: v1alpha1.TolerationOpExists}},
	}}
	defaulted(t, pod)

	spec := pod.Spec
	if spec.RestartPolicy != v1alpha1.RestartPolicyOnFailure {
		t.Errorf("restartPolicy = %q, want OnFailure kept", spec.RestartPolicy)
	}
	if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds != 0 {
		t.Errorf("terminationGracePeriodSeconds = %v, want 0 kept", spec.TerminationGracePeriodSeconds)
	}
	if spec.SchedulerName != "my-scheduler" {
		t.Errorf("schedulerName = %q, want my-scheduler kept", spec.SchedulerName)
	}
	if got := spec.Containers[0].ImagePullPolicy; got != v1alpha1.PullNever {
		t.Errorf("imagePullPolicy = %q, want Never kept", got)
	}
	if got := spec.Containers[0].Ports[0].Protocol; got != v1alpha1.ProtocolUDP {
		t.Errorf("port protocol = %q, want UDP kept", got)
	}
	if got := spec.Tolerations[0].Operator; got != v1alpha1.TolerationOpExists {
		t.Errorf("toleration operator = %q, want Exists kept", got)
	}
}

func TestImagePullPolicyDefault(t *testing.T) {
	tests := []struct {
		image string
		want  v1alpha1.PullPolicy
	}{
		{image: "nginx", want: v1alpha1.PullAlways},
		{image: "nginx:latest", want: v1alpha1.PullAlways},
		{image: "library/nginx", want: v1alpha1.PullAlways},
		{image: "nginx:1.25", want: v1alpha1.PullIfNotPresent},
		{image: "registry.k8s.io/pause:3.10", want: v1alpha1.PullIfNotPresent},
		{image: "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", want: v1alpha1.PullIfNotPresent},
		{image: "nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", want: v1alpha1.PullIfNotPresent},
		// The colon of a registry port is not a tag.
		{image: "localhost:5000/img", want: v1alpha1.PullAlways},
		{image: "localhost:5000/img:latest", want: v1alpha1.PullAlways},
		{image: "localhost:5000/img:v2", want: v1alpha1.PullIfNotPresent},
	}
	for _, tc := range tests {
		t.Run(tc.image, func(t *testing.T) {
			pod := &v1alpha1.Pod{Spec: v1alpha1.PodSpec{
				Containers: []v1alpha1.Container{{Name: "c", Image: tc.image}},
			}}
			defaulted(t, pod)
			if got := pod.Spec.Containers[0].ImagePullPolicy; got != tc.want {
				t.Errorf("imagePullPolicy for %q = %q, want %q", tc.image, got, tc.want)
			}
		})
	}
}

// TestPodListItemsAreDefaulted covers the list defaulter: every pod of a
// list gets the same defaults as a single pod.
func TestPodListItemsAreDefaulted(t *testing.T) {
	list := &v1alpha1.PodList{Items: []v1alpha1.Pod{
		{Spec: v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "a", Image: "nginx:1.25"}}}},
		{Spec: v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "b", Image: "nginx"}}}},
	}}
	defaulted(t, list)
	for i, want := range []v1alpha1.PullPolicy{v1alpha1.PullIfNotPresent, v1alpha1.PullAlways} {
		item := list.Items[i]
		if item.Spec.RestartPolicy != v1alpha1.RestartPolicyAlways || item.Spec.SchedulerName != "skiff-scheduler" {
			t.Errorf("items[%d] spec not defaulted: %+v", i, item.Spec)
		}
		if got := item.Spec.Containers[0].ImagePullPolicy; got != want {
			t.Errorf("items[%d] imagePullPolicy = %q, want %q", i, got, want)
		}
	}
}

func TestProbeDefaults(t *testing.T) {
	pod := &v1alpha1.Pod{Spec: v1alpha1.PodSpec{Containers: []v1alpha1.Container{{
		Name: "web", Image: "web:1",
		ReadinessProbe: &v1alpha1.Probe{ProbeHandler: v1alpha1.ProbeHandler{HTTPGet: &v1alpha1.HTTPGetAction{Port: intstr.FromInt32(80)}}},
		LivenessProbe:  &v1alpha1.Probe{ProbeHandler: v1alpha1.ProbeHandler{TCPSocket: &v1alpha1.TCPSocketAction{Port: intstr.FromInt32(80)}}, PeriodSeconds: 2, FailureThreshold: 1},
	}}}}
	v1alpha1.SetObjectDefaults_Pod(pod)
	r := pod.Spec.Containers[0].ReadinessProbe
	if r.PeriodSeconds != 10 || r.TimeoutSeconds != 1 || r.SuccessThreshold != 1 || r.FailureThreshold != 3 {
		t.Errorf("readiness timing defaults: %+v", r)
	}
	if r.HTTPGet.Path != "/" || r.HTTPGet.Scheme != v1alpha1.URISchemeHTTP {
		t.Errorf("httpGet defaults: path %q scheme %q", r.HTTPGet.Path, r.HTTPGet.Scheme)
	}
	l := pod.Spec.Containers[0].LivenessProbe
	if l.PeriodSeconds != 2 || l.FailureThreshold != 1 || l.TimeoutSeconds != 1 {
		t.Errorf("set values must be kept, unset ones defaulted: %+v", l)
	}
}

func TestPriorityClassDefaults(t *testing.T) {
	pc := &v1alpha1.PriorityClass{Value: 10}
	defaulted(t, pc)
	if pc.PreemptionPolicy == nil || *pc.PreemptionPolicy != v1alpha1.PreemptLowerPriority {
		t.Errorf("preemptionPolicy %v, want PreemptLowerPriority", pc.PreemptionPolicy)
	}
	never := v1alpha1.PreemptNever
	pc = &v1alpha1.PriorityClass{PreemptionPolicy: &never}
	defaulted(t, pc)
	if *pc.PreemptionPolicy != v1alpha1.PreemptNever {
		t.Errorf("a set policy became %s", *pc.PreemptionPolicy)
	}
}

// TestPodSchedulingFieldsNotDefaulted keeps pod defaulting away from what the
// Priority admission plugin sets (priority, preemptionPolicy) and from the
// spread policies, whose nil means Honor (affinity) and Ignore (taints).
func TestPodSchedulingFieldsNotDefaulted(t *testing.T) {
	pod := &v1alpha1.Pod{Spec: v1alpha1.PodSpec{
		Containers:                []v1alpha1.Container{{Name: "web", Image: "nginx"}},
		TopologySpreadConstraints: []v1alpha1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: v1alpha1.DoNotSchedule}},
	}}
	defaulted(t, pod)
	c := pod.Spec.TopologySpreadConstraints[0]
	if pod.Spec.Priority != nil || pod.Spec.PreemptionPolicy != nil || c.NodeAffinityPolicy != nil || c.NodeTaintsPolicy != nil || c.MinDomains != nil {
		t.Errorf("defaulting set priority %v, preemptionPolicy %v, nodeAffinityPolicy %v, nodeTaintsPolicy %v, minDomains %v",
			pod.Spec.Priority, pod.Spec.PreemptionPolicy, c.NodeAffinityPolicy, c.NodeTaintsPolicy, c.MinDomains)
	}
}
