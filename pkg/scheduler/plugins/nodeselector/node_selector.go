// Package nodeselector places a pod only on nodes whose labels match its
// spec.nodeSelector and its required node affinity, and prefers nodes that
// match its preferred node affinity terms.
package nodeselector

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "NodeSelector"

// ErrReason is the reason given for a node whose labels do not match, as
// kube-scheduler words it.
const ErrReason = "node(s) didn't match Pod's node affinity/selector"

const (
	requiredKey  framework.StateKey = Name + "/required"
	preferredKey framework.StateKey = Name + "/preferred"
)

// NodeSelector is the plugin.
type NodeSelector struct{}

var (
	_ framework.PreFilterPlugin = NodeSelector{}
	_ framework.FilterPlugin    = NodeSelector{}
	_ framework.ScorePlugin     = NodeSelector{}
)

// New returns the plugin.
func New() *NodeSelector { return &NodeSelector{} }

// Name returns the plugin's name.
func (NodeSelector) Name() string { return Name }

// required is what a node's labels must satisfy: the node selector, and at
// least one of the required affinity terms when there are any.
type required struct {
	selector labels.Selector // nil when the pod has no nodeSelector
	terms    []labels.Selector
	hasTerms bool
}

func (r *required) matches(l labels.Set) bool {
	if r.selector != nil && !r.selector.Matches(l) {
		return false
	}
	if !r.hasTerms {
		return true
	}
	for _, t := range r.terms {
		if t != nil && t.Matches(l) {
			return true
		}
	}
	return false
}

// PreFilter parses the selector and terms once; a pod with neither skips
// the filter.
func (NodeSelector) PreFilter(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod) *framework.Status {
	r := &required{}
	if len(pod.Spec.NodeSelector) > 0 {
		r.selector = labels.SelectorFromSet(pod.Spec.NodeSelector)
	}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		r.hasTerms = true
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			// A term that does not parse matches no node, as upstream.
			sel, _ := termSelector(term)
			r.terms = append(r.terms, sel)
		}
	}
	if r.selector == nil && !r.hasTerms {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(requiredKey, r)
	return nil
}

// Filter passes a node whose labels satisfy the pod's selector and terms.
func (NodeSelector) Filter(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	v, ok := state.Read(requiredKey)
	if !ok {
		return framework.AsStatus(fmt.Errorf("no parsed node selector for pod %s/%s: PreFilter did not run", pod.Namespace, pod.Name))
	}
	if v.(*required).matches(nodeInfo.Node().Labels) {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
}

type weightedTerm struct {
	selector labels.Selector
	weight   int64
}

// Score adds the weights of the preferred terms the node matches.
func (NodeSelector) Score(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	terms := state.ReadOrCompute(preferredKey, func() framework.StateData { return preferredTerms(pod) }).([]weightedTerm)
	var score int64
	node := labels.Set(nodeInfo.Node().Labels)
	for _, t := range terms {
		if t.selector.Matches(node) {
			score += t.weight
		}
	}
	return score, nil
}

// ScoreExtensions scales the summed weights to [0, 100].
func (p NodeSelector) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore gives the best-matching node 100.
func (NodeSelector) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *v1alpha1.Pod, scores framework.NodeScoreList) *framework.Status {
	return framework.DefaultNormalizeScore(framework.MaxNodeScore, false, scores)
}

func preferredTerms(pod *v1alpha1.Pod) []weightedTerm {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil {
		return nil
	}
	var out []weightedTerm
	for _, p := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		if p.Weight == 0 {
			continue
		}
		if sel, err := termSelector(p.Preference); err == nil {
			out = append(out, weightedTerm{selector: sel, weight: int64(p.Weight)})
		}
	}
	return out
}

var operators = map[v1alpha1.NodeSelectorOperator]selection.Operator{
	v1alpha1.NodeSelectorOpIn:           selection.In,
	v1alpha1.NodeSelectorOpNotIn:        selection.NotIn,
	v1alpha1.NodeSelectorOpExists:       selection.Exists,
	v1alpha1.NodeSelectorOpDoesNotExist: selection.DoesNotExist,
	v1alpha1.NodeSelectorOpGt:           selection.GreaterThan,
	v1alpha1.NodeSelectorOpLt:           selection.LessThan,
}

// termSelector turns a term (requirements ANDed) into a label selector. An
// empty term is an error: it would otherwise match every node.
func termSelector(term v1alpha1.NodeSelectorTerm) (labels.Selector, error) {
	if len(term.MatchExpressions) == 0 {
		return nil, fmt.Errorf("empty node selector term")
	}
	sel := labels.NewSelector()
	for _, req := range term.MatchExpressions {
		op, ok := operators[req.Operator]
		if !ok {
			return nil, fmt.Errorf("unknown node selector operator %q", req.Operator)
		}
		r, err := labels.NewRequirement(req.Key, op, req.Values)
		if err != nil {
			return nil, fmt.Errorf("node selector requirement on %q: %w", req.Key, err)
		}
		sel = sel.Add(*r)
	}
	return sel, nil
}
