package interpodaffinity

import (
	"context"
	"fmt"
	"maps"

	"k8s.io/apimachinery/pkg/labels"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

const preFilterStateKey framework.StateKey = "PreFilter" + Name

// topologyPair is one topology domain: a node label and its value.
type topologyPair struct {
	key   string
	value string
}

// topologyToMatchedTermCount counts matching pods (or terms) per domain.
type topologyToMatchedTermCount map[topologyPair]int64

func (m topologyToMatchedTermCount) update(node *v1alpha1.Node, tk string, value int64) {
	if tv, ok := node.Labels[tk]; ok {
		pair := topologyPair{key: tk, value: tv}
		m[pair] += value
		if m[pair] == 0 {
			delete(m, pair)
		}
	}
}

// updateWithAffinityTerms counts targetPod in its node's domains when it
// matches all the terms (affinity terms are ANDed).
func (m topologyToMatchedTermCount) updateWithAffinityTerms(terms []framework.AffinityTerm, pod *v1alpha1.Pod, node *v1alpha1.Node, value int64) {
	if podMatchesAllAffinityTerms(terms, pod) {
		for _, t := range terms {
			m.update(node, t.TopologyKey, value)
		}
	}
}

// updateWithAntiAffinityTerms counts, per term, a pod the term matches.
func (m topologyToMatchedTermCount) updateWithAntiAffinityTerms(terms []framework.AffinityTerm, pod *v1alpha1.Pod, nsLabels labels.Set, node *v1alpha1.Node, value int64) {
	for _, t := range terms {
		if t.Matches(pod, nsLabels) {
			m.update(node, t.TopologyKey, value)
		}
	}
}

func podMatchesAllAffinityTerms(terms []framework.AffinityTerm, pod *v1alpha1.Pod) bool {
	if len(terms) == 0 {
		return false
	}
	for _, t := range terms {
		// Namespace selectors were resolved to names in PreFilter.
		if !t.Matches(pod, nil) {
			return false
		}
	}
	return true
}

// preFilterState is what Filter reads.
type preFilterState struct {
	// existingAntiAffinityCounts: domains holding pods whose required
	// anti-affinity matches the incoming pod.
	existingAntiAffinityCounts topologyToMatchedTermCount
	// affinityCounts: domains holding pods that match all of the incoming
	// pod's required affinity terms.
	affinityCounts topologyToMatchedTermCount
	// antiAffinityCounts: domains holding pods the incoming pod's required
	// anti-affinity terms match.
	antiAffinityCounts topologyToMatchedTermCount
	podInfo            *framework.PodInfo
	namespaceLabels    labels.Set
}

// Clone copies the counts, for preemption and nominated pods.
func (s *preFilterState) Clone() framework.StateData {
	if s == nil {
		return nil
	}
	c := *s
	c.existingAntiAffinityCounts = maps.Clone(s.existingAntiAffinityCounts)
	c.affinityCounts = maps.Clone(s.affinityCounts)
	c.antiAffinityCounts = maps.Clone(s.antiAffinityCounts)
	return &c
}

func (s *preFilterState) updateWithPod(pInfo *framework.PodInfo, node *v1alpha1.Node, multiplier int64) {
	if s == nil {
		return
	}
	s.existingAntiAffinityCounts.updateWithAntiAffinityTerms(pInfo.RequiredAntiAffinityTerms, s.podInfo.Pod, s.namespaceLabels, node, multiplier)
	s.affinityCounts.updateWithAffinityTerms(s.podInfo.RequiredAffinityTerms, pInfo.Pod, node, multiplier)
	s.antiAffinityCounts.updateWithAntiAffinityTerms(s.podInfo.RequiredAntiAffinityTerms, pInfo.Pod, nil, node, multiplier)
}

// PreFilter counts, over every node, the pods that matter to the incoming
// pod's required terms, and the existing pods' anti-affinity towards it.
// With none of either it returns Skip.
func (pl *InterPodAffinity) PreFilter(ctx context.Context, state *framework.CycleState, pod *v1alpha1.Pod) (*framework.PreFilterResult, *framework.Status) {
	lister := pl.handle.SnapshotSharedLister()
	podInfo := framework.NewPodInfo(pod)
	podInfo.RequiredAffinityTerms = pl.resolveNamespaces(podInfo.RequiredAffinityTerms)
	podInfo.RequiredAntiAffinityTerms = pl.resolveNamespaces(podInfo.RequiredAntiAffinityTerms)
	s := &preFilterState{podInfo: podInfo, namespaceLabels: pl.namespaceLabels(pod.Namespace)}

	s.existingAntiAffinityCounts = topologyToMatchedTermCount{}
	for _, n := range lister.HavePodsWithRequiredAntiAffinityList() {
		for _, existing := range n.PodsWithRequiredAntiAffinity {
			s.existingAntiAffinityCounts.updateWithAntiAffinityTerms(existing.RequiredAntiAffinityTerms, pod, s.namespaceLabels, n.Node(), 1)
		}
	}
	s.affinityCounts, s.antiAffinityCounts = topologyToMatchedTermCount{}, topologyToMatchedTermCount{}
	if len(podInfo.RequiredAffinityTerms) > 0 || len(podInfo.RequiredAntiAffinityTerms) > 0 {
		for _, n := range lister.List() {
			for _, existing := range n.Pods {
				s.affinityCounts.updateWithAffinityTerms(podInfo.RequiredAffinityTerms, existing.Pod, n.Node(), 1)
				s.antiAffinityCounts.updateWithAntiAffinityTerms(podInfo.RequiredAntiAffinityTerms, existing.Pod, nil, n.Node(), 1)
			}
		}
	}
	if len(s.existingAntiAffinityCounts) == 0 && len(podInfo.RequiredAffinityTerms) == 0 && len(podInfo.RequiredAntiAffinityTerms) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	state.Write(preFilterStateKey, s)
	return nil, nil
}

// PreFilterExtensions updates the counts for preemption.
func (pl *InterPodAffinity) PreFilterExtensions() framework.PreFilterExtensions { return pl }

// AddPod counts a pod as if it were on nodeInfo.
func (pl *InterPodAffinity) AddPod(_ context.Context, state *framework.CycleState, _ *v1alpha1.Pod, podInfoToAdd *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	s, err := getPreFilterState(state)
	if err != nil {
		return framework.AsStatus(err)
	}
	s.updateWithPod(podInfoToAdd, nodeInfo.Node(), 1)
	return nil
}

// RemovePod uncounts a pod leaving nodeInfo.
func (pl *InterPodAffinity) RemovePod(_ context.Context, state *framework.CycleState, _ *v1alpha1.Pod, podInfoToRemove *framework.PodInfo, nodeInfo *framework.NodeInfo) *framework.Status {
	s, err := getPreFilterState(state)
	if err != nil {
		return framework.AsStatus(err)
	}
	s.updateWithPod(podInfoToRemove, nodeInfo.Node(), -1)
	return nil
}

func getPreFilterState(state *framework.CycleState) (*preFilterState, error) {
	v, ok := state.Read(preFilterStateKey)
	if !ok {
		return nil, fmt.Errorf("reading %q from cycle state: not found", preFilterStateKey)
	}
	return v.(*preFilterState), nil
}

// satisfyExistingPodsAntiAffinity: no pod in any of the node's domains
// has required anti-affinity to the incoming pod.
func satisfyExistingPodsAntiAffinity(s *preFilterState, node *v1alpha1.Node) bool {
	if len(s.existingAntiAffinityCounts) > 0 {
		for k, v := range node.Labels {
			if s.existingAntiAffinityCounts[topologyPair{key: k, value: v}] > 0 {
				return false
			}
		}
	}
	return true
}

// satisfyPodAntiAffinity: none of the incoming pod's anti-affinity terms
// matches a pod in the node's domain for that term.
func satisfyPodAntiAffinity(s *preFilterState, node *v1alpha1.Node) bool {
	if len(s.antiAffinityCounts) > 0 {
		for _, t := range s.podInfo.RequiredAntiAffinityTerms {
			if tv, ok := node.Labels[t.TopologyKey]; ok && s.antiAffinityCounts[topologyPair{key: t.TopologyKey, value: tv}] > 0 {
				return false
			}
		}
	}
	return true
}

// satisfyPodAffinity: every affinity term finds matching pods in the
// node's domain. A node without a term's topology key never satisfies it.
// The first pod of a group that matches its own terms may go anywhere the
// keys exist when no matching pod exists yet.
func satisfyPodAffinity(s *preFilterState, node *v1alpha1.Node) bool {
	podsExist := true
	for _, t := range s.podInfo.RequiredAffinityTerms {
		tv, ok := node.Labels[t.TopologyKey]
		if !ok {
			return false
		}
		if s.affinityCounts[topologyPair{key: t.TopologyKey, value: tv}] <= 0 {
			podsExist = false
		}
	}
	if !podsExist {
		return len(s.affinityCounts) == 0 && podMatchesAllAffinityTerms(s.podInfo.RequiredAffinityTerms, s.podInfo.Pod)
	}
	return true
}

// Filter checks the node against the counts PreFilter made.
func (pl *InterPodAffinity) Filter(_ context.Context, state *framework.CycleState, _ *v1alpha1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	s, err := getPreFilterState(state)
	if err != nil {
		return framework.AsStatus(err)
	}
	node := nodeInfo.Node()
	if !satisfyPodAffinity(s, node) {
		return errAffinityRulesNotMatch
	}
	if !satisfyPodAntiAffinity(s, node) {
		return errAntiAffinityRulesNotMatch
	}
	if !satisfyExistingPodsAntiAffinity(s, node) {
		return errExistingAntiAffinityRulesNotMatch
	}
	return nil
}

// Filter's statuses, one for every node it rejects for each reason.
var (
	errAffinityRulesNotMatch             = framework.RejectionStatus(Name, framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)
	errAntiAffinityRulesNotMatch         = framework.RejectionStatus(Name, framework.Unschedulable, ErrReasonAntiAffinityRulesNotMatch)
	errExistingAntiAffinityRulesNotMatch = framework.RejectionStatus(Name, framework.Unschedulable, ErrReasonExistingAntiAffinityRulesNotMatch)
)
