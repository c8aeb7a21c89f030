// Package tainteviction deletes the pods on nodes with NoExecute taints: at
// once when a pod does not tolerate a taint, after the shortest matching
// tolerationSeconds when it does, never when it tolerates every taint with
// no time limit. It is kube-controller-manager's taint-eviction-controller;
// its timed workers are a delaying workqueue here.
package tainteviction

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/controller"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	coreinformers "skiff.dev/skiff/pkg/generated/informers/externalversions/core/v1alpha1"
	corelisters "skiff.dev/skiff/pkg/generated/listers/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/plugins/helper"
)

// reasonEviction is upstream's reason for both marking a pod for deletion
// and cancelling that.
const reasonEviction = "TaintManagerEviction"

// nodeNameIndex indexes pods by spec.nodeName, so a node's taint change
// finds its pods without a scan.
const nodeNameIndex = "spec.nodeName"

// pending is a pod's scheduled eviction: since when its node has had
// NoExecute taints the pod tolerates for a while.
type pending struct {
	uid   types.UID
	since time.Time
}

// Controller is the taint eviction controller.
type Controller struct {
	client   clientset.Interface
	recorder record.EventRecorder
	clock    clock.WithTicker

	pods        corelisters.PodLister
	podIndex    cache.Indexer
	nodes       corelisters.NodeLister
	podsSynced  cache.InformerSynced
	nodesSynced cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]

	mu      sync.Mutex
	pending map[string]pending
}

// New returns a controller fed by the given informers.
func New(client clientset.Interface, pods coreinformers.PodInformer, nodes coreinformers.NodeInformer,
	recorder record.EventRecorder, clk clock.WithTicker) (*Controller, error) {
	if err := pods.Informer().AddIndexers(cache.Indexers{nodeNameIndex: func(obj interface{}) ([]string, error) {
		pod, ok := obj.(*v1alpha1.Pod)
		if !ok || pod.Spec.NodeName == "" {
			return nil, nil
		}
		return []string{pod.Spec.NodeName}, nil
	}}); err != nil {
		return nil, fmt.Errorf("index pods by node: %w", err)
	}
	c := &Controller{
		client:      client,
		recorder:    recorder,
		clock:       clk,
		pods:        pods.Lister(),
		podIndex:    pods.Informer().GetIndexer(),
		nodes:       nodes.Lister(),
		podsSynced:  pods.Informer().HasSynced,
		nodesSynced: nodes.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "tainteviction", Clock: clk}),
		pending: map[string]pending{},
	}
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueuePod,
		UpdateFunc: func(_, obj interface{}) { c.enqueuePod(obj) },
		DeleteFunc: c.enqueuePod,
	}); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	if _, err := nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueueNode,
		UpdateFunc: func(oldObj, obj interface{}) {
			oldNode, ok1 := oldObj.(*v1alpha1.Node)
			node, ok2 := obj.(*v1alpha1.Node)
			if ok1 && ok2 && sameNoExecuteTaints(oldNode, node) {
				return
			}
			c.enqueueNode(obj)
		},
		DeleteFunc: c.enqueueNode,
	}); err != nil {
		return nil, fmt.Errorf("watch nodes: %w", err)
	}
	return c, nil
}

func (c *Controller) enqueuePod(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

// enqueueNode queues every pod bound to the node.
func (c *Controller) enqueueNode(obj interface{}) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	node, ok := obj.(*v1alpha1.Node)
	if !ok {
		utilruntime.HandleError(fmt.Errorf("unexpected object %T", obj))
		return
	}
	pods, err := c.podIndex.ByIndex(nodeNameIndex, node.Name)
	if err != nil {
		utilruntime.HandleError(fmt.Errorf("list pods on node %s: %w", node.Name, err))
		return
	}
	for _, p := range pods {
		c.enqueuePod(p)
	}
}

func noExecuteTaints(node *v1alpha1.Node) []v1alpha1.Taint {
	var out []v1alpha1.Taint
	for _, t := range node.Spec.Taints {
		if t.Effect == v1alpha1.TaintEffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}

func sameNoExecuteTaints(a, b *v1alpha1.Node) bool {
	ta, tb := noExecuteTaints(a), noExecuteTaints(b)
	if len(ta) != len(tb) {
		return false
	}
	for i := range ta {
		if ta[i].Key != tb[i].Key || ta[i].Value != tb[i].Value {
			return false
		}
	}
	return true
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	w := controller.Workers{Name: "tainteviction", Queue: c.queue, Sync: c.syncPod}
	w.Run(ctx, workers, c.podsSynced, c.nodesSynced)
}

// syncPod evicts the pod if its node's NoExecute taints say so now, or
// returns when to look again.
func (c *Controller) syncPod(ctx context.Context, key string) (time.Duration, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, err
	}
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.cancel(key, nil)
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("get pod %s: %w", key, err)
	}
	if pod.DeletionTimestamp != nil || pod.Spec.NodeName == "" {
		c.cancel(key, nil)
		return 0, nil
	}
	node, err := c.nodes.Get(pod.Spec.NodeName)
	if apierrors.IsNotFound(err) {
		// Pods on a node that is gone are the pod GC's.
		c.cancel(key, nil)
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("get node %s: %w", pod.Spec.NodeName, err)
	}
	taints := noExecuteTaints(node)
	if len(taints) == 0 {
		c.cancel(key, pod)
		return 0, nil
	}
	tolerations, all := matchingTolerations(taints, pod.Spec.Tolerations)
	if !all {
		return 0, c.evict(ctx, key, pod)
	}
	wait := minTolerationTime(tolerations)
	if wait < 0 {
		c.cancel(key, pod)
		return 0, nil
	}
	now := c.clock.Now()
	since := c.schedule(key, pod, now)
	if left := since.Add(wait).Sub(now); left > 0 {
		klog.V(4).InfoS("Pod tolerates its node's NoExecute taints for a while", "pod", klog.KObj(pod), "node", node.Name, "evictIn", left)
		return left, nil
	}
	return 0, c.evict(ctx, key, pod)
}

// schedule returns since when the pod's eviction has been pending,
// starting the clock now if it was not.
func (c *Controller) schedule(key string, pod *v1alpha1.Pod, now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pending[key]
	if !ok || p.uid != pod.UID {
		p = pending{uid: pod.UID, since: now}
		c.pending[key] = p
	}
	return p.since
}

// cancel forgets a pending eviction; with pod given it says so in an
// event, as upstream does when a taint goes before the pod's time is up.
func (c *Controller) cancel(key string, pod *v1alpha1.Pod) {
	c.mu.Lock()
	_, ok := c.pending[key]
	delete(c.pending, key)
	c.mu.Unlock()
	if ok && pod != nil {
		c.recorder.Eventf(pod, corev1.EventTypeNormal, reasonEviction, "Cancelling deletion of Pod %s", key)
	}
}

func (c *Controller) evict(ctx context.Context, key string, pod *v1alpha1.Pod) error {
	c.recorder.Eventf(pod, corev1.EventTypeNormal, reasonEviction, "Marking for deletion Pod %s", key)
	uid := pod.UID
	err := c.client.CoreV1alpha1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("evict pod %s from node %s: %w", key, pod.Spec.NodeName, err)
	}
	klog.V(2).InfoS("Evicted pod from a NoExecute-tainted node", "pod", klog.KObj(pod), "node", pod.Spec.NodeName)
	c.mu.Lock()
	delete(c.pending, key)
	c.mu.Unlock()
	return nil
}

// matchingTolerations returns, for each taint, the first toleration that
// tolerates it, and whether every taint is tolerated.
func matchingTolerations(taints []v1alpha1.Taint, tolerations []v1alpha1.Toleration) ([]v1alpha1.Toleration, bool) {
	var out []v1alpha1.Toleration
	for i := range taints {
		found := false
		for j := range tolerations {
			if helper.ToleratesTaint(&tolerations[j], &taints[i]) {
				out = append(out, tolerations[j])
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return out, true
}

// minTolerationTime is the shortest tolerationSeconds among the matching
// tolerations: 0 when one is zero or negative, -1 (forever) when none sets
// a limit.
func minTolerationTime(tolerations []v1alpha1.Toleration) time.Duration {
	minimum := time.Duration(-1)
	for _, t := range tolerations {
		if t.TolerationSeconds == nil {
			continue
		}
		if *t.TolerationSeconds <= 0 {
			return 0
		}
		if d := time.Duration(*t.TolerationSeconds) * time.Second; minimum < 0 || d < minimum {
			minimum = d
		}
	}
	return minimum
}
