package pod

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/pkg/apis/core"
)

// mergeMatchLabelKeys folds the matchLabelKeys (and mismatchLabelKeys) of a
// new pod's affinity terms and spread constraints into their label
// selectors, as kube-apiserver does since MatchLabelKeysInPodAffinity and
// MatchLabelKeysInPodTopologySpreadSelectorMerge: key in (the pod's value),
// or key notin (the pod's value); a key the pod has no label for adds
// nothing. The scheduler then reads one selector and needs no pod labels
// to interpret it. The key lists stay in the spec, as upstream's do.
func mergeMatchLabelKeys(pod *core.Pod) {
	if a := pod.Spec.Affinity; a != nil {
		if pa := a.PodAffinity; pa != nil {
			mergeAffinityTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, pod.Labels)
		}
		if paa := a.PodAntiAffinity; paa != nil {
			mergeAffinityTerms(paa.RequiredDuringSchedulingIgnoredDuringExecution, paa.PreferredDuringSchedulingIgnoredDuringExecution, pod.Labels)
		}
	}
	for i := range pod.Spec.TopologySpreadConstraints {
		c := &pod.Spec.TopologySpreadConstraints[i]
		// A nil selector matches no pods; the keys cannot widen that.
		if c.LabelSelector != nil {
			addRequirements(c.LabelSelector, c.MatchLabelKeys, metav1.LabelSelectorOpIn, pod.Labels)
		}
	}
}

func mergeAffinityTerms(required []core.PodAffinityTerm, preferred []core.WeightedPodAffinityTerm, labels map[string]string) {
	for i := range required {
		mergeAffinityTerm(&required[i], labels)
	}
	for i := range preferred {
		mergeAffinityTerm(&preferred[i].PodAffinityTerm, labels)
	}
}

func mergeAffinityTerm(term *core.PodAffinityTerm, labels map[string]string) {
	if term.LabelSelector == nil {
		return
	}
	addRequirements(term.LabelSelector, term.MatchLabelKeys, metav1.LabelSelectorOpIn, labels)
	addRequirements(term.LabelSelector, term.MismatchLabelKeys, metav1.LabelSelectorOpNotIn, labels)
}

func addRequirements(sel *metav1.LabelSelector, keys []string, op metav1.LabelSelectorOperator, labels map[string]string) {
	for _, key := range keys {
		if value, ok := labels[key]; ok {
			sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{Key: key, Operator: op, Values: []string{value}})
		}
	}
}
