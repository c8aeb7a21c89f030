// Package cache keeps the scheduler's picture of the cluster: every node
// with the pods bound to it and what they request, plus the pods the
// scheduler has placed but the API server has not yet confirmed
// ("assumed"). Each scheduling cycle reads a Snapshot of it, updated
// incrementally: the cache keeps its nodes in a list ordered by the last
// change, so a snapshot copies only the nodes changed since its last update
// without looking at the others (as kube-scheduler's cache does).
//
// An assumed pod counts against its node at once, so the next pod can be
// scheduled while the binding is still in flight. The informer's bound pod
// confirms the assumption; a failed binding forgets it; one never confirmed
// expires some time after its binding finished. Expiry pops a deadline heap,
// so it costs nothing while no assumption is due.
package cache

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// DefaultAssumedPodTTL is how long after its binding finished an assumed
// pod waits for the informer to confirm it before it is dropped.
const DefaultAssumedPodTTL = 30 * time.Second

// cleanupPeriod is how often the deadline heap is looked at.
const cleanupPeriod = time.Second

type podState struct {
	info     *framework.PodInfo
	nodeName string
	// assumed: placed by this scheduler, not yet seen bound by the informer.
	assumed bool
	// deadline is when an assumed pod whose binding has finished expires;
	// zero while the binding is in flight.
	deadline time.Time
}

// nodeItem is a node in the cache's list, most recently changed first.
type nodeItem struct {
	info       *framework.NodeInfo
	prev, next *nodeItem
}

// Cache is the scheduler's cache. It is safe for concurrent use.
type Cache struct {
	ttl   time.Duration
	clock clock.Clock

	mu    sync.Mutex
	nodes map[string]*nodeItem
	head  *nodeItem
	// nodesWithObject counts the nodes that have a Node object.
	nodesWithObject int
	pods            map[types.UID]*podState
	expiry          deadlineHeap
}

// New returns an empty cache. Assumed pods expire ttl after their binding
// finished (never when ttl is 0). clk is the clock, nil for the real one.
func New(ttl time.Duration, clk clock.Clock) *Cache {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Cache{
		ttl:   ttl,
		clock: clk,
		nodes: map[string]*nodeItem{},
		pods:  map[types.UID]*podState{},
	}
}

// Run expires assumed pods until ctx is done.
func (c *Cache) Run(ctx context.Context) {
	wait.UntilWithContext(ctx, func(context.Context) { c.cleanupExpiredAssumedPods() }, cleanupPeriod)
}

func podName(pod *v1alpha1.Pod) string { return pod.Namespace + "/" + pod.Name }

// moveToHeadLocked marks the node as the most recently changed.
func (c *Cache) moveToHeadLocked(it *nodeItem) {
	if c.head == it {
		return
	}
	if it.prev != nil {
		it.prev.next = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	}
	it.prev, it.next = nil, c.head
	if c.head != nil {
		c.head.prev = it
	}
	c.head = it
}

func (c *Cache) removeItemLocked(name string, it *nodeItem) {
	if it.prev != nil {
		it.prev.next = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	}
	if c.head == it {
		c.head = it.next
	}
	delete(c.nodes, name)
}

// AssumePod charges pod (with spec.nodeName set) to its node before the
// binding is sent.
func (c *Cache) AssumePod(pod *v1alpha1.Pod) error {
	if pod.Spec.NodeName == "" {
		return fmt.Errorf("assume pod %s: no node name", podName(pod))
	}
	info := framework.NewPodInfo(pod)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[pod.UID]; ok {
		return fmt.Errorf("assume pod %s: already in the cache", podName(pod))
	}
	c.addPodLocked(info, true)
	return nil
}

// FinishBinding starts the assumed pod's expiry clock: the binding call
// returned, so the informer should show it bound within the TTL.
func (c *Cache) FinishBinding(pod *v1alpha1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.pods[pod.UID]
	if !ok || !s.assumed {
		return nil // confirmed already, or gone
	}
	if c.ttl > 0 {
		s.deadline = c.clock.Now().Add(c.ttl)
		heap.Push(&c.expiry, expiryEntry{uid: pod.UID, deadline: s.deadline})
	}
	return nil
}

// ForgetPod undoes AssumePod after a failed binding.
func (c *Cache) ForgetPod(pod *v1alpha1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.pods[pod.UID]
	if !ok {
		return nil
	}
	if !s.assumed {
		return fmt.Errorf("forget pod %s: the informer has confirmed it on node %s", podName(pod), s.nodeName)
	}
	c.removePodLocked(s)
	return nil
}

// IsAssumedPod reports whether the pod is assumed and not yet confirmed.
func (c *Cache) IsAssumedPod(pod *v1alpha1.Pod) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.pods[pod.UID]
	return ok && s.assumed
}

// AddPod records a pod the informer shows bound (a new one, a changed one,
// or the confirmation of an assumed one).
func (c *Cache) AddPod(pod *v1alpha1.Pod) error {
	if pod.Spec.NodeName == "" {
		return fmt.Errorf("add pod %s: not bound to a node", podName(pod))
	}
	info := framework.NewPodInfo(pod)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.pods[pod.UID]; ok {
		if s.assumed && s.nodeName != pod.Spec.NodeName {
			klog.V(2).InfoS("Pod assumed on one node was bound to another", "pod", klog.KObj(pod), "assumedNode", s.nodeName, "node", pod.Spec.NodeName)
		}
		c.removePodLocked(s)
	}
	c.addPodLocked(info, false)
	return nil
}

// RemovePod forgets a pod that was deleted or finished.
func (c *Cache) RemovePod(pod *v1alpha1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.pods[pod.UID]; ok {
		c.removePodLocked(s)
	}
	return nil
}

func (c *Cache) addPodLocked(info *framework.PodInfo, assumed bool) {
	s := &podState{info: info, nodeName: info.Pod.Spec.NodeName, assumed: assumed}
	it, ok := c.nodes[s.nodeName]
	if !ok {
		it = &nodeItem{info: framework.NewNodeInfo(nil)}
		c.nodes[s.nodeName] = it
	}
	it.info.AddPodInfo(info)
	c.moveToHeadLocked(it)
	c.pods[info.Pod.UID] = s
}

func (c *Cache) removePodLocked(s *podState) {
	if it, ok := c.nodes[s.nodeName]; ok {
		it.info.RemovePod(s.info.Pod)
		if it.info.Node() == nil && len(it.info.Pods) == 0 {
			c.removeItemLocked(s.nodeName, it)
		} else {
			c.moveToHeadLocked(it)
		}
	}
	delete(c.pods, s.info.Pod.UID)
}

// cleanupExpiredAssumedPods drops the assumed pods whose deadline passed.
// Entries for pods confirmed, forgotten or re-assumed since are stale and
// just popped.
func (c *Cache) cleanupExpiredAssumedPods() {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.expiry.Len() > 0 && now.After(c.expiry[0].deadline) {
		e := heap.Pop(&c.expiry).(expiryEntry)
		s, ok := c.pods[e.uid]
		if !ok || !s.assumed || !s.deadline.Equal(e.deadline) {
			continue
		}
		klog.InfoS("Assumed pod was never confirmed bound; releasing its resources", "pod", klog.KObj(s.info.Pod), "node", s.nodeName)
		c.removePodLocked(s)
	}
}

// AddNode records a node (or a new version of it).
func (c *Cache) AddNode(node *v1alpha1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.nodes[node.Name]
	if !ok {
		it = &nodeItem{info: framework.NewNodeInfo(nil)}
		c.nodes[node.Name] = it
	}
	if it.info.Node() == nil {
		c.nodesWithObject++
	}
	it.info.SetNode(node)
	c.moveToHeadLocked(it)
}

// UpdateNode records a node's new version.
func (c *Cache) UpdateNode(_, newNode *v1alpha1.Node) {
	c.AddNode(newNode)
}

// RemoveNode forgets a deleted node. While pods are still charged to it the
// entry stays, without its Node object, so they are not double counted
// should it come back.
func (c *Cache) RemoveNode(node *v1alpha1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.nodes[node.Name]
	if !ok {
		return
	}
	if it.info.Node() != nil {
		c.nodesWithObject--
	}
	if len(it.info.Pods) == 0 {
		c.removeItemLocked(node.Name, it)
		return
	}
	it.info.RemoveNode()
	c.moveToHeadLocked(it)
}

// NodeInfo returns a copy of a node's entry, for tests and debugging.
func (c *Cache) NodeInfo(name string) (*framework.NodeInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.nodes[name]
	if !ok {
		return nil, false
	}
	return it.info.Clone(), true
}

// PodCount returns how many pods the cache holds, assumed or confirmed.
func (c *Cache) PodCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pods)
}

// expiryEntry is an assumed pod's deadline.
type expiryEntry struct {
	uid      types.UID
	deadline time.Time
}

// deadlineHeap is a min-heap of deadlines (container/heap).
type deadlineHeap []expiryEntry

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].deadline.Before(h[j].deadline) }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
