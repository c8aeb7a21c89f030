package controller

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ResolveControllerRef returns the controller that ref names when it is of
// kind gvk and is the very object (same UID), not a newer one that took the
// name after the owner was deleted. get reads it from a lister.
func ResolveControllerRef[T metav1.Object](ref *metav1.OwnerReference, gvk schema.GroupVersionKind, get func(name string) (T, error)) (T, bool) {
	var none T
	if ref.Kind != gvk.Kind || ref.APIVersion != gvk.GroupVersion().String() {
		return none, false
	}
	owner, err := get(ref.Name)
	if err != nil || owner.GetUID() != ref.UID {
		return none, false
	}
	return owner, true
}

// SelectingControllers returns the controllers among candidates whose
// selector matches an orphan's labels: any of them may adopt it. An empty
// or invalid selector selects nothing, as upstream.
func SelectingControllers[T any](orphanLabels map[string]string, candidates []T, selector func(T) *metav1.LabelSelector) []T {
	if len(orphanLabels) == 0 {
		return nil
	}
	var out []T
	for _, c := range candidates {
		sel, err := metav1.LabelSelectorAsSelector(selector(c))
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(orphanLabels)) {
			continue
		}
		out = append(out, c)
	}
	return out
}
