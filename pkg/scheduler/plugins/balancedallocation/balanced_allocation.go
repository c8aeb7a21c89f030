// Package balancedallocation prefers nodes whose cpu and memory would be
// used in similar proportions after placing the pod, so neither runs out
// while the other sits idle.
package balancedallocation

import (
	"context"
	"math"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "NodeResourcesBalancedAllocation"

// BalancedAllocation is the plugin.
type BalancedAllocation struct{}

var _ framework.ScorePlugin = BalancedAllocation{}

// New returns the plugin.
func New() *BalancedAllocation { return &BalancedAllocation{} }

// Name returns the plugin's name.
func (BalancedAllocation) Name() string { return Name }

// Score is (1 - standard deviation of the cpu and memory fractions in use
// after placing the pod) × 100. The fractions use actual requests, and a
// pod that requests nothing scores 0 everywhere: it changes no balance.
func (BalancedAllocation) Score(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	req := framework.PodRequestsFromState(state, pod).Requested
	if req.IsZero() {
		return 0, nil
	}
	used := nodeInfo.Requested
	used.Add(req)
	var fractions []float64
	if a := nodeInfo.Allocatable.MilliCPU; a > 0 {
		fractions = append(fractions, math.Min(float64(used.MilliCPU)/float64(a), 1))
	}
	if a := nodeInfo.Allocatable.Memory; a > 0 {
		fractions = append(fractions, math.Min(float64(used.Memory)/float64(a), 1))
	}
	var std float64
	if len(fractions) == 2 {
		// The standard deviation of two values is half their distance.
		std = math.Abs(fractions[0]-fractions[1]) / 2
	}
	return int64((1 - std) * float64(framework.MaxNodeScore)), nil
}

// ScoreExtensions is nil: scores are already 0 to 100.
func (BalancedAllocation) ScoreExtensions() framework.ScoreExtensions { return nil }
