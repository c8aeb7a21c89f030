// Package queue holds the pods waiting to be scheduled, in three parts as
// kube-scheduler does:
//
//   - active: pods to try now, highest priority first, then oldest;
//   - back-off: pods that failed recently and wait 1 s, 2 s, 4 s... (at
//     most 10 s) per attempt before they are tried again;
//   - unschedulable: pods no node fits; they wait for a ClusterEvent that
//     could change that (a node added, a label or taint changed, resources
//     freed) and then move to active, or to back-off if still backing off.
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

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
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
	schedulingCycle  int64
	moveRequestCycle int64
	closed           bool
}

// Option configures a PriorityQueue.
type Option func(*PriorityQueue)

// WithClock sets the clock, for tests.
func WithClock(c clock.Clock) Option { return func(q *PriorityQueue) { q.clock = c } }

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

func priority(pod *v1alpha1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}

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
	// Not queued: either new to us or being scheduled right now. Queue it;
	// the scheduler skips a pod it has already placed.
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
// unschedulable set for a ClusterEvent, unless an event arrived while it
// was being scheduled (after podSchedulingCycle), in which case it only
// backs off.
func (q *PriorityQueue) AddUnschedulableIfNotPresent(p *QueuedPodInfo, podSchedulingCycle int64) error {
	q.lock.Lock()
	defer q.lock.Unlock()
	key := infoKey(p)
	if q.has(key) {
		return fmt.Errorf("pod %s is already queued", key)
	}
	p.Timestamp = q.clock.Now()
	if q.moveRequestCycle >= podSchedulingCycle {
		q.backoffQ.AddOrUpdate(p)
	} else {
		q.unschedulable[key] = p
	}
	q.changedLocked()
	return nil
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
	return nil
}

// MoveAllToActiveOrBackoff moves every unschedulable pod on after an event
// that could make it fit: to active, or to back-off while its back-off
// lasts.
func (q *PriorityQueue) MoveAllToActiveOrBackoff(event ClusterEvent) {
	q.lock.Lock()
	defer q.lock.Unlock()
	moved := len(q.unschedulable)
	for key, p := range q.unschedulable {
		delete(q.unschedulable, key)
		q.requeueLocked(p)
	}
	q.moveRequestCycle = q.schedulingCycle
	if moved > 0 {
		klog.V(4).InfoS("Moved unschedulable pods after a cluster event", "event", event, "pods", moved)
		q.changedLocked()
		q.cond.Broadcast()
	}
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
		klog.V(4).InfoS("Retrying pods left unschedulable too long", "event", UnschedulableTimeout)
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
