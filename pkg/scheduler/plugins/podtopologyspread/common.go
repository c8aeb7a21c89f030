// Package podtopologyspread is upstream's PodTopologySpread plugin: a
// pod's topologySpreadConstraints keep the number of matching pods per
// topology domain within maxSkew of the least loaded domain. DoNotSchedule
// constraints filter, ScheduleAnyway constraints score.
//
// A pod with no constraints of its own gets the cluster defaults, as
// upstream's system defaults: hostname (maxSkew 3) and zone (maxSkew 5),
// ScheduleAnyway. Upstream counts, for those, the pods matching the
// selectors of the Services and ReplicaSets the pod belongs to; skiff
// counts the pods of the same controller (the ReplicaSet that owns it),
// which is the set a ReplicaSet's selector picks out. A pod without a
// controller gets no default constraints.
package podtopologyspread

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/plugins/helper"
	"skiff.dev/skiff/pkg/scheduler/plugins/nodeaffinity"
)

// Name is the plugin's name.
const Name = "PodTopologySpread"

// Reasons, as upstream words them.
const (
	ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints"
	ErrReasonNodeLabelNotMatch   = ErrReasonConstraintsNotMatch + " (missing required label)"
)

// Well-known topology labels.
const (
	LabelHostname = "kubernetes.io/hostname"
	LabelZone     = "topology.kubernetes.io/zone"
)

// systemDefaultConstraints are upstream's defaults for pods without any.
var systemDefaultConstraints = []v1alpha1.TopologySpreadConstraint{
	{TopologyKey: LabelHostname, MaxSkew: 3, WhenUnsatisfiable: v1alpha1.ScheduleAnyway},
	{TopologyKey: LabelZone, MaxSkew: 5, WhenUnsatisfiable: v1alpha1.ScheduleAnyway},
}

// topologySpreadConstraint is a parsed constraint.
type topologySpreadConstraint struct {
	MaxSkew     int32
	TopologyKey string
	Selector    labels.Selector
	// OwnerUID, when set, replaces Selector: the default constraints count
	// the pods of the same controller.
	OwnerUID           types.UID
	MinDomains         int32
	NodeAffinityPolicy v1alpha1.NodeInclusionPolicy
	NodeTaintsPolicy   v1alpha1.NodeInclusionPolicy
}

// matches reports whether p counts for the constraint.
func (c *topologySpreadConstraint) matches(p *v1alpha1.Pod) bool {
	if c.OwnerUID != "" {
		ref := metav1.GetControllerOf(p)
		return ref != nil && ref.UID == c.OwnerUID
	}
	return c.Selector.Matches(labels.Set(p.Labels))
}

// matchNodeInclusionPolicies reports whether the node counts at all:
// nodeAffinityPolicy Honor (the default) counts only nodes the pod's node
// affinity accepts, nodeTaintsPolicy Honor only nodes whose hard taints
// the pod tolerates.
func (c *topologySpreadConstraint) matchNodeInclusionPolicies(pod *v1alpha1.Pod, node *v1alpha1.Node, required *nodeaffinity.RequiredNodeAffinity) bool {
	if c.NodeAffinityPolicy == v1alpha1.NodeInclusionPolicyHonor && !required.Match(node) {
		return false
	}
	if c.NodeTaintsPolicy == v1alpha1.NodeInclusionPolicyHonor {
		if _, untolerated := helper.FindUntoleratedTaint(node.Spec.Taints, pod.Spec.Tolerations, func(t *v1alpha1.Taint) bool {
			return t.Effect == v1alpha1.TaintEffectNoSchedule || t.Effect == v1alpha1.TaintEffectNoExecute
		}); untolerated {
			return false
		}
	}
	return true
}

// filterConstraints parses the pod's constraints with the given action.
func filterConstraints(pod *v1alpha1.Pod, action v1alpha1.UnsatisfiableConstraintAction) ([]topologySpreadConstraint, error) {
	var out []topologySpreadConstraint
	for _, c := range pod.Spec.TopologySpreadConstraints {
		if c.WhenUnsatisfiable != action {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil {
			return nil, fmt.Errorf("labelSelector of topology spread constraint on %q: %w", c.TopologyKey, err)
		}
		if c.LabelSelector != nil {
			for _, k := range c.MatchLabelKeys {
				if v, ok := pod.Labels[k]; ok {
					if r, err := labels.NewRequirement(k, selection.In, []string{v}); err == nil {
						sel = sel.Add(*r)
					}
				}
			}
		}
		tc := topologySpreadConstraint{
			MaxSkew:            c.MaxSkew,
			TopologyKey:        c.TopologyKey,
			Selector:           sel,
			MinDomains:         1,
			NodeAffinityPolicy: v1alpha1.NodeInclusionPolicyHonor,
			NodeTaintsPolicy:   v1alpha1.NodeInclusionPolicyIgnore,
		}
		if c.MinDomains != nil {
			tc.MinDomains = *c.MinDomains
		}
		if c.NodeAffinityPolicy != nil {
			tc.NodeAffinityPolicy = *c.NodeAffinityPolicy
		}
		if c.NodeTaintsPolicy != nil {
			tc.NodeTaintsPolicy = *c.NodeTaintsPolicy
		}
		out = append(out, tc)
	}
	return out, nil
}

// defaultConstraints are the system defaults for a pod with a controller.
func defaultConstraints(pod *v1alpha1.Pod) []topologySpreadConstraint {
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return nil
	}
	out := make([]topologySpreadConstraint, 0, len(systemDefaultConstraints))
	for _, c := range systemDefaultConstraints {
		out = append(out, topologySpreadConstraint{
			MaxSkew:            c.MaxSkew,
			TopologyKey:        c.TopologyKey,
			OwnerUID:           ref.UID,
			MinDomains:         1,
			NodeAffinityPolicy: v1alpha1.NodeInclusionPolicyHonor,
			NodeTaintsPolicy:   v1alpha1.NodeInclusionPolicyIgnore,
		})
	}
	return out
}

// nodeLabelsMatchSpreadConstraints: the node has every topology key.
func nodeLabelsMatchSpreadConstraints(nodeLabels map[string]string, constraints []topologySpreadConstraint) bool {
	for _, c := range constraints {
		if _, ok := nodeLabels[c.TopologyKey]; !ok {
			return false
		}
	}
	return true
}

// countPodsMatch counts the node's pods in ns that the constraint counts,
// leaving out pods being deleted, as upstream.
func countPodsMatch(pods []*framework.PodInfo, c *topologySpreadConstraint, ns string) int {
	n := 0
	for _, p := range pods {
		if p.Pod.DeletionTimestamp != nil || p.Pod.Namespace != ns {
			continue
		}
		if c.matches(p.Pod) {
			n++
		}
	}
	return n
}
