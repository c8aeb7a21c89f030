package scheduler

import (
	"context"
	"errors"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"math/rand/v2"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/client/statuspatch"
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/metrics"
	"skiff.dev/skiff/pkg/scheduler/queue"
)

const (
	// minFeasibleNodesToFind: on clusters up to this size every node is
	// filtered; on larger ones the search stops after at least this many
	// feasible nodes.
	minFeasibleNodesToFind = 100
	// minFeasibleNodesPercentageToFind is the floor of the adaptive
	// percentage of nodes to score.
	minFeasibleNodesPercentageToFind = 5
)

// ErrNoNodesAvailable is the failure of a pod scheduled in a cluster with
// no nodes.
var ErrNoNodesAvailable = errors.New("no nodes available to schedule pods")

// scheduleOne takes the next pod from the queue, picks a node for it
// (running PostFilter, preemption, when none fits), reserves the node in
// the cache and binds asynchronously.
func (s *Scheduler) scheduleOne(ctx context.Context) {
	pInfo, err := s.queue.Pop()
	if err != nil {
		return // queue closed: shutting down
	}
	// Only this loop pops, so the cycle now is the pod's.
	cycle := s.queue.SchedulingCycle()
	pod := pInfo.Pod
	logger := klog.FromContext(ctx).WithValues("pod", klog.KObj(pod))
	if s.skipPodSchedule(pod) {
		s.queue.Done(pod.UID)
		return
	}
	start := time.Now()
	logger.V(3).Info("Attempting to schedule pod", "attempt", pInfo.Attempts)

	state := framework.NewCycleState()
	host, err := s.schedulePod(ctx, state, pod)
	if err != nil {
		var fitErr *framework.FitError
		nominated := ""
		if errors.As(err, &fitErr) && s.framework.HasPostFilterPlugins() {
			nominated = s.runPostFilter(ctx, state, pod, fitErr)
		}
		s.handleSchedulingFailure(ctx, pInfo, err, nominated, cycle, start)
		return
	}

	// Reserve the node now, so the next pod sees it taken while the
	// binding is still on its way.
	assumed := pod.DeepCopy()
	assumed.Spec.NodeName = host
	if err := s.cache.AssumePod(assumed); err != nil {
		s.handleSchedulingFailure(ctx, pInfo, fmt.Errorf("assume pod on node %s: %w", host, err), "", cycle, start)
		return
	}
	// The pod now holds its room in the cache: a nomination would count it
	// twice, keeping the next pods of its priority out (as upstream,
	// nominations end at assume).
	s.queue.DeleteNominatedPodIfExists(assumed)
	if st := s.framework.RunReservePluginsReserve(ctx, state, assumed, host); !st.IsSuccess() {
		s.undoReservation(ctx, state, assumed, host)
		s.handleSchedulingFailure(ctx, pInfo, statusError(pod, s.snapshot.NumNodes(), st), "", cycle, start)
		return
	}
	if st := s.framework.RunPermitPlugins(ctx, state, assumed, host); !st.IsSuccess() && st.Code() != framework.Wait {
		s.undoReservation(ctx, state, assumed, host)
		s.handleSchedulingFailure(ctx, pInfo, statusError(pod, s.snapshot.NumNodes(), st), "", cycle, start)
		return
	}
	s.queue.Done(pod.UID)
	s.bindings.Add(1)
	go s.bindingCycle(ctx, state, pInfo, assumed, start)
}

// statusError turns a rejection outside filtering (Reserve, Permit,
// PreBind) into a FitError naming the plugin, so the pod waits for an event
// that plugin registered; other failures stay errors.
func statusError(pod *v1alpha1.Pod, numNodes int, st *framework.Status) error {
	if st.IsRejected() {
		return &framework.FitError{Pod: pod, NumAllNodes: numNodes, Diagnosis: framework.Diagnosis{
			PreFilterMsg:         st.Message(),
			UnschedulablePlugins: map[string]struct{}{st.Plugin(): {}},
		}}
	}
	return st.AsError()
}

// undoReservation runs Unreserve and forgets the assumed pod.
func (s *Scheduler) undoReservation(ctx context.Context, state *framework.CycleState, assumed *v1alpha1.Pod, host string) {
	s.framework.RunReservePluginsUnreserve(ctx, state, assumed, host)
	if err := s.cache.ForgetPod(assumed); err != nil {
		klog.FromContext(ctx).Error(err, "Could not forget the assumed pod", "pod", klog.KObj(assumed))
	}
}

// runPostFilter asks the PostFilter plugins (preemption) for a node the pod
// will fit once victims are gone, and returns it. A nomination is
// remembered by the queue, so later cycles keep room for the pod; the
// failure handler writes it to status.nominatedNodeName.
func (s *Scheduler) runPostFilter(ctx context.Context, state *framework.CycleState, pod *v1alpha1.Pod, fitErr *framework.FitError) string {
	logger := klog.FromContext(ctx).WithValues("pod", klog.KObj(pod))
	result, st := s.framework.RunPostFilterPlugins(ctx, state, pod, fitErr.Diagnosis.NodeToStatus)
	if st.Code() == framework.Error {
		logger.Error(st.AsError(), "Preemption failed")
		return ""
	}
	if !st.IsSuccess() {
		fitErr.Diagnosis.PostFilterMsg = st.Message()
		return ""
	}
	if result == nil || result.NominatedNodeName == "" {
		return ""
	}
	logger.V(2).Info("Pod nominated to a node after preemption", "node", result.NominatedNodeName)
	s.queue.AddNominatedPod(pod, result.NominatedNodeName)
	return result.NominatedNodeName
}

// skipPodSchedule drops pods that need no scheduling any more: being
// deleted, or already placed by this scheduler and waiting for the
// informer to show them bound.
func (s *Scheduler) skipPodSchedule(pod *v1alpha1.Pod) bool {
	if pod.DeletionTimestamp != nil {
		klog.V(3).InfoS("Skipping pod being deleted", "pod", klog.KObj(pod))
		return true
	}
	if s.cache.IsAssumedPod(pod) {
		klog.V(3).InfoS("Skipping pod already assumed", "pod", klog.KObj(pod))
		return true
	}
	return false
}

// schedulePod returns the best node for the pod: filter, then score.
func (s *Scheduler) schedulePod(ctx context.Context, state *framework.CycleState, pod *v1alpha1.Pod) (string, error) {
	s.cache.UpdateSnapshot(s.snapshot)
	numNodes := s.snapshot.NumNodes()
	s.snapshotNodes.Store(int64(numNodes))
	if numNodes == 0 {
		return "", ErrNoNodesAvailable
	}

	preRes, st := s.framework.RunPreFilterPlugins(ctx, state, pod)
	if !st.IsSuccess() {
		if st.IsRejected() {
			return "", &framework.FitError{Pod: pod, NumAllNodes: numNodes, Diagnosis: framework.Diagnosis{
				PreFilterMsg:         st.Message(),
				UnschedulablePlugins: map[string]struct{}{st.Plugin(): {}},
			}}
		}
		return "", st.AsError()
	}

	feasible, diagnosis, err := s.findNodesThatPassFilters(ctx, state, pod, preRes)
	if err != nil {
		return "", err
	}
	switch len(feasible) {
	case 0:
		return "", &framework.FitError{Pod: pod, NumAllNodes: numNodes, Diagnosis: diagnosis}
	case 1:
		return feasible[0].Node().Name, nil
	}

	if !s.framework.HasScorePlugins() {
		return feasible[rand.IntN(len(feasible))].Node().Name, nil
	}
	if st := s.framework.RunPreScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
		return "", st.AsError()
	}
	scores, st := s.framework.RunScorePlugins(ctx, state, pod, feasible)
	if !st.IsSuccess() {
		return "", st.AsError()
	}
	return feasible[selectHost(scores)].Node().Name, nil
}

// findNodesThatPassFilters runs the filters over the nodes in parallel,
// starting where the last cycle stopped so that load spreads, and stops
// once numFeasibleNodesToFind nodes fit. The diagnosis, each rejected
// node's status, comes only when no node fits.
func (s *Scheduler) findNodesThatPassFilters(ctx context.Context, state *framework.CycleState, pod *v1alpha1.Pod, preRes *framework.PreFilterResult) ([]*framework.NodeInfo, framework.Diagnosis, error) {
	nodes := s.snapshot.NodeInfos()
	if preRes != nil && preRes.NodeNames != nil {
		// A PreFilter plugin knows the only nodes that can fit.
		some := make([]*framework.NodeInfo, 0, len(preRes.NodeNames))
		for name := range preRes.NodeNames {
			if n, ok := s.snapshot.Get(name); ok {
				some = append(some, n)
			}
		}
		nodes = some
	}
	numToFind := numFeasibleNodesToFind(s.percentageOfNodesToScore, int32(len(nodes)))
	feasible := make([]*framework.NodeInfo, numToFind)
	statuses := make([]*framework.Status, len(nodes))
	var found atomic.Int32
	var filterErr atomic.Pointer[error]

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := s.nextStartNodeIndex
	check := func(i int) {
		idx := (start + i) % len(nodes)
		st := s.framework.RunFilterPluginsWithNominatedPods(ctx, state, pod, nodes[idx])
		switch {
		case st.IsSuccess():
			n := found.Add(1)
			if n > numToFind {
				found.Add(-1)
				cancel()
				return
			}
			feasible[n-1] = nodes[idx]
		case st.IsRejected():
			statuses[idx] = st
		default:
			err := st.AsError()
			filterErr.CompareAndSwap(nil, &err)
			cancel()
		}
	}
	s.framework.Parallelizer().Until(ctx, len(nodes), check)
	if err := filterErr.Load(); err != nil {
		return nil, framework.Diagnosis{}, *err
	}

	numFound := int(found.Load())
	rejected := 0
	for _, st := range statuses {
		if st != nil {
			rejected++
		}
	}
	s.nextStartNodeIndex = (start + numFound + rejected) % len(nodes)
	if numFound > 0 {
		// Why the other nodes did not fit matters only to a pod that fits
		// nowhere (its FitError, preemption, the events that may move it);
		// a map of thousands of node names a cycle was a tenth of the
		// scheduler's CPU beside 1000 nodes it could not use.
		return feasible[:numFound], framework.Diagnosis{}, nil
	}
	diagnosis := framework.Diagnosis{NodeToStatus: make(map[string]*framework.Status, rejected)}
	for i, st := range statuses {
		if st != nil {
			diagnosis.NodeToStatus[nodes[i].Node().Name] = st
			if diagnosis.UnschedulablePlugins == nil {
				diagnosis.UnschedulablePlugins = map[string]struct{}{}
			}
			diagnosis.UnschedulablePlugins[st.Plugin()] = struct{}{}
		}
	}
	return nil, diagnosis, nil
}

// numFeasibleNodesToFind is upstream's percentageOfNodesToScore rule: every
// node on small clusters; otherwise the given percentage (adaptive when 0:
// 50% less 1% per 125 nodes, at least 5%), but never fewer than 100 nodes.
func numFeasibleNodesToFind(percentage, numAllNodes int32) int32 {
	if numAllNodes < minFeasibleNodesToFind || percentage >= 100 {
		return numAllNodes
	}
	if percentage <= 0 {
		percentage = 50 - numAllNodes/125
		if percentage < minFeasibleNodesPercentageToFind {
			percentage = minFeasibleNodesPercentageToFind
		}
	}
	n := numAllNodes * percentage / 100
	if n < minFeasibleNodesToFind {
		return minFeasibleNodesToFind
	}
	return n
}

// selectHost returns the index of the highest score, choosing uniformly at
// random among ties (reservoir sampling) so equal nodes share the load.
func selectHost(scores []int64) int {
	best, ties := 0, 1
	for i := 1; i < len(scores); i++ {
		switch {
		case scores[i] > scores[best]:
			best, ties = i, 1
		case scores[i] == scores[best]:
			ties++
			if rand.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best
}

// bindingCycle waits for Permit, runs PreBind, the Bind plugins and
// PostBind, and settles the assumption either way. It runs in its own
// goroutine so the next pod is scheduled meanwhile.
func (s *Scheduler) bindingCycle(ctx context.Context, state *framework.CycleState, pInfo *queue.QueuedPodInfo, assumed *v1alpha1.Pod, start time.Time) {
	defer s.bindings.Done()
	host := assumed.Spec.NodeName
	logger := klog.FromContext(ctx).WithValues("pod", klog.KObj(assumed), "node", host)
	st := s.framework.WaitOnPermit(ctx, assumed)
	if st.IsSuccess() {
		st = s.framework.RunPreBindPlugins(ctx, state, assumed, host)
	}
	if st.IsSuccess() {
		st = s.framework.RunBindPlugins(ctx, state, assumed, host)
	}
	if !st.IsSuccess() {
		s.handleBindingFailure(ctx, state, pInfo, assumed, st, start)
		return
	}
	if err := s.cache.FinishBinding(assumed); err != nil {
		logger.Error(err, "Could not finish binding in the cache")
	}
	s.queue.DeleteNominatedPodIfExists(assumed)
	metrics.ObserveAttempt(metrics.ResultScheduled, start)
	metrics.E2ESchedulingDuration.Observe(time.Since(pInfo.InitialTimestamp).Seconds())
	logger.V(2).Info("Successfully bound pod to node", "attempts", pInfo.Attempts)
	s.recorder.Eventf(assumed, corev1.EventTypeNormal, "Scheduled", "Successfully assigned %s/%s to %s", assumed.Namespace, assumed.Name, host)
	s.framework.RunPostBindPlugins(ctx, state, assumed, host)
}

// handleBindingFailure undoes the reservation and requeues this pod alone.
// The room it held goes back through the queueing hints as an assigned pod
// deletion: only pods a plugin rejected for want of such room move.
func (s *Scheduler) handleBindingFailure(ctx context.Context, state *framework.CycleState, pInfo *queue.QueuedPodInfo, assumed *v1alpha1.Pod, st *framework.Status, start time.Time) {
	logger := klog.FromContext(ctx).WithValues("pod", klog.KObj(assumed), "node", assumed.Spec.NodeName)
	s.undoReservation(ctx, state, assumed, assumed.Spec.NodeName)
	s.queue.MoveAllToActiveOrBackoff(framework.EventAssignedPodDelete, assumed, nil)
	err := st.AsError()
	switch {
	case apierrors.IsConflict(err):
		// Bound already (by another scheduler, or by an earlier
		// attempt whose answer was lost): nothing left to do.
		logger.V(2).Info("Pod is already bound; dropping it", "err", err)
		metrics.ObserveAttempt(metrics.ResultError, start)
		return
	case apierrors.IsNotFound(err):
		logger.V(2).Info("Pod was deleted before it was bound")
		metrics.ObserveAttempt(metrics.ResultError, start)
		return
	}
	if st.IsRejected() {
		s.handleSchedulingFailure(ctx, pInfo, statusError(pInfo.Pod, int(s.snapshotNodes.Load()), st), "", -1, start)
		return
	}
	s.handleSchedulingFailure(ctx, pInfo, fmt.Errorf("binding rejected: %w", err), "", -1, start)
}

// handleSchedulingFailure tells the user and puts the pod back: to wait for
// a cluster event when no node fits, to back off after an error. nominated
// is the node preemption made room on, if any.
func (s *Scheduler) handleSchedulingFailure(ctx context.Context, pInfo *queue.QueuedPodInfo, err error, nominated string, cycle int64, start time.Time) {
	pod := pInfo.Pod
	logger := klog.FromContext(ctx).WithValues("pod", klog.KObj(pod))
	var fitErr *framework.FitError
	unschedulable := errors.As(err, &fitErr) || errors.Is(err, ErrNoNodesAvailable)
	if fitErr != nil {
		pInfo.UnschedulablePlugins = fitErr.Diagnosis.UnschedulablePlugins
	} else {
		pInfo.UnschedulablePlugins = nil
	}
	if unschedulable {
		metrics.ObserveAttempt(metrics.ResultUnschedulable, start)
		logger.V(2).Info("Unable to schedule pod; waiting", "reason", err.Error())
	} else {
		metrics.ObserveAttempt(metrics.ResultError, start)
		logger.Error(err, "Error scheduling pod; retrying")
	}

	// Requeue the informer's newest copy, unless the pod was deleted or
	// bound while it was being scheduled.
	current, getErr := s.podLister.Pods(pod.Namespace).Get(pod.Name)
	switch {
	case apierrors.IsNotFound(getErr):
		logger.V(3).Info("Pod was deleted while being scheduled; not requeued")
		s.queue.Done(pod.UID)
		return
	case getErr != nil:
		logger.Error(getErr, "Could not read the pod from the informer cache")
	case current.UID != pod.UID || assigned(current):
		logger.V(3).Info("Pod was replaced or bound while being scheduled; not requeued")
		s.queue.Done(pod.UID)
		return
	default:
		pInfo.Pod = current
		pod = current
	}
	var qerr error
	if unschedulable {
		qerr = s.queue.AddUnschedulableIfNotPresent(pInfo, cycle)
	} else {
		qerr = s.queue.AddBackoffIfNotPresent(pInfo)
	}
	if qerr != nil {
		logger.V(4).Info("Pod not requeued", "err", qerr)
	}

	msg := err.Error()
	s.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedScheduling", "%s", msg)
	if unschedulable {
		if err := s.setUnschedulable(ctx, pod, msg, nominated); err != nil {
			logger.Error(err, "Could not write the PodScheduled condition and nominated node")
		}
	}
}

// setUnschedulable writes PodScheduled=False, reason Unschedulable, with
// msg, and the nominated node when preemption made one, in one write of
// pods/status (as upstream's updatePod), unless the pod already says
// exactly that.
func (s *Scheduler) setUnschedulable(ctx context.Context, pod *v1alpha1.Pod, msg, nominated string) error {
	now := metav1.Now()
	cond := v1alpha1.PodCondition{
		Type:               v1alpha1.PodScheduled,
		Status:             v1alpha1.ConditionFalse,
		Reason:             v1alpha1.PodReasonUnschedulable,
		Message:            msg,
		LastProbeTime:      now,
		LastTransitionTime: now,
	}
	conditions := make([]v1alpha1.PodCondition, 0, len(pod.Status.Conditions)+1)
	conditionChanged, replaced := true, false
	for _, c := range pod.Status.Conditions {
		if c.Type != v1alpha1.PodScheduled {
			conditions = append(conditions, c)
			continue
		}
		switch {
		case c.Status == cond.Status && c.Reason == cond.Reason && c.Message == cond.Message:
			conditionChanged = false
			cond = c
		case c.Status == cond.Status:
			cond.LastTransitionTime = c.LastTransitionTime
		}
		conditions = append(conditions, cond)
		replaced = true
	}
	if !replaced {
		conditions = append(conditions, cond)
	}
	nominationChanged := nominated != "" && nominated != pod.Status.NominatedNodeName
	if !conditionChanged && !nominationChanged {
		return nil
	}
	// A strategic merge patch from the pod's status sends only what
	// changed, conditions keyed by type, so a condition another component
	// set since the informer showed the pod stays. The UID precondition
	// keeps a pod recreated under the same name untouched.
	status := pod.Status.DeepCopy()
	status.Conditions = conditions
	if nominationChanged {
		status.NominatedNodeName = nominated
	}
	patch, err := statuspatch.Pod(pod.UID, &pod.Status, status)
	if err != nil {
		return fmt.Errorf("status patch for pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if patch == nil {
		return nil
	}
	_, err = s.client.CoreV1alpha1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("patch scheduling status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}
