package pod

import (
	"context"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/validation"
)

func TestPrepareForCreateMergesMatchLabelKeys(t *testing.T) {
	sel := func() *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	}
	term := core.PodAffinityTerm{LabelSelector: sel(), TopologyKey: "kubernetes.io/hostname",
		MatchLabelKeys: []string{"pod-template-hash", "absent"}, MismatchLabelKeys: []string{"tenant"}}
	pod := &core.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default",
			Labels: map[string]string{"app": "web", "pod-template-hash": "5d8f", "tenant": "a"}},
		Spec: core.PodSpec{
			Containers:    []core.Container{{Name: "c", Image: "busybox", ImagePullPolicy: core.PullAlways}},
			RestartPolicy: core.RestartPolicyAlways,
			Affinity: &core.Affinity{
				PodAffinity: &core.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []core.WeightedPodAffinityTerm{{Weight: 1, PodAffinityTerm: *term.DeepCopy()}}},
				PodAntiAffinity: &core.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []core.PodAffinityTerm{*term.DeepCopy(),
					{TopologyKey: "zone", LabelSelector: nil}}},
			},
			TopologySpreadConstraints: []core.TopologySpreadConstraint{
				{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: core.DoNotSchedule, LabelSelector: sel(), MatchLabelKeys: []string{"pod-template-hash"}},
				{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: core.DoNotSchedule, MatchLabelKeys: nil},
			},
		},
	}
	NewStrategy(nil).PrepareForCreate(context.Background(), pod)

	wantTerm := []metav1.LabelSelectorRequirement{
		{Key: "pod-template-hash", Operator: metav1.LabelSelectorOpIn, Values: []string{"5d8f"}},
		{Key: "tenant", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"a"}},
	}
	for name, got := range map[string]*metav1.LabelSelector{
		"preferred affinity":     pod.Spec.Affinity.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.LabelSelector,
		"required anti-affinity": pod.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector,
	} {
		if !reflect.DeepEqual(got.MatchExpressions, wantTerm) {
			t.Errorf("%s: expressions %+v, want %+v", name, got.MatchExpressions, wantTerm)
		}
	}
	if s := pod.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[1].LabelSelector; s != nil {
		t.Errorf("a nil selector became %+v", s)
	}
	wantSpread := []metav1.LabelSelectorRequirement{{Key: "pod-template-hash", Operator: metav1.LabelSelectorOpIn, Values: []string{"5d8f"}}}
	if got := pod.Spec.TopologySpreadConstraints[0].LabelSelector.MatchExpressions; !reflect.DeepEqual(got, wantSpread) {
		t.Errorf("spread expressions %+v, want %+v", got, wantSpread)
	}
	// The merged pod still passes validation: the merged key appears once.
	if errs := validation.ValidatePod(pod); len(errs) != 1 || errs[0].Field != "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[1].labelSelector" {
		t.Errorf("validation of the merged pod: %v, want only the nil selector refused", errs)
	}
}
