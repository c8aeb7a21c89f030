package podtopologyspread

import (
	"context"
	"fmt"
	"maps"
	"math"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/plugins/nodeaffinity"
)

const preFilterStateKey framework.StateKey = "PreFilter" + Name

// preFilterState holds, per DoNotSchedule constraint, the matching pods in
// each domain and the least number found in any.
type preFilterState struct {
	constraints []topologySpreadConstraint
	// tpValueToMatchNum[i][value]: matching pods in the domain value of
	// constraint i (0 for an eligible domain without any).
	tpValueToMatchNum []map[string]int
	// minMatchNum[i]: the least of tpValueToMatchNum[i].
	minMatchNum      []int
	requiredAffinity *nodeaffinity.RequiredNodeAffinity
}

// Clone copies the counts, for preemption and nominated pods.
func (s *preFilterState) Clone() framework.StateData {
	if s == nil {
		return nil
	}
	c := &preFilterState{constraints: s.constraints, requiredAffinity: s.requiredAffinity,
		minMatchNum: append([]int(nil), s.minMatchNum...)}
	for _, m := range s.tpValueToMatchNum {
		c.tpValueToMatchNum = append(c.tpValueToMatchNum, maps.Clone(m))
	}
	return c
}

func (s *preFilterState) recomputeMin(i int) {
	lo := math.MaxInt
	for _, n := range s.tpValueToMatchNum[i] {
		lo = min(lo, n)
	}
	s.minMatchNum[i] = lo
}

// minMatch is the global minimum, 0 while fewer than minDomains domains
// exist.
func (s *preFilterState) minMatch(i int) int {
	if int32(len(s.tpValueToMatchNum[i])) < s.constraints[i].MinDomains {
		return 0
	}
	return s.minMatchNum[i]
}

func (s *preFilterState) updateWithPod(updated, pod *v1alpha1.Pod, node *v1alpha1.Node, delta int) {
	if s == nil || updated.Namespace != pod.Namespace || node == nil {
		return
	}
	if !nodeLabelsMatchSpreadConstraints(node.Labels, s.constraints) {
		return
	}
	for i := range s.constraints {
		c := &s.constraints[i]
		if !c.matchNodeInclusionPolicies(pod, node, s.requiredAffinity) || !c.matches(updated) {
			continue
		}
		s.tpValueToMatchNum[i][node.Labels[c.TopologyKey]] += delta
		s.recomputeMin(i)
	}
}

// PreFilter counts the matching pods per domain for each DoNotSchedule
// constraint over every node that has all the constraints' keys and passes
// the inclusion policies. A pod without such constraints skips.
func (pl *PodTopologySpread) PreFilter(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod) (*framework.PreFilterResult, *framework.Status) {
	constraints, err := filterConstraints(pod, v1alpha1.DoNotSchedule)
	if err != nil {
		return nil, framework.AsStatus(err)
	}
	if len(constraints) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	s := &preFilterState{
		constraints:       constraints,
		tpValueToMatchNum: make([]map[string]int, len(constraints)),
		minMatchNum:       make([]int, len(constraints)),
		requiredAffinity:  nodeaffinity.GetRequiredNodeAffinity(pod),
	}
	for i := range constraints {
		s.tpValueToMatchNum[i] = map[string]int{}
	}
	for _, n := range pl.handle.SnapshotSharedLister().List() {
		node := n.Node()
		if !nodeLabelsMatchSpreadConstraints(node.Labels, constraints) {
			continue
		}
		for i := range constraints {
			c := &constraints[i]
			if !c.matchNodeInclusionPolicies(pod, node, s.requiredAffinity) {
				continue
			}
			s.tpValueToMatchNum[i][node.Labels[c.TopologyKey]] += countPodsMatch(n.Pods, c, pod.Namespace)
		}
	}
	for i := range constraints {
		s.recomputeMin(i)
	}
	state.Write(preFilterStateKey, s)
	return nil, nil
}

// PreFilterExtensions updates the counts for preemption.
func (pl *PodTopologySpread) PreFilterExtensions() framework.PreFilterExtensions { return pl }

// AddPod counts a pod as if it were on nodeInfo.
func (pl *PodTopologySpread) AddPod(_ context.Context, state *framework.CycleState, podToSchedule *v1alpha1.Pod, podInfoToAdd *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	s, err := getPreFilterState(state)
	if err != nil {
		return framework.AsStatus(err)
	}
	s.updateWithPod(podInfoToAdd.Pod, podToSchedule, nodeInfo.Node(), 1)
	return nil
}

// RemovePod uncounts a pod leaving nodeInfo.
func (pl *PodTopologySpread) RemovePod(_ context.Context, state *framework.CycleState, podToSchedule *v1alpha1.Pod, podInfoToRemove *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	s, err := getPreFilterState(state)
	if err != nil {
		return framework.AsStatus(err)
	}
	s.updateWithPod(podInfoToRemove.Pod, podToSchedule, nodeInfo.Node(), -1)
	return nil
}

func getPreFilterState(state *framework.CycleState) (*preFilterState, error) {
	v, ok := state.Read(preFilterStateKey)
	if !ok {
		return nil, fmt.Errorf("reading %q from cycle state: not found", preFilterStateKey)
	}
	return v.(*preFilterState), nil
}

// Filter rejects a node where placing the pod would make its domain exceed
// the least loaded domain by more than maxSkew.
func (pl *PodTopologySpread) Filter(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	s, err := getPreFilterState(state)
	if err != nil {
		return framework.AsStatus(err)
	}
	node := nodeInfo.Node()
	for i := range s.constraints {
		c := &s.constraints[i]
		tpVal, ok := node.Labels[c.TopologyKey]
		if !ok {
			return errNodeLabelNotMatch
		}
		self := 0
		if c.matches(pod) {
			self = 1
		}
		skew := s.tpValueToMatchNum[i][tpVal] + self - s.minMatch(i)
		if skew > int(c.MaxSkew) {
			return errConstraintsNotMatch
		}
	}
	return nil
}

// Filter's statuses, one for every node it rejects for each reason.
var (
	errNodeLabelNotMatch   = framework.RejectionStatus(Name, framework.UnschedulableAndUnresolvable, ErrReasonNodeLabelNotMatch)
	errConstraintsNotMatch = framework.RejectionStatus(Name, framework.Unschedulable, ErrReasonConstraintsNotMatch)
)
