package framework

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/sets"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// podAffinityTerms are a pod's parsed pod affinity and anti-affinity terms.
type podAffinityTerms struct {
	RequiredAffinityTerms      []AffinityTerm
	RequiredAntiAffinityTerms  []AffinityTerm
	PreferredAffinityTerms     []WeightedAffinityTerm
	PreferredAntiAffinityTerms []WeightedAffinityTerm
}

// HasAffinity reports whether the pod has any pod affinity or anti-affinity.
func (t *podAffinityTerms) HasAffinity() bool {
	return len(t.RequiredAffinityTerms)+len(t.RequiredAntiAffinityTerms)+len(t.PreferredAffinityTerms)+len(t.PreferredAntiAffinityTerms) > 0
}

// AffinityTerm is a parsed PodAffinityTerm: the pods it selects are those
// matching Selector in Namespaces or in a namespace NamespaceSelector
// matches.
type AffinityTerm struct {
	Namespaces        sets.Set[string]
	Selector          labels.Selector
	TopologyKey       string
	NamespaceSelector labels.Selector
}

// Matches reports whether the term selects pod, whose namespace has the
// labels nsLabels.
func (at *AffinityTerm) Matches(pod *v1alpha1.Pod, nsLabels labels.Set) bool {
	if at.Namespaces.Has(pod.Namespace) || at.NamespaceSelector.Matches(nsLabels) {
		return at.Selector.Matches(labels.Set(pod.Labels))
	}
	return false
}

// WeightedAffinityTerm is a parsed preferred term with its weight.
type WeightedAffinityTerm struct {
	AffinityTerm
	Weight int32
}

func parsePodAffinityTerms(pod *v1alpha1.Pod) podAffinityTerms {
	var t podAffinityTerms
	a := pod.Spec.Affinity
	if a == nil {
		return t
	}
	if pa := a.PodAffinity; pa != nil {
		t.RequiredAffinityTerms = requiredTerms(pod, pa.RequiredDuringSchedulingIgnoredDuringExecution)
		t.PreferredAffinityTerms = weightedTerms(pod, pa.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if pa := a.PodAntiAffinity; pa != nil {
		t.RequiredAntiAffinityTerms = requiredTerms(pod, pa.RequiredDuringSchedulingIgnoredDuringExecution)
		t.PreferredAntiAffinityTerms = weightedTerms(pod, pa.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	return t
}

func requiredTerms(pod *v1alpha1.Pod, terms []v1alpha1.PodAffinityTerm) []AffinityTerm {
	var out []AffinityTerm
	for i := range terms {
		if at, ok := NewAffinityTerm(pod, &terms[i]); ok {
			out = append(out, at)
		}
	}
	return out
}

func weightedTerms(pod *v1alpha1.Pod, terms []v1alpha1.WeightedPodAffinityTerm) []WeightedAffinityTerm {
	var out []WeightedAffinityTerm
	for i := range terms {
		if terms[i].Weight == 0 {
			continue
		}
		if at, ok := NewAffinityTerm(pod, &terms[i].PodAffinityTerm); ok {
			out = append(out, WeightedAffinityTerm{AffinityTerm: at, Weight: terms[i].Weight})
		}
	}
	return out
}

// NewAffinityTerm parses a term of pod. A nil labelSelector selects no pod;
// no namespaces and no namespaceSelector mean the pod's own namespace; an
// empty namespaceSelector selects every namespace. matchLabelKeys and
// mismatchLabelKeys add "key in/notin (the pod's value)". It reports false
// for a term that does not parse.
func NewAffinityTerm(pod *v1alpha1.Pod, term *v1alpha1.PodAffinityTerm) (AffinityTerm, bool) {
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		return AffinityTerm{}, false
	}
	if term.LabelSelector != nil {
		sel = withLabelKeys(sel, pod.Labels, term.MatchLabelKeys, selection.In)
		sel = withLabelKeys(sel, pod.Labels, term.MismatchLabelKeys, selection.NotIn)
	}
	namespaces := sets.New(term.Namespaces...)
	nsSel := labels.Nothing()
	if term.NamespaceSelector != nil {
		if nsSel, err = metav1.LabelSelectorAsSelector(term.NamespaceSelector); err != nil {
			return AffinityTerm{}, false
		}
	} else if len(namespaces) == 0 {
		namespaces.Insert(pod.Namespace)
	}
	return AffinityTerm{Namespaces: namespaces, Selector: sel, TopologyKey: term.TopologyKey, NamespaceSelector: nsSel}, true
}

// withLabelKeys adds "key op (value)" for each key the pod has.
func withLabelKeys(sel labels.Selector, podLabels map[string]string, keys []string, op selection.Operator) labels.Selector {
	for _, k := range keys {
		v, ok := podLabels[k]
		if !ok {
			continue
		}
		if r, err := labels.NewRequirement(k, op, []string{v}); err == nil {
			sel = sel.Add(*r)
		}
	}
	return sel
}
