// Package noderesourcesfit rejects nodes without room for a pod: its cpu
// and memory requests must fit in what the node's allocatable leaves after
// the pods already bound or assumed there, and the node must take one more
// pod.
package noderesourcesfit

import (
	"context"
	"fmt"

	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "NodeResourcesFit"

// Reasons given for a node without room, as kube-scheduler words them.
const (
	ReasonTooManyPods        = "Too many pods"
	ReasonInsufficientCPU    = "Insufficient cpu"
	ReasonInsufficientMemory = "Insufficient memory"
)

// Fit is the plugin.
type Fit struct{}

var (
	_ framework.PreFilterPlugin = Fit{}
	_ framework.FilterPlugin    = Fit{}
)

// New returns the plugin.
func New() *Fit { return &Fit{} }

// Name returns the plugin's name.
func (Fit) Name() string { return Name }

// PreFilter adds up the pod's requests once for all nodes.
func (Fit) PreFilter(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod) (*framework.PreFilterResult, *framework.Status) {
	framework.PodRequestsFromState(state, pod)
	return nil, nil
}

// PreFilterExtensions returns nil: the Filter reads the node's sums.
func (Fit) PreFilterExtensions() framework.PreFilterExtensions { return nil }

// EventsToRegister: room appears when a pod leaves or scales down, or a
// node is added or offers more.
func (Fit) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.Pod, ActionType: framework.Delete | framework.UpdatePodScaleDown}},
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeAllocatable}, QueueingHintFn: isSchedulableAfterNodeChange},
	}, nil
}

// isSchedulableAfterNodeChange queues the pod when the node could hold it
// were it empty: a node too small for the pod does not help.
func isSchedulableAfterNodeChange(_ klog.Logger, pod *v1alpha1.Pod, _, newObj any) (framework.QueueingHint, error) {
	node, ok := newObj.(*v1alpha1.Node)
	if !ok {
		return framework.Queue, fmt.Errorf("expected a Node, got %T", newObj)
	}
	req := framework.ComputePodRequests(pod).Requested
	ni := framework.NewNodeInfo(node)
	if req.MilliCPU > ni.Allocatable.MilliCPU || req.Memory > ni.Allocatable.Memory || ni.AllowedPods < 1 {
		return framework.QueueSkip, nil
	}
	return framework.Queue, nil
}

// Filter lists every resource the node is short of, so the user sees all
// of them at once.
func (Fit) Filter(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	req := framework.PodRequestsFromState(state, pod).Requested
	var reasons []string
	if nodeInfo.PodCount+1 > nodeInfo.AllowedPods {
		reasons = append(reasons, ReasonTooManyPods)
	}
	free := nodeInfo.Allocatable
	free.Sub(nodeInfo.Requested)
	// A pod that asks for none of a resource fits even on a node that is
	// over-committed on it.
	if req.MilliCPU > 0 && req.MilliCPU > free.MilliCPU {
		reasons = append(reasons, ReasonInsufficientCPU)
	}
	if req.Memory > 0 && req.Memory > free.Memory {
		reasons = append(reasons, ReasonInsufficientMemory)
	}
	if len(reasons) > 0 {
		return framework.NewStatus(framework.Unschedulable, reasons...)
	}
	return nil
}
