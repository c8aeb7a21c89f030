package validation

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/pkg/apis/core"
)

func appSelector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
}

// schedulingPod is validPod with one of each new scheduling constraint.
func schedulingPod() *core.Pod {
	p := validPod()
	// Every term gets its own selector, so that a case can break one.
	term := func() core.PodAffinityTerm {
		return core.PodAffinityTerm{LabelSelector: appSelector(), TopologyKey: "kubernetes.io/hostname"}
	}
	p.Spec.Affinity.PodAffinity = &core.PodAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution:  []core.PodAffinityTerm{term()},
		PreferredDuringSchedulingIgnoredDuringExecution: []core.WeightedPodAffinityTerm{{Weight: 50, PodAffinityTerm: term()}},
	}
	p.Spec.Affinity.PodAntiAffinity = &core.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution:  []core.PodAffinityTerm{term()},
		PreferredDuringSchedulingIgnoredDuringExecution: []core.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: term()}},
	}
	p.Spec.TopologySpreadConstraints = []core.TopologySpreadConstraint{
		{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: core.DoNotSchedule, LabelSelector: appSelector(), MinDomains: ptrTo[int32](3)},
		{MaxSkew: 2, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: core.ScheduleAnyway, LabelSelector: appSelector(),
			NodeAffinityPolicy: ptrTo(core.NodeInclusionPolicyIgnore), NodeTaintsPolicy: ptrTo(core.NodeInclusionPolicyHonor)},
	}
	p.Spec.PriorityClassName = "high"
	p.Spec.Priority = ptrTo[int32](1000)
	p.Spec.PreemptionPolicy = ptrTo(core.PreemptLowerPriority)
	return p
}

func TestValidatePodAffinity(t *testing.T) {
	const (
		req     = "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
		pref    = "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"
		antiReq = "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
		antiPre = "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"
	)
	reqTerm := func(p *core.Pod) *core.PodAffinityTerm {
		return &p.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]
	}
	antiTerm := func(p *core.Pod) *core.PodAffinityTerm {
		return &p.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]
	}
	tests := []struct {
		name   string
		mutate func(p *core.Pod)
		want   []want
	}{
		{name: "valid affinity and anti-affinity", mutate: func(p *core.Pod) {}},
		{name: "an empty selector matches every pod and is valid", mutate: func(p *core.Pod) { reqTerm(p).LabelSelector = &metav1.LabelSelector{} }},
		{name: "namespaces and a namespaceSelector are valid", mutate: func(p *core.Pod) {
			reqTerm(p).Namespaces = []string{"default", "team-a"}
			reqTerm(p).NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}
		}},
		{name: "matchLabelKeys and mismatchLabelKeys are valid", mutate: func(p *core.Pod) {
			reqTerm(p).MatchLabelKeys = []string{"pod-template-hash"}
			reqTerm(p).MismatchLabelKeys = []string{"tenant"}
		}},

		{name: "an affinity term with no selector", mutate: func(p *core.Pod) { reqTerm(p).LabelSelector = nil },
			want: []want{required(req + ".labelSelector").with("matches no pods")}},
		{name: "an anti-affinity term with no selector", mutate: func(p *core.Pod) { antiTerm(p).LabelSelector = nil },
			want: []want{required(antiReq + ".labelSelector")}},
		{name: "a preferred term with no selector", mutate: func(p *core.Pod) {
			p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.LabelSelector = nil
		}, want: []want{required(antiPre + ".podAffinityTerm.labelSelector")}},
		{name: "an empty topology key", mutate: func(p *core.Pod) { reqTerm(p).TopologyKey = "" },
			want: []want{required(req + ".topologyKey").with("can not be empty")}},
		{name: "an invalid topology key", mutate: func(p *core.Pod) { antiTerm(p).TopologyKey = "kubernetes.io/host name" },
			want: []want{invalid(antiReq + ".topologyKey")}},
		{name: "an invalid selector operator", mutate: func(p *core.Pod) {
			reqTerm(p).LabelSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near"}}}
		}, want: []want{invalid(req + ".labelSelector.matchExpressions[0].operator")}},
		{name: "an invalid selector label value", mutate: func(p *core.Pod) { reqTerm(p).LabelSelector.MatchLabels["app"] = "not a value" },
			want: []want{invalid(req + ".labelSelector.matchLabels")}},
		{name: "an invalid namespaceSelector", mutate: func(p *core.Pod) {
			reqTerm(p).NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: metav1.LabelSelectorOpIn}}}
		}, want: []want{required(req + ".namespaceSelector.matchExpressions[0].values")}},
		{name: "an invalid namespace name", mutate: func(p *core.Pod) { reqTerm(p).Namespaces = []string{"Team_A"} },
			want: []want{invalid(req + ".namespaces[0]")}},
		{name: "weight 0", mutate: func(p *core.Pod) {
			p.Spec.Affinity.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Weight = 0
		},
			want: []want{invalid(pref + ".weight").with("1-100")}},
		{name: "weight 101", mutate: func(p *core.Pod) {
			p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Weight = 101
		}, want: []want{invalid(antiPre + ".weight").with("1-100")}},
		{name: "an invalid matchLabelKeys key", mutate: func(p *core.Pod) { reqTerm(p).MatchLabelKeys = []string{"bad key"} },
			want: []want{invalid(req + ".matchLabelKeys[0]")}},
		{name: "matchLabelKeys without a selector", mutate: func(p *core.Pod) {
			reqTerm(p).LabelSelector = nil
			reqTerm(p).MatchLabelKeys = []string{"pod-template-hash"}
		}, want: []want{required(req + ".labelSelector"), forbidden(req + ".matchLabelKeys")}},
		{name: "a key in both matchLabelKeys and mismatchLabelKeys", mutate: func(p *core.Pod) {
			reqTerm(p).MatchLabelKeys = []string{"tenant"}
			reqTerm(p).MismatchLabelKeys = []string{"tenant"}
		}, want: []want{invalid(req + ".matchLabelKeys[0]").with("mismatchLabelKeys")}},
		{name: "a matchLabelKeys key also in the selector", mutate: func(p *core.Pod) {
			reqTerm(p).MatchLabelKeys = []string{"app"}
			reqTerm(p).LabelSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web"}}}
		}, want: []want{invalid(req + ".matchLabelKeys[0]").with("labelSelector")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := schedulingPod()
			tc.mutate(p)
			expectErrors(t, ValidatePod(p), tc.want...)
		})
	}
}

func TestValidateTopologySpreadConstraints(t *testing.T) {
	const c0, c1 = "spec.topologySpreadConstraints[0]", "spec.topologySpreadConstraints[1]"
	tsc := func(p *core.Pod, i int) *core.TopologySpreadConstraint { return &p.Spec.TopologySpreadConstraints[i] }
	tests := []struct {
		name   string
		mutate func(p *core.Pod)
		want   []want
	}{
		{name: "valid constraints", mutate: func(p *core.Pod) {}},
		{name: "no selector is valid (it counts no pods)", mutate: func(p *core.Pod) { tsc(p, 0).LabelSelector = nil }},
		{name: "one key with both actions is valid", mutate: func(p *core.Pod) { tsc(p, 1).TopologyKey = tsc(p, 0).TopologyKey }},
		{name: "matchLabelKeys are valid", mutate: func(p *core.Pod) { tsc(p, 0).MatchLabelKeys = []string{"pod-template-hash"} }},

		{name: "maxSkew 0", mutate: func(p *core.Pod) { tsc(p, 0).MaxSkew = 0 },
			want: []want{invalid(c0 + ".maxSkew").with("greater than zero")}},
		{name: "negative maxSkew", mutate: func(p *core.Pod) { tsc(p, 1).MaxSkew = -1 },
			want: []want{invalid(c1 + ".maxSkew")}},
		{name: "an empty topology key", mutate: func(p *core.Pod) { tsc(p, 0).TopologyKey = "" },
			want: []want{required(c0 + ".topologyKey").with("can not be empty")}},
		{name: "an invalid topology key", mutate: func(p *core.Pod) { tsc(p, 0).TopologyKey = "topology.kubernetes.io/-zone" },
			want: []want{invalid(c0 + ".topologyKey")}},
		{name: "a bad whenUnsatisfiable", mutate: func(p *core.Pod) { tsc(p, 1).WhenUnsatisfiable = "Whatever" },
			want: []want{notSupported(c1 + ".whenUnsatisfiable").with(`"DoNotSchedule", "ScheduleAnyway"`)}},
		{name: "an empty whenUnsatisfiable", mutate: func(p *core.Pod) { tsc(p, 1).WhenUnsatisfiable = "" },
			want: []want{notSupported(c1 + ".whenUnsatisfiable")}},
		{name: "minDomains with ScheduleAnyway", mutate: func(p *core.Pod) { tsc(p, 1).MinDomains = ptrTo[int32](2) },
			want: []want{invalid(c1 + ".minDomains").with("whenUnsatisfiable=DoNotSchedule")}},
		{name: "minDomains 0", mutate: func(p *core.Pod) { tsc(p, 0).MinDomains = ptrTo[int32](0) },
			want: []want{invalid(c0 + ".minDomains").with("greater than zero")}},
		{name: "duplicate constraints", mutate: func(p *core.Pod) {
			tsc(p, 1).TopologyKey, tsc(p, 1).WhenUnsatisfiable = tsc(p, 0).TopologyKey, core.DoNotSchedule
		},
			want: []want{duplicate(c0 + ".{topologyKey, whenUnsatisfiable}")}},
		{name: "a bad nodeAffinityPolicy", mutate: func(p *core.Pod) { tsc(p, 0).NodeAffinityPolicy = ptrTo[core.NodeInclusionPolicy]("Maybe") },
			want: []want{notSupported(c0 + ".nodeAffinityPolicy").with(`"Honor", "Ignore"`)}},
		{name: "a bad nodeTaintsPolicy", mutate: func(p *core.Pod) { tsc(p, 1).NodeTaintsPolicy = ptrTo[core.NodeInclusionPolicy]("honor") },
			want: []want{notSupported(c1 + ".nodeTaintsPolicy")}},
		{name: "an invalid selector", mutate: func(p *core.Pod) {
			tsc(p, 0).LabelSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists, Values: []string{"x"}}}}
		}, want: []want{forbidden(c0 + ".labelSelector.matchExpressions[0].values")}},
		{name: "matchLabelKeys without a selector", mutate: func(p *core.Pod) {
			tsc(p, 0).LabelSelector = nil
			tsc(p, 0).MatchLabelKeys = []string{"pod-template-hash"}
		}, want: []want{forbidden(c0 + ".matchLabelKeys")}},
		{name: "an invalid matchLabelKeys key", mutate: func(p *core.Pod) { tsc(p, 0).MatchLabelKeys = []string{"-x"} },
			want: []want{invalid(c0 + ".matchLabelKeys[0]")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := schedulingPod()
			tc.mutate(p)
			expectErrors(t, ValidatePod(p), tc.want...)
		})
	}
}

func TestValidatePodPriorityFields(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *core.Pod)
		want   []want
	}{
		{name: "a class name, priority and policy are valid", mutate: func(p *core.Pod) {}},
		{name: "Never is a policy", mutate: func(p *core.Pod) { p.Spec.PreemptionPolicy = ptrTo(core.PreemptNever) }},
		{name: "the class name must be a DNS subdomain", mutate: func(p *core.Pod) { p.Spec.PriorityClassName = "High_Priority" },
			want: []want{invalid("spec.priorityClassName")}},
		{name: "a bad preemption policy", mutate: func(p *core.Pod) { p.Spec.PreemptionPolicy = ptrTo[core.PreemptionPolicy]("Always") },
			want: []want{notSupported("spec.preemptionPolicy").with(`"PreemptLowerPriority", "Never"`)}},
		{name: "an empty preemption policy", mutate: func(p *core.Pod) { p.Spec.PreemptionPolicy = ptrTo[core.PreemptionPolicy]("") },
			want: []want{required("spec.preemptionPolicy")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := schedulingPod()
			tc.mutate(p)
			expectErrors(t, ValidatePod(p), tc.want...)
		})
	}
}

func TestValidatePodUpdateSchedulingFieldsImmutable(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *core.Pod)
	}{
		{name: "priority", mutate: func(p *core.Pod) { p.Spec.Priority = ptrTo[int32](5) }},
		{name: "priorityClassName", mutate: func(p *core.Pod) { p.Spec.PriorityClassName = "low" }},
		{name: "topologySpreadConstraints", mutate: func(p *core.Pod) { p.Spec.TopologySpreadConstraints[0].MaxSkew = 3 }},
		{name: "pod anti-affinity", mutate: func(p *core.Pod) {
			p.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey = "zone"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := schedulingPod()
			p := schedulingPod()
			tc.mutate(p)
			expectErrors(t, ValidatePodUpdate(p, old), forbidden("spec"))
		})
	}
}

func TestValidatePodStatusNominatedNodeName(t *testing.T) {
	old := validPod()
	p := validPod()
	p.Status.NominatedNodeName = "node-1"
	expectErrors(t, ValidatePodStatusUpdate(p, old))
	p.Status.NominatedNodeName = "Node_1"
	expectErrors(t, ValidatePodStatusUpdate(p, old), invalid("status.nominatedNodeName"))
}

func validPriorityClass() *core.PriorityClass {
	return &core.PriorityClass{
		ObjectMeta:       metav1.ObjectMeta{Name: "high", ResourceVersion: "1"},
		Value:            1000,
		Description:      "for important pods",
		PreemptionPolicy: ptrTo(core.PreemptLowerPriority),
	}
}

func TestValidatePriorityClass(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(pc *core.PriorityClass)
		want   []want
	}{
		{name: "a valid class", mutate: func(*core.PriorityClass) {}},
		{name: "the largest user value", mutate: func(pc *core.PriorityClass) { pc.Value = core.HighestUserDefinablePriority }},
		{name: "a negative value", mutate: func(pc *core.PriorityClass) { pc.Value = -10 }},
		{name: "a global default", mutate: func(pc *core.PriorityClass) { pc.GlobalDefault = true }},
		{name: "each system class as bootstrapped", mutate: func(pc *core.PriorityClass) {
			*pc = *core.SystemPriorityClasses()[0]
		}},
		{name: "a value above the user maximum", mutate: func(pc *core.PriorityClass) { pc.Value = core.HighestUserDefinablePriority + 1 },
			want: []want{forbidden("value").with("1000000000")}},
		{name: "a reserved name", mutate: func(pc *core.PriorityClass) { pc.Name = "system-mine" },
			want: []want{forbidden("metadata.name").with("reserved for system use")}},
		{name: "a system class with another value", mutate: func(pc *core.PriorityClass) {
			pc.Name, pc.Value = core.SystemClusterCritical, 5
		}, want: []want{forbidden("metadata.name").with("must be 2000000000")}},
		{name: "a bad name", mutate: func(pc *core.PriorityClass) { pc.Name = "High" },
			want: []want{invalid("metadata.name")}},
		{name: "a namespace", mutate: func(pc *core.PriorityClass) { pc.Namespace = "default" },
			want: []want{forbidden("metadata.namespace")}},
		{name: "a bad preemption policy", mutate: func(pc *core.PriorityClass) { pc.PreemptionPolicy = ptrTo[core.PreemptionPolicy]("Sometimes") },
			want: []want{notSupported("preemptionPolicy")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pc := validPriorityClass()
			tc.mutate(pc)
			expectErrors(t, ValidatePriorityClass(pc), tc.want...)
		})
	}
}

func TestValidatePriorityClassUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(pc *core.PriorityClass)
		want   []want
	}{
		{name: "description may change", mutate: func(pc *core.PriorityClass) { pc.Description = "other" }},
		{name: "globalDefault may change", mutate: func(pc *core.PriorityClass) { pc.GlobalDefault = true }},
		{name: "value is immutable", mutate: func(pc *core.PriorityClass) { pc.Value = 2000 },
			want: []want{forbidden("value").with("may not be changed")}},
		{name: "preemptionPolicy is immutable", mutate: func(pc *core.PriorityClass) { pc.PreemptionPolicy = ptrTo(core.PreemptNever) },
			want: []want{invalid("preemptionPolicy").with("immutable")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pc := validPriorityClass()
			tc.mutate(pc)
			expectErrors(t, ValidatePriorityClassUpdate(pc, validPriorityClass()), tc.want...)
		})
	}
}

// TestSystemPriorityClassesAreValid keeps the bootstrap list and the
// validation in step: every system class must pass.
func TestSystemPriorityClassesAreValid(t *testing.T) {
	names := []string{}
	for _, pc := range core.SystemPriorityClasses() {
		names = append(names, pc.Name)
		if errs := ValidatePriorityClass(pc); len(errs) > 0 {
			t.Errorf("%s: %v", pc.Name, errs)
		}
	}
	if got := strings.Join(names, ","); got != "system-node-critical,system-cluster-critical" {
		t.Errorf("system classes %s", got)
	}
	if pcs := core.SystemPriorityClasses(); pcs[0].Value != 2000001000 || pcs[1].Value != 2000000000 {
		t.Errorf("values %d, %d; want upstream's 2000001000, 2000000000", pcs[0].Value, pcs[1].Value)
	}
}
