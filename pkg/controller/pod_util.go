package controller

import (
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// PodDeletionCostAnnotation lets a user rank pods for scale-down, as
// upstream's annotation of the same name: lower cost goes first.
const PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// IsPodActive reports whether a pod still counts towards its controller's
// replicas: not finished and not being deleted.
func IsPodActive(p *v1alpha1.Pod) bool {
	return p.Status.Phase != v1alpha1.PodSucceeded && p.Status.Phase != v1alpha1.PodFailed && p.DeletionTimestamp == nil
}

// FilterActivePods returns the active pods of pods.
func FilterActivePods(pods []*v1alpha1.Pod) []*v1alpha1.Pod {
	var out []*v1alpha1.Pod
	for _, p := range pods {
		if IsPodActive(p) {
			out = append(out, p)
		}
	}
	return out
}

// podReadyCondition returns the pod's Ready condition, or nil.
func podReadyCondition(p *v1alpha1.Pod) *v1alpha1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == v1alpha1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// IsPodReady reports whether the pod's Ready condition is True.
func IsPodReady(p *v1alpha1.Pod) bool {
	c := podReadyCondition(p)
	return c != nil && c.Status == v1alpha1.ConditionTrue
}

// IsPodAvailable reports whether the pod has been ready for at least
// minReadySeconds at now.
func IsPodAvailable(p *v1alpha1.Pod, minReadySeconds int32, now metav1.Time) bool {
	c := podReadyCondition(p)
	if c == nil || c.Status != v1alpha1.ConditionTrue {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	min := time.Duration(minReadySeconds) * time.Second
	return !c.LastTransitionTime.IsZero() && !c.LastTransitionTime.Add(min).After(now.Time)
}

// podReadyTime is when the pod last became ready, or nil when it is not.
func podReadyTime(p *v1alpha1.Pod) *metav1.Time {
	c := podReadyCondition(p)
	if c == nil || c.Status != v1alpha1.ConditionTrue {
		return nil
	}
	return &c.LastTransitionTime
}

func maxContainerRestarts(p *v1alpha1.Pod) int32 {
	var m int32
	for _, s := range p.Status.ContainerStatuses {
		m = max(m, s.RestartCount)
	}
	return m
}

// deletionCost returns the pod's deletion cost annotation; absent or
// malformed counts as 0, as upstream treats it.
func deletionCost(p *v1alpha1.Pod) int64 {
	v, ok := p.Annotations[PodDeletionCostAnnotation]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return n
}

// phaseRank orders the phases by how much is lost by deleting a pod in
// them: a pending pod has done the least work.
var phaseRank = map[v1alpha1.PodPhase]int{v1alpha1.PodPending: 0, v1alpha1.PodUnknown: 1, v1alpha1.PodRunning: 2}

// ActivePodsWithRanks sorts pods least valuable first, in upstream's
// order:
//  1. unscheduled before scheduled;
//  2. Pending before Unknown before Running;
//  3. not ready before ready;
//  4. lower pod-deletion-cost before higher;
//  5. more pods of the same owners on its node (higher Rank) before fewer,
//     so a scale-down spreads what is left;
//  6. ready for less time before ready for longer;
//  7. more container restarts before fewer;
//  8. newer before older.
//
// Rank is indexed like Pods; ties keep no particular order.
type ActivePodsWithRanks struct {
	Pods []*v1alpha1.Pod
	Rank []int
	Now  metav1.Time
}

func (s ActivePodsWithRanks) Len() int { return len(s.Pods) }

func (s ActivePodsWithRanks) Swap(i, j int) {
	s.Pods[i], s.Pods[j] = s.Pods[j], s.Pods[i]
	s.Rank[i], s.Rank[j] = s.Rank[j], s.Rank[i]
}

func (s ActivePodsWithRanks) Less(i, j int) bool {
	a, b := s.Pods[i], s.Pods[j]
	if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if ra, rb := phaseRank[a.Status.Phase], phaseRank[b.Status.Phase]; ra != rb {
		return ra < rb
	}
	if IsPodReady(a) != IsPodReady(b) {
		return !IsPodReady(a)
	}
	if ca, cb := deletionCost(a), deletionCost(b); ca != cb {
		return ca < cb
	}
	if s.Rank[i] != s.Rank[j] {
		return s.Rank[i] > s.Rank[j]
	}
	if IsPodReady(a) && IsPodReady(b) {
		ta, tb := podReadyTime(a), podReadyTime(b)
		if !ta.Equal(tb) {
			return afterOrZero(ta, tb)
		}
	}
	if ma, mb := maxContainerRestarts(a), maxContainerRestarts(b); ma != mb {
		return ma > mb
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return afterOrZero(&a.CreationTimestamp, &b.CreationTimestamp)
	}
	return false
}

// afterOrZero reports whether t1 is after t2, a zero time counting as the
// latest of all (a pod with no timestamp is the least established).
func afterOrZero(t1, t2 *metav1.Time) bool {
	if t1.Time.IsZero() || t2.Time.IsZero() {
		return t1.Time.IsZero()
	}
	return t1.After(t2.Time)
}

// RankByPodsOnSameNode ranks each of pods by how many of related (the pods
// of the same owner and its siblings, active ones) share its node.
func RankByPodsOnSameNode(pods, related []*v1alpha1.Pod) ActivePodsWithRanks {
	onNode := map[string]int{}
	for _, p := range related {
		if IsPodActive(p) && p.Spec.NodeName != "" {
			onNode[p.Spec.NodeName]++
		}
	}
	ranks := make([]int, len(pods))
	for i, p := range pods {
		if p.Spec.NodeName != "" {
			ranks[i] = onNode[p.Spec.NodeName]
		}
	}
	return ActivePodsWithRanks{Pods: pods, Rank: ranks, Now: metav1.Now()}
}
