package podtopologyspread

import (
	"context"
	"fmt"
	"math"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/plugins/nodeaffinity"
)

const preScoreStateKey framework.StateKey = "PreScore" + Name

type topologyPair struct{ key, value string }

type preScoreState struct {
	constraints []topologySpreadConstraint
	// ignoredNodes lack a topology key of the pod's own constraints.
	ignoredNodes map[string]struct{}
	// pairCounts are the matching pods per domain of the feasible nodes
	// (hostname domains are counted in Score, from the node itself).
	pairCounts map[topologyPair]int64
	// weights[i] = log(number of domains + 2), as upstream, so a key with
	// more domains weighs more.
	weights []float64
}

// PreScore counts, for the ScheduleAnyway constraints (or the defaults),
// the matching pods in each domain of the feasible nodes.
func (pl *PodTopologySpread) PreScore(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod, filtered []*framework.NodeInfo) *framework.Status {
	constraints, err := filterConstraints(pod, v1alpha1.ScheduleAnyway)
	if err != nil {
		return framework.AsStatus(err)
	}
	requireAll := len(pod.Spec.TopologySpreadConstraints) > 0
	if !requireAll {
		constraints = defaultConstraints(pod)
	}
	if len(constraints) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	s := &preScoreState{constraints: constraints, ignoredNodes: map[string]struct{}{}, pairCounts: map[topologyPair]int64{}}
	domains := make([]map[string]struct{}, len(constraints))
	for i := range domains {
		domains[i] = map[string]struct{}{}
	}
	for _, n := range filtered {
		node := n.Node()
		if requireAll && !nodeLabelsMatchSpreadConstraints(node.Labels, constraints) {
			s.ignoredNodes[node.Name] = struct{}{}
			continue
		}
		for i, c := range constraints {
			if v, ok := node.Labels[c.TopologyKey]; ok {
				domains[i][v] = struct{}{}
				if c.TopologyKey != LabelHostname {
					s.pairCounts[topologyPair{c.TopologyKey, v}] += 0
				}
			}
		}
	}
	s.weights = make([]float64, len(constraints))
	for i := range constraints {
		s.weights[i] = math.Log(float64(len(domains[i]) + 2))
	}
	required := nodeaffinity.GetRequiredNodeAffinity(pod)
	for _, n := range pl.handle.SnapshotSharedLister().List() {
		node := n.Node()
		if requireAll && !nodeLabelsMatchSpreadConstraints(node.Labels, constraints) {
			continue
		}
		for i := range constraints {
			c := &constraints[i]
			if c.TopologyKey == LabelHostname || !c.matchNodeInclusionPolicies(pod, node, required) {
				continue
			}
			pair := topologyPair{c.TopologyKey, node.Labels[c.TopologyKey]}
			if _, ok := s.pairCounts[pair]; !ok {
				continue // not a domain of any feasible node
			}
			s.pairCounts[pair] += int64(countPodsMatch(n.Pods, c, pod.Namespace))
		}
	}
	state.Write(preScoreStateKey, s)
	return nil
}

// Score is the weighted count of matching pods in the node's domains
// (lower is better; NormalizeScore inverts it).
func (pl *PodTopologySpread) Score(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	v, ok := state.Read(preScoreStateKey)
	if !ok {
		return 0, framework.AsStatus(fmt.Errorf("reading %q from cycle state: not found", preScoreStateKey))
	}
	s := v.(*preScoreState)
	node := nodeInfo.Node()
	if _, ignored := s.ignoredNodes[node.Name]; ignored {
		return 0, nil
	}
	var score float64
	for i := range s.constraints {
		c := &s.constraints[i]
		tpVal, ok := node.Labels[c.TopologyKey]
		if !ok {
			continue
		}
		var cnt int64
		if c.TopologyKey == LabelHostname {
			cnt = int64(countPodsMatch(nodeInfo.Pods, c, pod.Namespace))
		} else {
			cnt = s.pairCounts[topologyPair{c.TopologyKey, tpVal}]
		}
		score += float64(cnt)*s.weights[i] + float64(c.MaxSkew-1)
	}
	return int64(math.Round(score)), nil
}

// ScoreExtensions inverts and scales the scores.
func (pl *PodTopologySpread) ScoreExtensions() framework.ScoreExtensions { return pl }

// NormalizeScore gives the least loaded node 100, as upstream:
// 100 * (max + min - score) / max; ignored nodes get 0.
func (pl *PodTopologySpread) NormalizeScore(_ context.Context, state *framework.CycleState, _ *v1alpha1.Pod, scores framework.NodeScoreList) *framework.Status {
	v, ok := state.Read(preScoreStateKey)
	if !ok {
		return nil
	}
	s := v.(*preScoreState)
	var lo, hi int64 = math.MaxInt64, 0
	for _, sc := range scores {
		if _, ignored := s.ignoredNodes[sc.Name]; ignored {
			continue
		}
		lo, hi = min(lo, sc.Score), max(hi, sc.Score)
	}
	for i := range scores {
		if _, ignored := s.ignoredNodes[scores[i].Name]; ignored {
			scores[i].Score = 0
			continue
		}
		if hi == 0 {
			scores[i].Score = framework.MaxNodeScore
			continue
		}
		scores[i].Score = framework.MaxNodeScore * (hi + lo - scores[i].Score) / hi
	}
	return nil
}
