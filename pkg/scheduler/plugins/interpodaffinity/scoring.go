package interpodaffinity

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/labels"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

const preScoreStateKey framework.StateKey = "PreScore" + Name

// scoreMap sums term weights per topology key and value.
type scoreMap map[string]map[string]int64

func (m scoreMap) add(node *v1alpha1.Node, tk string, w int64) {
	tv, ok := node.Labels[tk]
	if !ok {
		return
	}
	if m[tk] == nil {
		m[tk] = map[string]int64{}
	}
	m[tk][tv] += w
}

type preScoreState struct {
	topologyScore scoreMap
}

// PreScore sums, per domain, the weights of the preferred terms (the
// incoming pod's towards existing pods, and existing pods' towards it, with
// their required affinity worth HardPodAffinityWeight). Skip when neither
// side has any.
func (pl *InterPodAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *v1alpha1.Pod, _ []*framework.NodeInfo) *framework.Status {
	lister := pl.handle.SnapshotSharedLister()
	podInfo := framework.NewPodInfo(pod)
	hasConstraints := len(podInfo.PreferredAffinityTerms) > 0 || len(podInfo.PreferredAntiAffinityTerms) > 0
	nodes := lister.HavePodsWithAffinityList()
	if hasConstraints {
		nodes = lister.List()
	}
	if len(nodes) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	preferred := resolveWeighted(pl, podInfo.PreferredAffinityTerms)
	preferredAnti := resolveWeighted(pl, podInfo.PreferredAntiAffinityTerms)
	nsLabels := pl.namespaceLabels(pod.Namespace)
	scores := scoreMap{}
	for _, n := range nodes {
		pods := n.PodsWithAffinity
		if hasConstraints {
			pods = n.Pods
		}
		for _, existing := range pods {
			processExistingPod(scores, preferred, preferredAnti, existing, pod, nsLabels, n.Node())
		}
	}
	if len(scores) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(preScoreStateKey, &preScoreState{topologyScore: scores})
	return nil
}

func processExistingPod(m scoreMap, preferred, preferredAnti []framework.WeightedAffinityTerm, existing *framework.PodInfo, incoming *v1alpha1.Pod, nsLabels labels.Set, node *v1alpha1.Node) {
	for _, t := range preferred {
		if t.Matches(existing.Pod, nil) {
			m.add(node, t.TopologyKey, int64(t.Weight))
		}
	}
	for _, t := range preferredAnti {
		if t.Matches(existing.Pod, nil) {
			m.add(node, t.TopologyKey, -int64(t.Weight))
		}
	}
	for _, t := range existing.RequiredAffinityTerms {
		if t.Matches(incoming, nsLabels) {
			m.add(node, t.TopologyKey, HardPodAffinityWeight)
		}
	}
	for _, t := range existing.PreferredAffinityTerms {
		if t.Matches(incoming, nsLabels) {
			m.add(node, t.TopologyKey, int64(t.Weight))
		}
	}
	for _, t := range existing.PreferredAntiAffinityTerms {
		if t.Matches(incoming, nsLabels) {
			m.add(node, t.TopologyKey, -int64(t.Weight))
		}
	}
}

// Score adds up the node's domains' sums.
func (pl *InterPodAffinity) Score(_ context.Context, state *framework.CycleState, _ *v1alpha1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	v, ok := state.Read(preScoreStateKey)
	if !ok {
		return 0, framework.AsStatus(fmt.Errorf("reading %q from cycle state: not found", preScoreStateKey))
	}
	s := v.(*preScoreState)
	var score int64
	for tk, values := range s.topologyScore {
		if tv, ok := nodeInfo.Node().Labels[tk]; ok {
			score += values[tv]
		}
	}
	return score, nil
}

// ScoreExtensions normalises the sums (which may be negative).
func (pl *InterPodAffinity) ScoreExtensions() framework.ScoreExtensions { return pl }

// NormalizeScore maps [min, max] onto [0, 100].
func (pl *InterPodAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *v1alpha1.Pod, scores framework.NodeScoreList) *framework.Status {
	if len(scores) == 0 {
		return nil
	}
	lo, hi := scores[0].Score, scores[0].Score
	for _, s := range scores {
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	for i := range scores {
		if hi > lo {
			scores[i].Score = framework.MaxNodeScore * (scores[i].Score - lo) / (hi - lo)
		} else {
			scores[i].Score = 0
		}
	}
	return nil
}
