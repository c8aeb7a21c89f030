// Package queue holds the pods waiting to be scheduled, in three parts as
// kube-scheduler does:
//
//   - active: pods to try now, highest priority first, then oldest;
//   - back-off: pods that failed recently and wait 1 s, 2 s, 4 s... (at
//     most 10 s) per attempt before they are tried again;
//   - unschedulable: pods no node fits; they wait for a ClusterEvent that
//     one of the plugins that rejected them registered, and whose queueing
//     hint says it may help this pod (a matching node added, a label or
//     taint changed, resources freed), and then move to active, or to
//     back-off if still backing off.
//
// Events that arrive while a pod is being scheduled are kept until its
// cycle ends, so a pod found unschedulable just after the event that would
// have helped it does not wait for another.
package queue

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

const (
	// DefaultInitialBackoff is the back-off after a pod's first failed attempt.
	DefaultInitialBackoff = time.Second
	// DefaultMaxBackoff caps the back-off, which doubles per attempt.
	DefaultMaxBackoff = 10 * time.Second
	// DefaultMaxInUnschedulable is how long a pod waits in the unschedulable
	// set with no event before it is retried anyway.
	DefaultMaxInUnschedulable = 5 * time.Minute

	backoffFlushPeriod       = time.Second
	unschedulableFlushPeriod = 30 * time.Second
)

// ErrClosed is returned by Pop once the queue is closed.
var ErrClosed = errors.New("scheduling queue is closed")

// QueuedPodInfo is a pod waiting to be scheduled and its history.
type QueuedPodInfo struct {
	Pod *v1alpha1.Pod
	// Timestamp is when the pod was last added to the queue (or failed).
	Timestamp time.Time
	// InitialTimestamp is when the pod first entered the queue; end-to-end
	// scheduling latency is measured from it.
	InitialTimestamp time.Time
	// Attempts counts scheduling attempts so far.
	Attempts int
	// UnschedulablePlugins are the plugins that rejected the pod in its
	// last attempt; only events they registered move it on.
	UnschedulablePlugins map[string]struct{}
}

// PendingCounts is how many pods wait in each part of the queue.
type PendingCounts struct {
	Active, Backoff, Unschedulable int
}

// PriorityQueue is the scheduling queue. It is safe for concurrent use.
type PriorityQueue struct {
	clock              clock.Clock
	initialBackoff     time.Duration
	maxBackoff         time.Duration
	maxInUnschedulable time.Duration
	onChange           func(PendingCounts)

	lock          sync.Mutex
	cond          sync.Cond
	activeQ       *keyedHeap[*QueuedPodInfo]
	backoffQ      *keyedHeap[*QueuedPodInfo]
	unschedulable map[string]*QueuedPodInfo
	// schedulingCycle counts Pops. moveRequestCycle is the cycle of the last
	// move request: a pod popped at or before it that then turns out
	// unschedulable goes to back-off instead of waiting for an event it
	// has already missed.
	schedulingCycle int64
	closed          bool

	// hints are the events each plugin registered.
	hints map[string][]framework.ClusterEventWithHint
	// inFlightPods are the pods popped whose cycle has not ended, with the
	// number of events recorded before each was popped; inFlightEvents are
	// the events since the oldest of them.
	inFlightPods   map[types.UID]int
	inFlightEvents []inFlightEvent
	eventsDropped  int

	nominator *nominator
}

type inFlightEvent struct {
	event          framework.ClusterEvent
	oldObj, newObj any
}

// Option configures a PriorityQueue.
type Option func(*PriorityQueue)

// WithClock sets the clock, for tests.
func WithClock(c clock.Clock) Option { return func(q *PriorityQueue) { q.clock = c } }

// WithQueueingHints sets the events each plugin registered
// (framework.EnqueueExtensions).
func WithQueueingHints(h map[string][]framework.ClusterEventWithHint) Option {
	return func(q *PriorityQueue) { q.hints = h }
}

// WithPendingPodsRecorder is called with the new counts after every change,
// under the queue's lock; it must be quick (setting gauges).
func WithPendingPodsRecorder(f func(PendingCounts)) Option {
	return func(q *PriorityQueue) { q.onChange = f }
}

// New returns an empty queue.
func New(opts ...Option) *PriorityQueue {
	q := &PriorityQueue{
		clock:              clock.RealClock{},
		initialBackoff:     DefaultInitialBackoff,
		maxBackoff:         DefaultMaxBackoff,
		maxInUnschedulable: DefaultMaxInUnschedulable,
		unschedulable:      map[string]*QueuedPodInfo{},
		inFlightPods:       map[types.UID]int{},
		nominator:          newNominator(),
	}
	for _, o := range opts {
		o(q)
	}
	q.cond.L = &q.lock
	q.activeQ = newKeyedHeap(infoKey, activeLess)
	q.backoffQ = newKeyedHeap(infoKey, func(a, b *QueuedPodInfo) bool {
		return q.backoffExpiry(a).Before(q.backoffExpiry(b))
	})
	return q
}

// Key names a pod in the queue.
func Key(pod *v1alpha1.Pod) string { return pod.Namespace + "/" + pod.Name }

func infoKey(p *QueuedPodInfo) string { return Key(p.Pod) }

func priority(pod *v1alpha1.Pod) int32 { return framework.PodPriority(pod) }

// activeLess orders the active queue: higher priority, then earlier
// creation, then earlier arrival in the queue.
func activeLess(a, b *QueuedPodInfo) bool {
	if pa, pb := priority(a.Pod), priority(b.Pod); pa != pb {
		return pa > pb
	}
	ca, cb := a.Pod.CreationTimestamp.Time, b.Pod.CreationTimestamp.Time
	if !ca.Equal(cb) {
		return ca.Before(cb)
	}
	return a.Timestamp.Before(b.Timestamp)
}

// Run flushes pods whose back-off ended, and pods left unschedulable too
// long, until ctx is done; then it closes the queue.
func (q *PriorityQueue) Run(ctx context.Context) {
	go wait.UntilWithContext(ctx, func(context.Context) { q.flushBackoffCompleted() }, backoffFlushPeriod)
	go wait.UntilWithContext(ctx, func(context.Context) { q.flushUnschedulableLeftover() }, unschedulableFlushPeriod)
	go func() {
		<-ctx.Done()
		q.Close()
	}()
}

// Close wakes Pop callers, which then return ErrClosed.
func (q *PriorityQueue) Close() {
	q.lock.Lock()
	defer q.lock.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// Add queues a new pending pod for scheduling now.
func (q *PriorityQueue) Add(pod *v1alpha1.Pod) {
	q.lock.Lock()
	defer q.lock.Unlock()
	now := q.clock.Now()
	key := Key(pod)
	q.backoffQ.Delete(key)
	delete(q.unschedulable, key)
	if existing, ok := q.activeQ.Get(key); ok {
		existing.Pod = pod
		q.activeQ.AddOrUpdate(existing)
	} else {
		q.activeQ.AddOrUpdate(&QueuedPodInfo{Pod: pod, Timestamp: now, InitialTimestamp: now})
	}
	q.changedLocked()
	q.cond.Broadcast()
}

// Update records a change to a pending pod. A pod waiting as unschedulable
// is retried if its spec, labels or annotations changed (a new toleration
// may make it fit); changes to its status alone, such as the scheduler's own
// PodScheduled condition, leave it where it is.
func (q *PriorityQueue) Update(oldPod, newPod *v1alpha1.Pod) {
	q.lock.Lock()
	defer q.lock.Unlock()
	key := Key(newPod)
	if p, ok := q.activeQ.Get(key); ok {
		p.Pod = newPod
		q.activeQ.AddOrUpdate(p)
		return
	}
	if p, ok := q.backoffQ.Get(key); ok {
		p.Pod = newPod
		q.backoffQ.AddOrUpdate(p)
		return
	}
	if p, ok := q.unschedulable[key]; ok {
		p.Pod = newPod
		if oldPod != nil && podSpecChanged(oldPod, newPod) {
			delete(q.unschedulable, key)
			q.requeueLocked(p)
			q.changedLocked()
			q.cond.Broadcast()
		}
		return
	}
	// Not queued: either new to us or being scheduled right now. A pod in
	// flight whose spec did not change (the scheduler's own status patch,
	// such as nominatedNodeName) is requeued by the scheduler itself.
	if _, inFlight := q.inFlightPods[newPod.UID]; inFlight && oldPod != nil && !podSpecChanged(oldPod, newPod) {
		return
	}
	// Otherwise queue it; the scheduler skips a pod it has already placed.
	now := q.clock.Now()
	q.activeQ.AddOrUpdate(&QueuedPodInfo{Pod: newPod, Timestamp: now, InitialTimestamp: now})
	q.changedLocked()
	q.cond.Broadcast()
}

func podSpecChanged(oldPod, newPod *v1alpha1.Pod) bool {
	return !reflect.DeepEqual(oldPod.Spec, newPod.Spec) ||
		!reflect.DeepEqual(oldPod.Labels, newPod.Labels) ||
		!reflect.DeepEqual(oldPod.Annotations, newPod.Annotations)
}

// Delete removes a pod from the queue: it was deleted, or bound.
func (q *PriorityQueue) Delete(pod *v1alpha1.Pod) {
	q.lock.Lock()
	defer q.lock.Unlock()
	key := Key(pod)
	_, a := q.activeQ.Delete(key)
	_, b := q.backoffQ.Delete(key)
	_, u := q.unschedulable[key]
	delete(q.unschedulable, key)
	if a || b || u {
		q.changedLocked()
	}
}

// Pop waits for a pod in the active queue and returns it, counting the
// attempt. It returns ErrClosed once the queue is closed.
func (q *PriorityQueue) Pop() (*QueuedPodInfo, error) {
	q.lock.Lock()
	defer q.lock.Unlock()
	for q.activeQ.Len() == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil, ErrClosed
	}
	p, _ := q.activeQ.Pop()
	p.Attempts++
	q.schedulingCycle++
	q.inFlightPods[p.Pod.UID] = q.eventsDropped + len(q.inFlightEvents)
	q.changedLocked()
	return p, nil
}

// SchedulingCycle returns the number of Pops so far; the scheduler passes
// the cycle a pod was popped in back to AddUnschedulableIfNotPresent.
func (q *PriorityQueue) SchedulingCycle() int64 {
	q.lock.Lock()
	defer q.lock.Unlock()
	return q.schedulingCycle
}

func (q *PriorityQueue) has(key string) bool {
	_, u := q.unschedulable[key]
	return u || q.activeQ.Has(key) || q.backoffQ.Has(key)
}

// AddUnschedulableIfNotPresent puts back a pod no node fits. It waits in the
// unschedulable set for a ClusterEvent that can help it, unless such an
// event arrived while it was being scheduled, in which case it only backs
// off. It ends the pod's cycle (Done).
func (q *PriorityQueue) AddUnschedulableIfNotPresent(p *QueuedPodInfo, _ int64) error {
	q.lock.Lock()
	defer q.lock.Unlock()
	defer q.doneLocked(p.Pod.UID)
	key := infoKey(p)
	if q.has(key) {
		return fmt.Errorf("pod %s is already queued", key)
	}
	p.Timestamp = q.clock.Now()
	if q.missedEventLocked(p) {
		q.backoffQ.AddOrUpdate(p)
	} else {
		q.unschedulable[key] = p
	}
	q.changedLocked()
	return nil
}

// missedEventLocked reports whether an event recorded while the pod was in
// flight may make it schedulable.
func (q *PriorityQueue) missedEventLocked(p *QueuedPodInfo) bool {
	since, ok := q.inFlightPods[p.Pod.UID]
	if !ok {
		return false
	}
	if since < q.eventsDropped {
		return true // its events were dropped: assume the worst
	}
	for _, e := range q.inFlightEvents[since-q.eventsDropped:] {
		if q.isPodWorthRequeuing(p, e.event, e.oldObj, e.newObj) {
			return true
		}
	}
	return false
}

// Done ends the scheduling cycle of a pod that was popped (scheduled, or
// requeued otherwise), so the events kept for it can go.
func (q *PriorityQueue) Done(uid types.UID) {
	q.lock.Lock()
	defer q.lock.Unlock()
	q.doneLocked(uid)
}

func (q *PriorityQueue) doneLocked(uid types.UID) {
	if _, ok := q.inFlightPods[uid]; !ok {
		return
	}
	delete(q.inFlightPods, uid)
	oldest := -1
	for _, since := range q.inFlightPods {
		if oldest < 0 || since < oldest {
			oldest = since
		}
	}
	switch {
	case oldest < 0:
		q.eventsDropped += len(q.inFlightEvents)
		clear(q.inFlightEvents)
		q.inFlightEvents = q.inFlightEvents[:0]
	case oldest > q.eventsDropped:
		n := oldest - q.eventsDropped
		q.inFlightEvents = q.inFlightEvents[n:]
		q.eventsDropped = oldest
	}
}

// isPodWorthRequeuing asks the hints of the plugins that rejected the pod
// whether the event can help it.
func (q *PriorityQueue) isPodWorthRequeuing(p *QueuedPodInfo, event framework.ClusterEvent, oldObj, newObj any) bool {
	if event.Resource == framework.WildCard || len(p.UnschedulablePlugins) == 0 {
		return true
	}
	logger := klog.Background()
	for plugin := range p.UnschedulablePlugins {
		for _, h := range q.hints[plugin] {
			if !h.Event.Match(event) {
				continue
			}
			if h.QueueingHintFn == nil {
				return true
			}
			hint, err := h.QueueingHintFn(logger, p.Pod, oldObj, newObj)
			if err != nil {
				logger.Error(err, "Queueing hint failed; retrying the pod", "pod", klog.KObj(p.Pod), "plugin", plugin, "event", event)
				return true
			}
			if hint == framework.Queue {
				return true
			}
		}
	}
	return false
}

// AddBackoffIfNotPresent puts back a pod whose attempt failed with an error
// (an API error while binding, say): it is retried after its back-off.
func (q *PriorityQueue) AddBackoffIfNotPresent(p *QueuedPodInfo) error {
	q.lock.Lock()
	defer q.lock.Unlock()
	key := infoKey(p)
	if q.has(key) {
		return fmt.Errorf("pod %s is already queued", key)
	}
	p.Timestamp = q.clock.Now()
	q.backoffQ.AddOrUpdate(p)
	q.changedLocked()
	q.doneLocked(p.Pod.UID)
	return nil
}

// MoveAllToActiveOrBackoff moves on the unschedulable pods the event may
// help (asking the queueing hints of the plugins that rejected each): to
// active, or to back-off while its back-off lasts. oldObj and newObj are
// the object before and after (nil where they do not apply).
func (q *PriorityQueue) MoveAllToActiveOrBackoff(event framework.ClusterEvent, oldObj, newObj any) {
	q.lock.Lock()
	defer q.lock.Unlock()
	if len(q.inFlightPods) > 0 {
		q.inFlightEvents = append(q.inFlightEvents, inFlightEvent{event: event, oldObj: oldObj, newObj: newObj})
	}
	moved := 0
	for key, p := range q.unschedulable {
		if !q.isPodWorthRequeuing(p, event, oldObj, newObj) {
			continue
		}
		delete(q.unschedulable, key)
		q.requeueLocked(p)
		moved++
	}
	if moved > 0 {
		klog.V(4).InfoS("Moved unschedulable pods after a cluster event", "event", event, "pods", moved)
		q.changedLocked()
		q.cond.Broadcast()
	}
}

// Requeue puts one pod straight back in back-off, whatever the queue it is
// in: its binding failed, which says nothing about the other pods.
func (q *PriorityQueue) Requeue(p *QueuedPodInfo) {
	q.lock.Lock()
	defer q.lock.Unlock()
	key := infoKey(p)
	q.activeQ.Delete(key)
	delete(q.unschedulable, key)
	p.Timestamp = q.clock.Now()
	q.backoffQ.AddOrUpdate(p)
	q.changedLocked()
}

// requeueLocked sends a pod leaving the unschedulable set to back-off if it
// is still backing off, to active otherwise.
func (q *PriorityQueue) requeueLocked(p *QueuedPodInfo) {
	if q.isBackingOff(p) {
		q.backoffQ.AddOrUpdate(p)
	} else {
		q.activeQ.AddOrUpdate(p)
	}
}

// backoffDuration doubles from the initial back-off with every attempt after
// the first, up to the maximum.
func (q *PriorityQueue) backoffDuration(p *QueuedPodInfo) time.Duration {
	d := q.initialBackoff
	for i := 1; i < p.Attempts; i++ {
		d *= 2
		if d >= q.maxBackoff {
			return q.maxBackoff
		}
	}
	return min(d, q.maxBackoff)
}

func (q *PriorityQueue) backoffExpiry(p *QueuedPodInfo) time.Time {
	return p.Timestamp.Add(q.backoffDuration(p))
}

func (q *PriorityQueue) isBackingOff(p *QueuedPodInfo) bool {
	return q.backoffExpiry(p).After(q.clock.Now())
}

func (q *PriorityQueue) flushBackoffCompleted() {
	q.lock.Lock()
	defer q.lock.Unlock()
	moved := false
	for {
		p, ok := q.backoffQ.Peek()
		if !ok || q.isBackingOff(p) {
			break
		}
		q.backoffQ.Pop()
		q.activeQ.AddOrUpdate(p)
		moved = true
	}
	if moved {
		q.changedLocked()
		q.cond.Broadcast()
	}
}

func (q *PriorityQueue) flushUnschedulableLeftover() {
	q.lock.Lock()
	defer q.lock.Unlock()
	now := q.clock.Now()
	moved := false
	for key, p := range q.unschedulable {
		if now.Sub(p.Timestamp) > q.maxInUnschedulable {
			delete(q.unschedulable, key)
			q.requeueLocked(p)
			moved = true
		}
	}
	if moved {
		klog.V(4).InfoS("Retrying pods left unschedulable too long", "event", framework.EventUnschedulableTimeout)
		q.changedLocked()
		q.cond.Broadcast()
	}
}

// PendingPods returns how many pods wait in each part of the queue.
func (q *PriorityQueue) PendingPods() PendingCounts {
	q.lock.Lock()
	defer q.lock.Unlock()
	return q.countsLocked()
}

func (q *PriorityQueue) countsLocked() PendingCounts {
	return PendingCounts{Active: q.activeQ.Len(), Backoff: q.backoffQ.Len(), Unschedulable: len(q.unschedulable)}
}

func (q *PriorityQueue) changedLocked() {
	if q.onChange != nil {
		q.onChange(q.countsLocked())
	}
}

// SetQueueingHints sets the events each plugin registered, before the
// queue is used.
func (q *PriorityQueue) SetQueueingHints(h map[string][]framework.ClusterEventWithHint) {
	q.lock.Lock()
	defer q.lock.Unlock()
	q.hints = h
}
