// Package tainttoleration keeps pods off nodes with NoSchedule or NoExecute
// taints they do not tolerate, and ranks nodes lower the more
// PreferNoSchedule taints the pod does not tolerate.
package tainttoleration

import (
	"context"

	"fmt"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/plugins/helper"
)

// Name is the plugin's name.
const Name = "TaintToleration"

// TaintToleration is the plugin.
type TaintToleration struct{}

var (
	_ framework.FilterPlugin = TaintToleration{}
	_ framework.ScorePlugin  = TaintToleration{}
)

// New returns the plugin.
func New() *TaintToleration { return &TaintToleration{} }

// Name returns the plugin's name.
func (TaintToleration) Name() string { return Name }

// ErrReason is the reason for a node with an untolerated taint, naming the
// taint as kube-scheduler does: node(s) had untolerated taint {key: value}.
func ErrReason(taint *v1alpha1.Taint) string {
	return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", taint.Key, taint.Value)
}

func isHard(t *v1alpha1.Taint) bool {
	return t.Effect == v1alpha1.TaintEffectNoSchedule || t.Effect == v1alpha1.TaintEffectNoExecute
}

// Filter rejects the node at its first NoSchedule or NoExecute taint the pod
// does not tolerate.
func (TaintToleration) Filter(_ context.Context, _ *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	taint, found := helper.FindUntoleratedTaint(nodeInfo.Node().Spec.Taints, pod.Spec.Tolerations, isHard)
	if !found {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason(taint))
}

const preferKey framework.StateKey = Name + "/preferNoScheduleTolerations"

// Score counts the node's PreferNoSchedule taints the pod does not tolerate;
// NormalizeScore turns the count around so fewer is better.
func (TaintToleration) Score(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	tolerations := state.ReadOrCompute(preferKey, func() framework.StateData { return softTolerations(pod) }).([]v1alpha1.Toleration)
	var count int64
	for i := range nodeInfo.Node().Spec.Taints {
		taint := &nodeInfo.Node().Spec.Taints[i]
		if taint.Effect == v1alpha1.TaintEffectPreferNoSchedule && !helper.TolerationsTolerateTaint(tolerations, taint) {
			count++
		}
	}
	return count, nil
}

// softTolerations are the tolerations that can match a PreferNoSchedule
// taint: those for that effect or for every effect.
func softTolerations(pod *v1alpha1.Pod) []v1alpha1.Toleration {
	var out []v1alpha1.Toleration
	for _, t := range pod.Spec.Tolerations {
		if t.Effect == "" || t.Effect == v1alpha1.TaintEffectPreferNoSchedule {
			out = append(out, t)
		}
	}
	return out
}

// ScoreExtensions normalises the counts.
func (p TaintToleration) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore gives nodes with no untolerated soft taint 100 and the node
// with the most 0.
func (TaintToleration) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *v1alpha1.Pod, scores framework.NodeScoreList) *framework.Status {
	return framework.DefaultNormalizeScore(framework.MaxNodeScore, true, scores)
}

// EventsToRegister: a node added or whose taints changed may now be
// tolerated.
func (TaintToleration) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeTaint}, QueueingHintFn: func(_ klog.Logger, pod *v1alpha1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
			n, ok := newObj.(*v1alpha1.Node)
			if !ok {
				return framework.Queue, nil
			}
			if _, untolerated := helper.FindUntoleratedTaint(n.Spec.Taints, pod.Spec.Tolerations, isHard); untolerated {
				return framework.QueueSkip, nil
			}
			if old, ok := oldObj.(*v1alpha1.Node); ok {
				if _, untolerated := helper.FindUntoleratedTaint(old.Spec.Taints, pod.Spec.Tolerations, isHard); !untolerated {
					return framework.QueueSkip, nil
				}
			}
			return framework.Queue, nil
		}},
	}, nil
}
