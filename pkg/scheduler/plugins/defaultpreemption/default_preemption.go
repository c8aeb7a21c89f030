// Package defaultpreemption is upstream's DefaultPreemption PostFilter:
// when no node fits a pod, it looks for a node where evicting pods of lower
// priority makes room, picks the victims and the node as upstream does,
// deletes the victims gracefully (with a Preempted event on each) and
// nominates the node for the pod.
//
// Victims on a node: every pod of lower priority is taken off; if the pod
// then fits, the taken pods are given back one at a time, most important
// first (higher priority, then earlier start), and each that still leaves
// room stays; the rest are the victims. Among the candidate nodes the
// choice is, in order: fewest PodDisruptionBudget violations (skiff has no
// PodDisruptionBudgets, so this criterion never decides), the lowest
// highest victim priority, the lowest sum of victim priorities, the fewest
// victims, the latest start among the highest-priority victims, then the
// first found.
package defaultpreemption

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "DefaultPreemption"

// Upstream's defaults for how many candidate nodes to look for: 10% of the
// nodes, at least 100.
const (
	minCandidateNodesPercentage = 10
	minCandidateNodesAbsolute   = 100
)

// DefaultPreemption is the plugin.
type DefaultPreemption struct {
	handle framework.Handle
	// offset rotates where the search for candidates starts, as upstream
	// starts at a random node, so preemption spreads.
	offset atomic.Int64
}

var _ framework.PostFilterPlugin = &DefaultPreemption{}

// New builds the plugin.
func New(h framework.Handle) (framework.Plugin, error) {
	if h.SnapshotSharedLister() == nil || h.ClientSet() == nil {
		return nil, fmt.Errorf("%s needs the snapshot and a client", Name)
	}
	return &DefaultPreemption{handle: h}, nil
}

// Name returns the plugin's name.
func (*DefaultPreemption) Name() string { return Name }

// candidate is a node and the pods to evict there.
type candidate struct {
	node    string
	victims []*v1alpha1.Pod
}

// PostFilter preempts for pod, if it may and some node makes room.
func (pl *DefaultPreemption) PostFilter(ctx context.Context, state *framework.CycleState, pod *v1alpha1.Pod, m framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status) {
	logger := klog.FromContext(ctx).WithValues("pod", klog.KObj(pod))
	if ok, msg := pl.podEligibleToPreemptOthers(pod, m); !ok {
		logger.V(5).Info("Pod is not eligible for preemption", "reason", msg)
		return nil, framework.NewStatus(framework.Unschedulable, msg)
	}
	all := pl.handle.SnapshotSharedLister().List()
	var potential []*framework.NodeInfo
	for _, n := range all {
		if s, rejected := m[n.Node().Name]; rejected && s.Code() == framework.UnschedulableAndUnresolvable {
			continue // removing pods cannot help there
		}
		potential = append(potential, n)
	}
	if len(potential) == 0 {
		return nil, framework.NewStatus(framework.Unschedulable, preemptionMessage(len(all), 0))
	}
	candidates, status := pl.findCandidates(ctx, state, pod, potential)
	if !status.IsSuccess() {
		return nil, status
	}
	if len(candidates) == 0 {
		return nil, framework.NewStatus(framework.Unschedulable, preemptionMessage(len(all), len(potential)))
	}
	best := pickOneNodeForPreemption(candidates)
	if err := pl.prepareCandidate(ctx, best, pod); err != nil {
		return nil, framework.AsStatus(err)
	}
	return &framework.PostFilterResult{NominatedNodeName: best.node}, nil
}

// podEligibleToPreemptOthers: not with preemptionPolicy Never, and not
// while victims of an earlier preemption on its nominated node are still
// terminating (unless that node is now out of the question).
func (pl *DefaultPreemption) podEligibleToPreemptOthers(pod *v1alpha1.Pod, m framework.NodeToStatus) (bool, string) {
	if p := pod.Spec.PreemptionPolicy; p != nil && *p == v1alpha1.PreemptNever {
		return false, "not eligible due to preemptionPolicy=Never."
	}
	nom := pod.Status.NominatedNodeName
	if nom == "" {
		return true, ""
	}
	if s, ok := m[nom]; ok && s.Code() == framework.UnschedulableAndUnresolvable {
		return true, ""
	}
	if n, ok := pl.handle.SnapshotSharedLister().Get(nom); ok {
		prio := framework.PodPriority(pod)
		for _, p := range n.Pods {
			if p.Pod.DeletionTimestamp != nil && framework.PodPriority(p.Pod) < prio {
				return false, "not eligible due to a terminating pod on the nominated node."
			}
		}
	}
	return true, ""
}

// findCandidates runs selectVictimsOnNode over the potential nodes in
// parallel, from a rotating offset, until enough candidates are found.
func (pl *DefaultPreemption) findCandidates(ctx context.Context, state *framework.CycleState, pod *v1alpha1.Pod, potential []*framework.NodeInfo) ([]candidate, *framework.Status) {
	want := max(len(potential)*minCandidateNodesPercentage/100, minCandidateNodesAbsolute)
	want = min(want, len(potential))
	offset := int(pl.offset.Add(1)) % len(potential)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var out []candidate
	var failed *framework.Status
	pl.handle.Parallelizer().Until(ctx, len(potential), func(i int) {
		n := potential[(offset+i)%len(potential)]
		victims, fits, st := pl.selectVictimsOnNode(ctx, state.Clone(), pod, n.Clone())
		mu.Lock()
		defer mu.Unlock()
		switch {
		case !st.IsSuccess():
			if failed == nil {
				failed = st
			}
			cancel()
		case fits && len(victims) > 0 && len(out) < want:
			out = append(out, candidate{node: n.Node().Name, victims: victims})
			if len(out) >= want {
				cancel()
			}
		}
	})
	if failed != nil {
		return nil, failed
	}
	return out, nil
}

// selectVictimsOnNode works on copies of the state and the node.
func (pl *DefaultPreemption) selectVictimsOnNode(ctx context.Context, state *framework.CycleState, pod *v1alpha1.Pod, node *framework.NodeInfo) ([]*v1alpha1.Pod, bool, *framework.Status) {
	prio := framework.PodPriority(pod)
	var potential []*framework.PodInfo
	for _, p := range append([]*framework.PodInfo(nil), node.Pods...) {
		if framework.PodPriority(p.Pod) >= prio {
			continue
		}
		potential = append(potential, p)
		node.RemovePod(p.Pod)
		if st := pl.handle.RunPreFilterExtensionRemovePod(ctx, state, pod, p, node); !st.IsSuccess() {
			return nil, false, st
		}
	}
	if len(potential) == 0 {
		return nil, false, nil
	}
	if st := pl.handle.RunFilterPluginsWithNominatedPods(ctx, state, pod, node); !st.IsSuccess() {
		if st.Code() == framework.Error {
			return nil, false, st
		}
		return nil, false, nil // even an empty node (of lower pods) does not fit
	}
	sort.SliceStable(potential, func(i, j int) bool { return moreImportant(potential[i].Pod, potential[j].Pod) })
	var victims []*v1alpha1.Pod
	for _, p := range potential {
		node.AddPodInfo(p)
		if st := pl.handle.RunPreFilterExtensionAddPod(ctx, state, pod, p, node); !st.IsSuccess() {
			return nil, false, st
		}
		st := pl.handle.RunFilterPluginsWithNominatedPods(ctx, state, pod, node)
		if st.Code() == framework.Error {
			return nil, false, st
		}
		if st.IsSuccess() {
			continue // reprieved
		}
		node.RemovePod(p.Pod)
		if st := pl.handle.RunPreFilterExtensionRemovePod(ctx, state, pod, p, node); !st.IsSuccess() {
			return nil, false, st
		}
		victims = append(victims, p.Pod)
	}
	return victims, true, nil
}

// moreImportant: higher priority, then started earlier.
func moreImportant(a, b *v1alpha1.Pod) bool {
	pa, pb := framework.PodPriority(a), framework.PodPriority(b)
	if pa != pb {
		return pa > pb
	}
	return startTime(a).Before(startTime(b))
}

func startTime(p *v1alpha1.Pod) time.Time {
	if p.Status.StartTime != nil {
		return p.Status.StartTime.Time
	}
	return p.CreationTimestamp.Time
}

// pickOneNodeForPreemption applies upstream's criteria in order (see the
// package comment); PDB violations are always 0 in skiff.
func pickOneNodeForPreemption(cs []candidate) candidate {
	if len(cs) == 1 {
		return cs[0]
	}
	keep := func(score func(c candidate) int64) {
		best := int64(math.MinInt64)
		var kept []candidate
		for _, c := range cs {
			switch s := score(c); {
			case s > best:
				best, kept = s, []candidate{c}
			case s == best:
				kept = append(kept, c)
			}
		}
		cs = kept
	}
	// Lowest highest victim priority (victims are sorted most important first).
	keep(func(c candidate) int64 { return -int64(highest(c.victims)) })
	if len(cs) > 1 {
		// Lowest sum of priorities, each shifted to be positive.
		keep(func(c candidate) int64 {
			var sum int64
			for _, v := range c.victims {
				sum += int64(framework.PodPriority(v)) + math.MaxInt32 + 1
			}
			return -sum
		})
	}
	if len(cs) > 1 {
		keep(func(c candidate) int64 { return -int64(len(c.victims)) })
	}
	if len(cs) > 1 {
		// Latest start among the highest-priority victims.
		keep(func(c candidate) int64 {
			top := highest(c.victims)
			var earliest time.Time
			for _, v := range c.victims {
				if framework.PodPriority(v) == top && (earliest.IsZero() || startTime(v).Before(earliest)) {
					earliest = startTime(v)
				}
			}
			return earliest.UnixNano()
		})
	}
	return cs[0]
}

func highest(victims []*v1alpha1.Pod) int32 {
	h := int32(math.MinInt32)
	for _, v := range victims {
		h = max(h, framework.PodPriority(v))
	}
	return h
}

// prepareCandidate deletes the victims gracefully, each with a Preempted
// event, and clears the nomination of lower-priority pods nominated to the
// node, which no longer have room there.
func (pl *DefaultPreemption) prepareCandidate(ctx context.Context, c candidate, pod *v1alpha1.Pod) error {
	logger := klog.FromContext(ctx)
	client := pl.handle.ClientSet().CoreV1alpha1()
	for _, v := range c.victims {
		uid := v.UID
		err := client.Pods(v.Namespace).Delete(ctx, v.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("preempt pod %s/%s: %w", v.Namespace, v.Name, err)
		}
		logger.V(2).Info("Preempted pod", "victim", klog.KObj(v), "preemptor", klog.KObj(pod), "node", c.node)
		if r := pl.handle.EventRecorder(); r != nil {
			r.Eventf(v, corev1.EventTypeNormal, "Preempted", "Preempted by pod %s on node %s", pod.UID, c.node)
		}
	}
	if nom := pl.handle.PodNominator(); nom != nil {
		prio := framework.PodPriority(pod)
		for _, p := range nom.NominatedPodsForNode(c.node) {
			if framework.PodPriority(p.Pod) >= prio || p.Pod.UID == pod.UID {
				continue
			}
			if err := clearNominatedNodeName(ctx, pl.handle, p.Pod); err != nil {
				logger.Error(err, "Could not clear the nominated node of a lower-priority pod", "pod", klog.KObj(p.Pod))
			}
		}
	}
	return nil
}

// preemptionMessage is upstream's: nodes where evicting did not help, and
// nodes where it could not (rejected for reasons no eviction changes),
// counted, sorted, zero counts left out.
func preemptionMessage(all, tried int) string {
	var parts []string
	if tried > 0 {
		parts = append(parts, fmt.Sprintf("%d No preemption victims found for incoming pod", tried))
	}
	if all > tried {
		parts = append(parts, fmt.Sprintf("%d Preemption is not helpful for scheduling", all-tried))
	}
	sort.Strings(parts)
	return fmt.Sprintf("preemption: 0/%d nodes are available: %s.", all, strings.Join(parts, ", "))
}
