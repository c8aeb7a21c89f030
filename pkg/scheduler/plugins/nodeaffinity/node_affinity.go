// Package nodeaffinity (upstream's NodeAffinity plugin) places a pod only on nodes whose labels match its
// spec.nodeSelector and its required node affinity, and prefers nodes that
// match its preferred node affinity terms.
package nodeaffinity

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "NodeAffinity"

// ErrReason is the reason given for a node whose labels do not match, as
// kube-scheduler words it.
const ErrReason = "node(s) didn't match Pod's node affinity/selector"

const (
	requiredKey  framework.StateKey = Name + "/required"
	preferredKey framework.StateKey = Name + "/preferred"
)

// NodeAffinity is the plugin.
type NodeAffinity struct{}

var (
	_ framework.PreFilterPlugin = NodeAffinity{}
	_ framework.FilterPlugin    = NodeAffinity{}
	_ framework.ScorePlugin     = NodeAffinity{}
)

// New returns the plugin.
func New() *NodeAffinity { return &NodeAffinity{} }

// Name returns the plugin's name.
func (NodeAffinity) Name() string { return Name }

// RequiredNodeAffinity is what a node's labels must satisfy: the node selector, and at
// least one of the required affinity terms when there are any.
type RequiredNodeAffinity struct {
	selector labels.Selector // nil when the pod has no nodeSelector
	terms    []labels.Selector
	hasTerms bool
}

func (r *RequiredNodeAffinity) matches(l labels.Set) bool {
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
func (NodeAffinity) PreFilter(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod) (*framework.PreFilterResult, *framework.Status) {
	r := GetRequiredNodeAffinity(pod)
	if r.selector == nil && !r.hasTerms {
		return nil, framework.NewStatus(framework.Skip)
	}
	state.Write(requiredKey, r)
	return nil, nil
}

// PreFilterExtensions returns nil: other pods do not matter here.
func (NodeAffinity) PreFilterExtensions() framework.PreFilterExtensions { return nil }

// EventsToRegister: a pod rejected here can fit only on a new node or one
// whose labels changed, and only if that node now matches.
func (NodeAffinity) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeLabel}, QueueingHintFn: isSchedulableAfterNodeChange},
	}, nil
}

func isSchedulableAfterNodeChange(logger klog.Logger, pod *v1alpha1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
	newNode, ok := newObj.(*v1alpha1.Node)
	if !ok {
		return framework.Queue, fmt.Errorf("expected a Node, got %T", newObj)
	}
	r := GetRequiredNodeAffinity(pod)
	if !r.Match(newNode) {
		logger.V(5).Info("Node does not match the pod's node affinity", "pod", klog.KObj(pod), "node", klog.KObj(newNode))
		return framework.QueueSkip, nil
	}
	if oldNode, ok := oldObj.(*v1alpha1.Node); ok && r.Match(oldNode) {
		// It matched before the change too: the change is not why.
		return framework.QueueSkip, nil
	}
	return framework.Queue, nil
}

// Match reports whether the node's labels satisfy the pod's nodeSelector
// and required node affinity.
func (r *RequiredNodeAffinity) Match(node *v1alpha1.Node) bool {
	return r.matches(node.Labels)
}

// GetRequiredNodeAffinity parses the pod's nodeSelector and required node
// affinity terms; PodTopologySpread uses it for nodeAffinityPolicy Honor.
func GetRequiredNodeAffinity(pod *v1alpha1.Pod) *RequiredNodeAffinity {
	r := &RequiredNodeAffinity{}
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
	return r
}

// Filter passes a node whose labels satisfy the pod's selector and terms.
func (NodeAffinity) Filter(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	v, ok := state.Read(requiredKey)
	if !ok {
		return framework.AsStatus(fmt.Errorf("no parsed node selector for pod %s/%s: PreFilter did not run", pod.Namespace, pod.Name))
	}
	if v.(*RequiredNodeAffinity).matches(nodeInfo.Node().Labels) {
		return nil
	}
	return rejected
}

// rejected is Filter's status for every node it rejects.
var rejected = framework.RejectionStatus(Name, framework.UnschedulableAndUnresolvable, ErrReason)

type weightedTerm struct {
	selector labels.Selector
	weight   int64
}

// Score adds the weights of the preferred terms the node matches.
func (NodeAffinity) Score(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
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
func (p NodeAffinity) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore gives the best-matching node 100.
func (NodeAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *v1alpha1.Pod, scores framework.NodeScoreList) *framework.Status {
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
