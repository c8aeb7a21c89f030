// Package cache keeps the scheduler's picture of the cluster: every node
// with the resources requested by the pods bound to it, plus the pods the
// scheduler has placed but the API server has not yet confirmed
// ("assumed"). Each scheduling cycle reads a Snapshot of it, so a node's
// free capacity is known without listing pods.
//
// An assumed pod counts against its node at once, so the next pod can be
// scheduled while the binding is still in flight. The informer's bound pod
// confirms the assumption; a failed binding forgets it; one never confirmed
// expires some time after its binding finished.
package cache

import (
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

// cleanupPeriod is how often expired assumed pods are looked for.
const cleanupPeriod = time.Second

type podState struct {
	pod      *v1alpha1.Pod
	nodeName string
	requests framework.PodRequests
	// assumed: placed by this scheduler, not yet seen bound by the informer.
	assumed bool
	// deadline is when an assumed pod whose binding finished expires; zero
	// while the binding is in flight.
	deadline time.Time
}

// Cache is safe for concurrent use by the informer handlers, the
// scheduling loop and the binding goroutines.
type Cache struct {
	ttl   time.Duration
	clock clock.Clock

	mu    sync.Mutex
	nodes map[string]*framework.NodeInfo
	pods  map[types.UID]*podState
}

// New returns an empty cache. Assumed pods expire ttl after their binding
// finished; ttl 0 means never.
func New(ttl time.Duration, clk clock.Clock) *Cache {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Cache{
		ttl:   ttl,
		clock: clk,
		nodes: map[string]*framework.NodeInfo{},
		pods:  map[types.UID]*podState{},
	}
}

// Run drops expired assumed pods until ctx is done.
func (c *Cache) Run(ctx context.Context) {
	wait.UntilWithContext(ctx, func(context.Context) { c.cleanupExpiredAssumedPods() }, cleanupPeriod)
}

func podName(pod *v1alpha1.Pod) string { return pod.Namespace + "/" + pod.Name }

// AssumePod reserves pod.Spec.NodeName's resources for a pod the scheduler
// has just placed and is about to bind.
func (c *Cache) AssumePod(pod *v1alpha1.Pod) error {
	if pod.Spec.NodeName == "" {
		return fmt.Errorf("assume pod %s: no node name", podName(pod))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[pod.UID]; ok {
		return fmt.Errorf("assume pod %s: already in the cache", podName(pod))
	}
	c.addPodLocked(pod, true)
	return nil
}

// FinishBinding starts the expiry clock of an assumed pod once its binding
// request has returned.
func (c *Cache) FinishBinding(pod *v1alpha1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.pods[pod.UID]
	if !ok || !s.assumed {
		// Already confirmed by the informer, or deleted: nothing to expire.
		return nil
	}
	if c.ttl > 0 {
		s.deadline = c.clock.Now().Add(c.ttl)
	}
	return nil
}

// ForgetPod releases an assumed pod's resources after its binding failed.
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

// AddPod records a pod the informer saw bound to a node. If the scheduler
// had assumed it, this confirms the assumption, moving it if the pod ended
// up on another node (another scheduler bound it first).
func (c *Cache) AddPod(pod *v1alpha1.Pod) error {
	if pod.Spec.NodeName == "" {
		return fmt.Errorf("add pod %s: not bound to a node", podName(pod))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.pods[pod.UID]; ok {
		if s.assumed && s.nodeName != pod.Spec.NodeName {
			klog.V(2).InfoS("Pod assumed on one node was bound to another", "pod", klog.KObj(pod), "assumedNode", s.nodeName, "node", pod.Spec.NodeName)
		}
		c.removePodLocked(s)
	}
	c.addPodLocked(pod, false)
	return nil
}

// RemovePod releases a pod's resources: it was deleted, or finished.
func (c *Cache) RemovePod(pod *v1alpha1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.pods[pod.UID]; ok {
		c.removePodLocked(s)
	}
	return nil
}

func (c *Cache) addPodLocked(pod *v1alpha1.Pod, assumed bool) {
	s := &podState{
		pod:      pod,
		nodeName: pod.Spec.NodeName,
		requests: framework.ComputePodRequests(pod),
		assumed:  assumed,
	}
	n, ok := c.nodes[s.nodeName]
	if !ok {
		// A pod bound to a node the informer has not shown yet: account
		// for it now so the node is right when it appears.
		n = framework.NewNodeInfo(nil)
		c.nodes[s.nodeName] = n
	}
	n.AddPod(s.requests)
	c.pods[pod.UID] = s
}

func (c *Cache) removePodLocked(s *podState) {
	if n, ok := c.nodes[s.nodeName]; ok {
		n.RemovePod(s.requests)
		if n.Node() == nil && n.PodCount == 0 {
			delete(c.nodes, s.nodeName)
		}
	}
	delete(c.pods, s.pod.UID)
}

func (c *Cache) cleanupExpiredAssumedPods() {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.pods {
		if s.assumed && !s.deadline.IsZero() && now.After(s.deadline) {
			klog.InfoS("Assumed pod was never confirmed bound; releasing its resources", "pod", klog.KObj(s.pod), "node", s.nodeName)
			c.removePodLocked(s)
		}
	}
}

// AddNode records a new node.
func (c *Cache) AddNode(node *v1alpha1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.nodes[node.Name]; ok {
		n.SetNode(node)
		return
	}
	c.nodes[node.Name] = framework.NewNodeInfo(node)
}

// UpdateNode records a change to a node (labels, taints, allocatable...).
func (c *Cache) UpdateNode(_, newNode *v1alpha1.Node) {
	c.AddNode(newNode)
}

// RemoveNode forgets a node. Pods still bound to it keep being accounted
// until they are deleted, in case the node comes back.
func (c *Cache) RemoveNode(node *v1alpha1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[node.Name]
	if !ok {
		return
	}
	if n.PodCount == 0 {
		delete(c.nodes, node.Name)
		return
	}
	n.RemoveNode()
}

// NodeInfo returns a copy of the cache's view of a node, for tests and
// debugging.
func (c *Cache) NodeInfo(name string) (*framework.NodeInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[name]
	if !ok {
		return nil, false
	}
	return n.Clone(), true
}

// PodCount returns how many pods (bound and assumed) the cache holds.
func (c *Cache) PodCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pods)
}
