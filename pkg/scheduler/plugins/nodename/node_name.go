// Package nodename rejects every node but the one a pod names in
// spec.nodeName.
package nodename

import (
	"context"

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
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
}
