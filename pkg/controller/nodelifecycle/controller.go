// Package nodelifecycle watches node heartbeats (Leases in skiff-node-lease)
// and marks a node whose kubelet has gone quiet: its Ready condition becomes
// Unknown and it is tainted node.kubernetes.io/unreachable:NoExecute; a node
// that reports Ready=False is tainted node.kubernetes.io/not-ready:NoExecute.
// The taints go when the node is Ready again. Evicting the pods is the
// tainteviction controller's job, as in kube-controller-manager.
package nodelifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/controller"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	coreinformers "skiff.dev/skiff/pkg/generated/informers/externalversions/core/v1alpha1"
	corelisters "skiff.dev/skiff/pkg/generated/listers/core/v1alpha1"
)

const (
	// TaintNodeUnreachable is put on a node whose kubelet stopped renewing
	// its Lease (Ready=Unknown).
	TaintNodeUnreachable = "node.kubernetes.io/unreachable"
	// TaintNodeNotReady is put on a node whose kubelet reports Ready=False.
	TaintNodeNotReady = "node.kubernetes.io/not-ready"
	// NodeLeaseNamespace holds the kubelets' heartbeat Leases.
	NodeLeaseNamespace = "skiff-node-lease"

	// Event reasons, as upstream's node lifecycle controller records them.
	reasonNodeNotReady = "NodeNotReady"
	reasonNodeReady    = "NodeReady"

	// monitorPeriod is how often a node is looked at while no node is
	// ready (upstream's --node-monitor-period).
	monitorPeriod = 5 * time.Second

	// retryAfterThrottle is how soon a node whose taint the eviction rate
	// held back is looked at again.
	retryAfterThrottle = 100 * time.Millisecond
)

// Config tunes the controller; the zero value of a field is not valid.
type Config struct {
	// GracePeriod is how long a node's Lease may go unrenewed before the
	// node is marked Ready=Unknown (--node-monitor-grace-period).
	GracePeriod time.Duration
	// EvictionRate is how many nodes a second may get a NoExecute taint
	// (--node-eviction-rate). Upstream keeps one token bucket per zone and
	// slows down when a zone is partly disrupted; skiff has no zones, so one
	// bucket serves the whole cluster. Removing a taint is never throttled.
	EvictionRate float32
}

// health is what the controller last saw of a node's heartbeat. Times are
// the controller's own clock, never the kubelet's, so clock skew between
// machines cannot make a node look alive or dead.
type health struct {
	probeTime      time.Time
	leaseRenew     *metav1.MicroTime
	readyHeartbeat metav1.Time
	readyStatus    v1alpha1.ConditionStatus
	// staleRV is the resourceVersion of the node this controller last
	// wrote over: seen again in the cache, it is a view from before that
	// write, and acting on it would repeat the write.
	staleRV string
}

// Controller is the node lifecycle controller.
type Controller struct {
	client   clientset.Interface
	recorder record.EventRecorder
	clock    clock.Clock
	config   Config

	nodes       corelisters.NodeLister
	leases      corelisters.LeaseLister
	nodesSynced cache.InformerSynced
	leaseSynced cache.InformerSynced

	queue   workqueue.TypedRateLimitingInterface[string]
	limiter flowcontrol.RateLimiter

	mu     sync.Mutex
	health map[string]*health
}

// New returns a controller fed by the given informers.
func New(client clientset.Interface, nodes coreinformers.NodeInformer, leases coreinformers.LeaseInformer,
	recorder record.EventRecorder, clk clock.WithTicker, config Config) (*Controller, error) {
	if config.GracePeriod <= 0 {
		return nil, fmt.Errorf("node monitor grace period must be positive, got %v", config.GracePeriod)
	}
	if config.EvictionRate <= 0 {
		return nil, fmt.Errorf("node eviction rate must be positive, got %v", config.EvictionRate)
	}
	c := &Controller{
		client:      client,
		recorder:    recorder,
		clock:       clk,
		config:      config,
		nodes:       nodes.Lister(),
		leases:      leases.Lister(),
		nodesSynced: nodes.Informer().HasSynced,
		leaseSynced: leases.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "nodelifecycle", Clock: clk}),
		limiter: flowcontrol.NewTokenBucketRateLimiterWithClock(config.EvictionRate, 1, clk),
		health:  map[string]*health{},
	}
	if _, err := nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	}); err != nil {
		return nil, fmt.Errorf("watch nodes: %w", err)
	}
	if _, err := leases.Informer().AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: func(obj interface{}) bool {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			l, ok := obj.(*v1alpha1.Lease)
			return ok && l.Namespace == NodeLeaseNamespace
		},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueue,
			UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
			DeleteFunc: c.enqueue,
		},
	}); err != nil {
		return nil, fmt.Errorf("watch leases: %w", err)
	}
	return c, nil
}

// enqueue queues the node an object is about: a Node, or a node's Lease
// (named after it).
func (c *Controller) enqueue(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, err := meta(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(m.GetName())
}

func meta(obj interface{}) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("unexpected object %T", obj)
	}
	return m, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	klog.InfoS("Node lifecycle", "gracePeriod", c.config.GracePeriod, "evictionRate", c.config.EvictionRate)
	w := controller.Workers{Name: "nodelifecycle", Queue: c.queue, Sync: c.syncNode}
	w.Run(ctx, workers, c.nodesSynced, c.leaseSynced)
}

// syncNode brings one node's Ready condition and NoExecute taints in line
// with its heartbeat. It returns when to look at the node again even if
// nothing changes: when its grace period would run out.
func (c *Controller) syncNode(ctx context.Context, name string) (time.Duration, error) {
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		c.mu.Lock()
		delete(c.health, name)
		c.mu.Unlock()
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("get node %s: %w", name, err)
	}
	if c.isStale(node) {
		// The watch event of our own write brings the node back.
		return 0, nil
	}
	now := c.clock.Now()
	ready := readyCondition(node)
	remaining := c.observe(node, ready, now)

	if remaining <= 0 && (ready == nil || ready.Status != v1alpha1.ConditionUnknown) {
		before := node.ResourceVersion
		if node, err = c.markUnknown(ctx, node, ready, now); err != nil {
			return 0, err
		}
		c.wroteOver(name, before)
		ready = readyCondition(node)
		// A later True or False is then the kubelet's, even if the cache
		// never showed this Unknown.
		c.mu.Lock()
		if h, ok := c.health[name]; ok {
			h.readyStatus = v1alpha1.ConditionUnknown
		}
		c.mu.Unlock()
	}

	requeue, err := c.reconcileTaints(ctx, node, ready, now)
	if err != nil {
		return 0, err
	}
	if remaining > 0 && (requeue == 0 || remaining < requeue) {
		requeue = remaining
	}
	return requeue, nil
}

// wroteOver records that the node at resourceVersion rv was just written.
func (c *Controller) wroteOver(name, rv string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.health[name]; ok {
		h.staleRV = rv
	}
}

// isStale reports whether the cached node is one this controller already
// wrote over. Only equality of resourceVersions is used, as the API allows.
func (c *Controller) isStale(node *v1alpha1.Node) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.health[node.Name]
	return ok && h.staleRV != "" && h.staleRV == node.ResourceVersion
}

// observe records the node's latest heartbeat and returns how much of its
// grace period is left. A heartbeat is a renewed Lease, a new Ready
// heartbeat time, or the kubelet setting Ready to True or False (only this
// controller sets Unknown): the Lease and the Node arrive through
// different watches, and a kubelet's status write must not be overwritten
// because its Lease renewal has not arrived yet. A node seen for the first
// time gets a whole grace period, as upstream gives it.
func (c *Controller) observe(node *v1alpha1.Node, ready *v1alpha1.NodeCondition, now time.Time) time.Duration {
	var renew *metav1.MicroTime
	if lease, err := c.leases.Leases(NodeLeaseNamespace).Get(node.Name); err == nil && lease.Spec.RenewTime != nil {
		renew = lease.Spec.RenewTime.DeepCopy()
	}
	var beat metav1.Time
	var status v1alpha1.ConditionStatus
	if ready != nil {
		beat, status = ready.LastHeartbeatTime, ready.Status
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.health[node.Name]
	switch {
	case !ok:
		h = &health{probeTime: now, leaseRenew: renew, readyHeartbeat: beat, readyStatus: status}
		c.health[node.Name] = h
	case renew != nil && (h.leaseRenew == nil || !renew.Equal(h.leaseRenew)),
		!beat.Equal(&h.readyHeartbeat),
		status != h.readyStatus && status != v1alpha1.ConditionUnknown:
		h.probeTime, h.leaseRenew, h.readyHeartbeat = now, renew, beat
	}
	h.readyStatus = status
	return h.probeTime.Add(c.config.GracePeriod).Sub(now)
}

func readyCondition(node *v1alpha1.Node) *v1alpha1.NodeCondition {
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == v1alpha1.NodeReady {
			return &node.Status.Conditions[i]
		}
	}
	return nil
}

// markUnknown sets the node's Ready condition to Unknown with a strategic
// merge patch keyed on the condition type: the kubelet's other conditions
// stay as they are, and a concurrent kubelet write is not overwritten.
func (c *Controller) markUnknown(ctx context.Context, node *v1alpha1.Node, ready *v1alpha1.NodeCondition, now time.Time) (*v1alpha1.Node, error) {
	cond := v1alpha1.NodeCondition{
		Type:               v1alpha1.NodeReady,
		Status:             v1alpha1.ConditionUnknown,
		Reason:             "NodeStatusUnknown",
		Message:            "Kubelet stopped posting node status.",
		LastTransitionTime: metav1.NewTime(now),
	}
	if ready == nil {
		cond.Reason, cond.Message = "NodeStatusNeverUpdated", "Kubelet never posted node status."
	} else {
		cond.LastHeartbeatTime = ready.LastHeartbeatTime
	}
	patch, err := conditionPatch(node, cond)
	if err != nil {
		return nil, err
	}
	out, err := c.client.CoreV1alpha1().Nodes().Patch(ctx, node.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		return nil, fmt.Errorf("mark node %s Ready=Unknown: %w", node.Name, err)
	}
	klog.V(2).InfoS("Node stopped posting status", "node", node.Name, "gracePeriod", c.config.GracePeriod)
	c.recorder.Eventf(nodeRef(node), corev1.EventTypeNormal, reasonNodeNotReady, "Node %s status is now: %s", node.Name, reasonNodeNotReady)
	return out, nil
}

// conditionPatch is the strategic merge patch that sets one condition,
// merged by type into the node's other conditions. Its metadata.uid is a
// precondition: a node deleted and recreated meanwhile is left alone.
func conditionPatch(node *v1alpha1.Node, cond v1alpha1.NodeCondition) ([]byte, error) {
	patch, err := json.Marshal(map[string]interface{}{
		"metadata": map[string]interface{}{"uid": node.UID},
		"status":   map[string]interface{}{"conditions": []v1alpha1.NodeCondition{cond}},
	})
	if err != nil {
		return nil, fmt.Errorf("build condition patch for node %s: %w", node.Name, err)
	}
	return patch, nil
}

// reconcileTaints makes the node's NoExecute taints match its Ready
// condition. Adding a taint waits for the eviction rate; it returns how
// soon to retry when it had to wait.
func (c *Controller) reconcileTaints(ctx context.Context, node *v1alpha1.Node, ready *v1alpha1.NodeCondition, now time.Time) (time.Duration, error) {
	want := ""
	switch {
	case ready == nil:
	case ready.Status == v1alpha1.ConditionUnknown:
		want = TaintNodeUnreachable
	case ready.Status == v1alpha1.ConditionFalse:
		want = TaintNodeNotReady
	}
	var requeue time.Duration
	if want != "" && c.allNodesUnhealthy(node.Name) {
		// Every node unhealthy at once is far likelier a fault between the
		// nodes and the control plane than the death of every node:
		// upstream's "master disruption mode" evicts nothing then, and
		// takes its NoExecute taints off. Look again at the monitor period.
		klog.V(2).InfoS("No node is ready; evicting nothing until one is", "node", node.Name)
		want, requeue = "", monitorPeriod
	}
	taints, changed, adding := desiredTaints(node.Spec.Taints, want, now)
	if !changed {
		return requeue, nil
	}
	if adding && !c.limiter.TryAccept() {
		klog.V(4).InfoS("Eviction rate reached; tainting later", "node", node.Name, "taint", want)
		return retryAfterThrottle, nil
	}
	next := node.DeepCopy()
	next.Spec.Taints = taints
	// Update sends the node's resourceVersion: a concurrent change makes
	// it fail with a conflict and the node is synced again.
	if _, err := c.client.CoreV1alpha1().Nodes().Update(ctx, next, metav1.UpdateOptions{}); err != nil {
		return 0, fmt.Errorf("update NoExecute taints of node %s: %w", node.Name, err)
	}
	c.wroteOver(node.Name, node.ResourceVersion)
	if want == "" && requeue > 0 {
		return requeue, nil
	}
	if want == "" {
		klog.V(2).InfoS("Node is ready again; removed NoExecute taints", "node", node.Name)
		c.recorder.Eventf(nodeRef(node), corev1.EventTypeNormal, reasonNodeReady, "Node %s status is now: %s", node.Name, reasonNodeReady)
	} else {
		klog.V(2).InfoS("Tainted node", "node", node.Name, "taint", want)
		if want == TaintNodeNotReady {
			c.recorder.Eventf(nodeRef(node), corev1.EventTypeNormal, reasonNodeNotReady, "Node %s status is now: %s", node.Name, reasonNodeNotReady)
		}
	}
	return 0, nil
}

// allNodesUnhealthy reports whether no node but, maybe, the one being
// synced (unhealthy itself) is Ready.
func (c *Controller) allNodesUnhealthy(syncing string) bool {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return false
	}
	for _, n := range nodes {
		if n.Name == syncing {
			continue
		}
		if r := readyCondition(n); r != nil && r.Status == v1alpha1.ConditionTrue {
			return false
		}
	}
	return true
}

// desiredTaints returns the node's taints with exactly the wanted
// lifecycle taint (none when want is ""), whether that differs from
// taints, and whether a taint is being added.
func desiredTaints(taints []v1alpha1.Taint, want string, now time.Time) ([]v1alpha1.Taint, bool, bool) {
	var out []v1alpha1.Taint
	has := false
	changed := false
	for _, t := range taints {
		if t.Effect == v1alpha1.TaintEffectNoExecute && (t.Key == TaintNodeUnreachable || t.Key == TaintNodeNotReady) {
			if t.Key == want && !has {
				has = true
				out = append(out, t)
				continue
			}
			changed = true
			continue
		}
		out = append(out, t)
	}
	if want != "" && !has {
		out = append(out, v1alpha1.Taint{Key: want, Effect: v1alpha1.TaintEffectNoExecute, TimeAdded: &metav1.Time{Time: now}})
		return out, true, true
	}
	return out, changed, false
}

func nodeRef(node *v1alpha1.Node) *v1alpha1.Node {
	ref := node.DeepCopy()
	ref.Kind, ref.APIVersion = "Node", v1alpha1.SchemeGroupVersion.String()
	return ref
}
