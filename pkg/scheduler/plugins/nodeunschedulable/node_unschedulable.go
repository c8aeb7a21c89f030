// Package nodeunschedulable keeps pods off nodes marked spec.unschedulable
// (cordoned), unless the pod tolerates the unschedulable taint.
package nodeunschedulable

import (
	"context"

	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/plugins/helper"
)

// Name is the plugin's name.
const Name = "NodeUnschedulable"

// ErrReason is the reason given for a cordoned node.
const ErrReason = "node(s) were unschedulable"

// NodeUnschedulable is the plugin.
type NodeUnschedulable struct{}

var _ framework.FilterPlugin = NodeUnschedulable{}

// New returns the plugin.
func New() *NodeUnschedulable { return &NodeUnschedulable{} }

// Name returns the plugin's name.
func (NodeUnschedulable) Name() string { return Name }

var unschedulableTaint = v1alpha1.Taint{Key: helper.TaintNodeUnschedulable, Effect: v1alpha1.TaintEffectNoSchedule}

// Filter rejects an unschedulable node unless the pod tolerates
// node.kubernetes.io/unschedulable:NoSchedule.
func (NodeUnschedulable) Filter(_ context.Context, _ *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if !nodeInfo.Node().Spec.Unschedulable {
		return nil
	}
	if helper.TolerationsTolerateTaint(pod.Spec.Tolerations, &unschedulableTaint) {
		return nil
	}
	return rejected
}

// EventsToRegister: a node added, or uncordoned.
func (NodeUnschedulable) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeSpecUnschedulable | framework.UpdateNodeTaint}, QueueingHintFn: func(_ klog.Logger, _ *v1alpha1.Pod, _, newObj any) (framework.QueueingHint, error) {
			if n, ok := newObj.(*v1alpha1.Node); ok && n.Spec.Unschedulable {
				return framework.QueueSkip, nil
			}
			return framework.Queue, nil
		}},
	}, nil
}

// rejected is Filter's status for every node it rejects.
var rejected = framework.RejectionStatus(Name, framework.UnschedulableAndUnresolvable, ErrReason)
