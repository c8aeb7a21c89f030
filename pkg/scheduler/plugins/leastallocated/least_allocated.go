// Package leastallocated prefers the nodes with the most cpu and memory
// left after placing the pod, which spreads pods across the cluster.
package leastallocated

import (
	"context"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "NodeResourcesLeastAllocated"

// LeastAllocated is the plugin.
type LeastAllocated struct{}

var _ framework.ScorePlugin = LeastAllocated{}

// New returns the plugin.
func New() *LeastAllocated { return &LeastAllocated{} }

// Name returns the plugin's name.
func (LeastAllocated) Name() string { return Name }

// Score is the mean over cpu and memory of the share of allocatable left
// free once the pod is placed, 0 to 100. Containers that request nothing
// count as the framework's default requests, so a node crowded with
// best-effort pods does not look empty.
func (LeastAllocated) Score(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	req := framework.PodRequestsFromState(state, pod).NonZero
	used := nodeInfo.NonZeroRequested
	used.Add(req)
	cpu := freeShare(used.MilliCPU, nodeInfo.Allocatable.MilliCPU)
	mem := freeShare(used.Memory, nodeInfo.Allocatable.Memory)
	return (cpu + mem) / 2, nil
}

// freeShare is (allocatable - requested) as a score out of 100; 0 when the
// node has none of the resource or would be over-committed.
func freeShare(requested, allocatable int64) int64 {
	if allocatable <= 0 || requested > allocatable {
		return 0
	}
	return (allocatable - requested) * framework.MaxNodeScore / allocatable
}

// ScoreExtensions is nil: scores are already 0 to 100.
func (LeastAllocated) ScoreExtensions() framework.ScoreExtensions { return nil }
