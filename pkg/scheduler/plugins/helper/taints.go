// Package helper holds the taint and toleration rules the node plugins
// share.
package helper

import v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"

// TaintNodeUnschedulable is the taint a pod tolerates to be placed on a node
// with spec.unschedulable set (as DaemonSet pods do upstream).
const TaintNodeUnschedulable = "node.kubernetes.io/unschedulable"

// ToleratesTaint reports whether the toleration matches the taint: same
// effect (or none given), same key (or none given, with Exists), and the
// same value with Equal (Exists matches any value).
func ToleratesTaint(t *v1alpha1.Toleration, taint *v1alpha1.Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	switch t.Operator {
	case v1alpha1.TolerationOpExists:
		return true
	case "", v1alpha1.TolerationOpEqual:
		return t.Value == taint.Value
	default:
		return false
	}
}

// TolerationsTolerateTaint reports whether any toleration matches the taint.
func TolerationsTolerateTaint(tolerations []v1alpha1.Toleration, taint *v1alpha1.Taint) bool {
	for i := range tolerations {
		if ToleratesTaint(&tolerations[i], taint) {
			return true
		}
	}
	return false
}

// FindUntoleratedTaint returns the first taint that include selects and no
// toleration matches.
func FindUntoleratedTaint(taints []v1alpha1.Taint, tolerations []v1alpha1.Toleration, include func(*v1alpha1.Taint) bool) (*v1alpha1.Taint, bool) {
	for i := range taints {
		taint := &taints[i]
		if include != nil && !include(taint) {
			continue
		}
		if !TolerationsTolerateTaint(tolerations, taint) {
			return taint, true
		}
	}
	return nil, false
}
