// Package nodename rejects every node but the one a pod names in
// spec.nodeName.
package nodename

import (
	"context"

	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "NodeName"

// ErrReason is the reason given for a node the pod did not ask for.
const ErrReason = "node(s) didn't match the requested node name"

// NodeName is the plugin.
type NodeName struct{}

var _ framework.FilterPlugin = NodeName{}

// New returns the plugin.
func New() *NodeName { return &NodeName{} }

// Name returns the plugin's name.
func (NodeName) Name() string { return Name }

// Filter passes any node when the pod names none, and only the named node
// otherwise.
func (NodeName) Filter(_ context.Context, _ *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if pod.Spec.NodeName == "" || pod.Spec.NodeName == nodeInfo.Node().Name {
		return nil
	}
	return rejected
}

// EventsToRegister: only the named node appearing helps.
func (NodeName) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add}, QueueingHintFn: func(_ klog.Logger, pod *v1alpha1.Pod, _, newObj any) (framework.QueueingHint, error) {
			if n, ok := newObj.(*v1alpha1.Node); ok && pod.Spec.NodeName != "" && n.Name != pod.Spec.NodeName {
				return framework.QueueSkip, nil
			}
			return framework.Queue, nil
		}},
	}, nil
}

// rejected is Filter's status for every node it rejects.
var rejected = framework.RejectionStatus(Name, framework.UnschedulableAndUnresolvable, ErrReason)
