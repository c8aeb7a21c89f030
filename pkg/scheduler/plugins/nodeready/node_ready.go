// Package nodeready keeps pods off nodes whose Ready condition is not True:
// a node whose kubelet has not reported, or reports a problem, cannot run
// them.
package nodeready

import (
	"context"

	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "NodeReady"

// ErrReason is the reason given for a node that is not ready.
const ErrReason = "node(s) were not ready"

// NodeReady is the plugin.
type NodeReady struct{}

var _ framework.FilterPlugin = NodeReady{}

// New returns the plugin.
func New() *NodeReady { return &NodeReady{} }

// Name returns the plugin's name.
func (NodeReady) Name() string { return Name }

// Filter passes a node only when its Ready condition is True.
func (NodeReady) Filter(_ context.Context, _ *framework.CycleState, _ *v1alpha1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if framework.NodeIsReady(nodeInfo.Node()) {
		return nil
	}
	return rejected
}

// EventsToRegister: a node added, or one whose conditions changed, may now
// be Ready.
func (NodeReady) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeCondition}, QueueingHintFn: func(_ klog.Logger, _ *v1alpha1.Pod, _, newObj any) (framework.QueueingHint, error) {
			if n, ok := newObj.(*v1alpha1.Node); ok && !framework.NodeIsReady(n) {
				return framework.QueueSkip, nil
			}
			return framework.Queue, nil
		}},
	}, nil
}

// rejected is Filter's status for every node it rejects.
var rejected = framework.RejectionStatus(Name, framework.UnschedulableAndUnresolvable, ErrReason)
