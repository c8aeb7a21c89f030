// Package replicaset keeps the number of pods a ReplicaSet selects at its
// spec.replicas: it creates pods from the template in slow-start batches,
// deletes the least valuable pods first, adopts matching orphans and
// releases owned pods that stop matching, and reports what it sees in the
// ReplicaSet's status. It is kube-controller-manager's
// replicaset-controller for apps.skiff.dev.
package replicaset

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/controller"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	appsinformers "skiff.dev/skiff/pkg/generated/informers/externalversions/apps/v1alpha1"
	coreinformers "skiff.dev/skiff/pkg/generated/informers/externalversions/core/v1alpha1"
	appslisters "skiff.dev/skiff/pkg/generated/listers/apps/v1alpha1"
	corelisters "skiff.dev/skiff/pkg/generated/listers/core/v1alpha1"
)

const (
	// BurstReplicas caps the pods created or deleted in one sync, as
	// upstream's does, so one large ReplicaSet cannot starve the others.
	BurstReplicas = 500
	// SlowStartInitialBatchSize is the first batch of creations: 1, then 2,
	// 4, ... so a template that cannot be created fails once, not 500
	// times.
	SlowStartInitialBatchSize = 1
)

// controllerKind is what the pods' controllerRef names.
var controllerKind = appsv1alpha1.SchemeGroupVersion.WithKind("ReplicaSet")

// Controller is the ReplicaSet controller.
type Controller struct {
	client       clientset.Interface
	podControl   controller.PodControl
	recorder     record.EventRecorder
	clock        clock.Clock
	expectations *controller.Expectations
	burst        int

	rsLister  appslisters.ReplicaSetLister
	rsIndex   cache.Indexer
	podLister corelisters.PodLister
	rsSynced  cache.InformerSynced
	podSynced cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]
}

// New returns a controller fed by the given informers.
func New(client clientset.Interface, rsInformer appsinformers.ReplicaSetInformer, podInformer coreinformers.PodInformer,
	recorder record.EventRecorder, clk clock.WithTicker) (*Controller, error) {
	c := &Controller{
		client:       client,
		podControl:   controller.RealPodControl{Client: client, Recorder: recorder},
		recorder:     recorder,
		clock:        clk,
		expectations: controller.NewExpectations(clk),
		burst:        BurstReplicas,
		rsLister:     rsInformer.Lister(),
		rsIndex:      rsInformer.Informer().GetIndexer(),
		podLister:    podInformer.Lister(),
		rsSynced:     rsInformer.Informer().HasSynced,
		podSynced:    podInformer.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "replicaset", Clock: clk}),
	}
	if _, err := rsInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
		DeleteFunc: c.deleteRS,
	}); err != nil {
		return nil, fmt.Errorf("watch replicasets: %w", err)
	}
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	}); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	w := controller.Workers{Name: "replicaset", Queue: c.queue, Sync: func(ctx context.Context, key string) (time.Duration, error) {
		return 0, c.sync(ctx, key)
	}}
	w.Run(ctx, workers, c.rsSynced, c.podSynced)
}

func (c *Controller) enqueue(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

func (c *Controller) enqueueAfter(obj interface{}, d time.Duration) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.AddAfter(key, d)
}

func (c *Controller) deleteRS(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	// A deleted ReplicaSet's pending creations will never be observed for
	// it; a new one under the same name must not wait for them.
	c.expectations.Delete(key)
	c.queue.Add(key)
}

// resolveControllerRef returns the ReplicaSet ref names, when it is one we
// know (same UID: not an older ReplicaSet of the same name).
func (c *Controller) resolveControllerRef(namespace string, ref *metav1.OwnerReference) *appsv1alpha1.ReplicaSet {
	rs, _ := controller.ResolveControllerRef(ref, controllerKind, c.rsLister.ReplicaSets(namespace).Get)
	return rs
}

// podReplicaSets returns the ReplicaSets whose selector matches an orphan
// pod: any of them may adopt it.
func (c *Controller) podReplicaSets(pod *v1alpha1.Pod) []*appsv1alpha1.ReplicaSet {
	list, err := c.rsLister.ReplicaSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	return controller.SelectingControllers(pod.Labels, list, func(rs *appsv1alpha1.ReplicaSet) *metav1.LabelSelector { return rs.Spec.Selector })
}

func (c *Controller) addPod(obj interface{}) {
	pod := obj.(*v1alpha1.Pod)
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already being deleted (a relist): count
		// it as the deletion, not a creation.
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOf(pod); ref != nil {
		rs := c.resolveControllerRef(pod.Namespace, ref)
		if rs == nil {
			return
		}
		key := cache.MetaObjectToName(rs).String()
		c.expectations.CreationObserved(key)
		c.queue.Add(key)
		return
	}
	// An orphan: wake every ReplicaSet that may adopt it.
	for _, rs := range c.podReplicaSets(pod) {
		c.enqueue(rs)
	}
}

func (c *Controller) updatePod(oldObj, newObj interface{}) {
	oldPod, pod := oldObj.(*v1alpha1.Pod), newObj.(*v1alpha1.Pod)
	if pod.ResourceVersion == oldPod.ResourceVersion {
		// A resync: nothing changed.
		return
	}
	if pod.DeletionTimestamp != nil {
		// A graceful deletion has begun: count it now rather than when the
		// kubelet finishes, so a replacement starts at once. The delete
		// event later will find it already counted.
		c.deletePod(pod)
		if !labels.Equals(pod.Labels, oldPod.Labels) {
			c.deletePod(oldPod)
		}
		return
	}
	oldRef, ref := metav1.GetControllerOf(oldPod), metav1.GetControllerOf(pod)
	if oldRef != nil && (ref == nil || oldRef.UID != ref.UID) {
		// The old controller lost it and must create a replacement.
		if rs := c.resolveControllerRef(oldPod.Namespace, oldRef); rs != nil {
			c.enqueue(rs)
		}
	}
	if ref != nil {
		rs := c.resolveControllerRef(pod.Namespace, ref)
		if rs == nil {
			return
		}
		c.enqueue(rs)
		// A pod that just became ready becomes available minReadySeconds
		// later; nothing else would wake us then.
		if !controller.IsPodReady(oldPod) && controller.IsPodReady(pod) && rs.Spec.MinReadySeconds > 0 {
			c.enqueueAfter(rs, time.Duration(rs.Spec.MinReadySeconds)*time.Second+time.Second)
		}
		return
	}
	if !labels.Equals(pod.Labels, oldPod.Labels) || oldRef != nil {
		for _, rs := range c.podReplicaSets(pod) {
			c.enqueue(rs)
		}
	}
}

func (c *Controller) deletePod(obj interface{}) {
	pod, ok := obj.(*v1alpha1.Pod)
	if !ok {
		tombstone, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			utilruntime.HandleError(fmt.Errorf("unexpected object %T", obj))
			return
		}
		if pod, ok = tombstone.Obj.(*v1alpha1.Pod); !ok {
			utilruntime.HandleError(fmt.Errorf("tombstone holds %T, not a pod", tombstone.Obj))
			return
		}
	}
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return
	}
	rs := c.resolveControllerRef(pod.Namespace, ref)
	if rs == nil {
		return
	}
	key := cache.MetaObjectToName(rs).String()
	c.expectations.DeletionObserved(key, cache.MetaObjectToName(pod).String())
	c.queue.Add(key)
}

// sync makes one ReplicaSet's pods match its spec and writes its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	start := c.clock.Now()
	defer func() {
		klog.V(4).InfoS("Finished syncing replica set", "replicaSet", key, "duration", c.clock.Since(start))
	}()
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return fmt.Errorf("bad key %q: %w", key, err)
	}
	rs, err := c.rsLister.ReplicaSets(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		klog.V(4).InfoS("Replica set has been deleted", "replicaSet", key)
		c.expectations.Delete(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get replica set %s from the cache: %w", key, err)
	}
	// Decided before listing pods: an event observed between the list and
	// this check could otherwise satisfy expectations the list does not
	// reflect yet.
	needsSync := c.expectations.Satisfied(key)
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		// The API server validates selectors; an invalid one cannot be
		// helped by retrying.
		utilruntime.HandleError(fmt.Errorf("replica set %s has an invalid selector: %w", key, err))
		return nil
	}
	allPods, err := c.podLister.Pods(namespace).List(labels.Everything())
	if err != nil {
		return fmt.Errorf("list pods in %s: %w", namespace, err)
	}
	pods, err := c.claimPods(ctx, rs, selector, controller.FilterActivePods(allPods))
	if err != nil {
		return err
	}

	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manageReplicas(ctx, pods, rs)
	}
	rs = rs.DeepCopy()
	newStatus := calculateStatus(rs, pods, manageErr, metav1.NewTime(c.clock.Now()))
	updated, err := c.updateStatus(ctx, rs, newStatus)
	if err != nil {
		return err
	}
	// Everything ready but not yet available: come back when the pods
	// have been ready for minReadySeconds.
	if manageErr == nil && updated.Spec.MinReadySeconds > 0 &&
		updated.Status.ReadyReplicas == replicas(updated) && updated.Status.AvailableReplicas != replicas(updated) {
		c.queue.AddAfter(key, time.Duration(updated.Spec.MinReadySeconds)*time.Second)
	}
	return manageErr
}

func replicas(rs *appsv1alpha1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// claimPods adopts and releases, and returns the pods this ReplicaSet owns.
func (c *Controller) claimPods(ctx context.Context, rs *appsv1alpha1.ReplicaSet, selector labels.Selector, pods []*v1alpha1.Pod) ([]*v1alpha1.Pod, error) {
	m := &controller.PodControllerRefManager{
		RefManager: controller.RefManager{
			Controller: rs,
			Selector:   selector,
			CanAdopt: func(ctx context.Context) error {
				fresh, err := c.client.AppsV1alpha1().ReplicaSets(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
				if err != nil {
					return fmt.Errorf("recheck replica set %s/%s: %w", rs.Namespace, rs.Name, err)
				}
				if fresh.UID != rs.UID {
					return fmt.Errorf("original replica set %s/%s is gone: got uid %v, wanted %v", rs.Namespace, rs.Name, fresh.UID, rs.UID)
				}
				if fresh.DeletionTimestamp != nil {
					return fmt.Errorf("replica set %s/%s has just been deleted at %v", rs.Namespace, rs.Name, fresh.DeletionTimestamp)
				}
				return nil
			},
		},
		Client:        c.client,
		ControllerGVK: controllerKind,
	}
	claimed, err := m.ClaimPods(ctx, pods)
	if err != nil {
		return nil, fmt.Errorf("claim pods for replica set %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	return claimed, nil
}

// manageReplicas creates or deletes pods to bring len(pods) to replicas.
func (c *Controller) manageReplicas(ctx context.Context, pods []*v1alpha1.Pod, rs *appsv1alpha1.ReplicaSet) error {
	key := cache.MetaObjectToName(rs).String()
	diff := len(pods) - int(replicas(rs))
	switch {
	case diff < 0:
		diff = min(-diff, c.burst)
		// Expect them all before the first create: a fast informer may
		// report a pod before Create returns.
		c.expectations.ExpectCreations(key, diff)
		klog.V(2).InfoS("Too few replicas", "replicaSet", key, "need", replicas(rs), "creating", diff)
		ref := controller.NewControllerRef(rs, controllerKind)
		created, err := slowStartBatch(diff, SlowStartInitialBatchSize, func() error {
			err := c.podControl.CreatePods(ctx, rs.Namespace, &rs.Spec.Template, rs, ref)
			if apierrors.HasStatusCause(err, "NamespaceTerminating") {
				// The namespace is going away; its pods with it.
				return nil
			}
			return err
		})
		// The creations skipped after a failed batch, and the failed ones,
		// will never be observed.
		if skipped := diff - created; skipped > 0 {
			klog.V(2).InfoS("Slow-start failure: skipping the remaining creations", "replicaSet", key, "skipped", skipped)
			for range skipped {
				c.expectations.CreationObserved(key)
			}
		}
		return err
	case diff > 0:
		diff = min(diff, c.burst)
		klog.V(2).InfoS("Too many replicas", "replicaSet", key, "need", replicas(rs), "deleting", diff)
		victims := PodsToDelete(pods, pods, diff)
		podKeys := make([]string, len(victims))
		for i, p := range victims {
			podKeys[i] = cache.MetaObjectToName(p).String()
		}
		// Expect before deleting, for the same reason as creations.
		c.expectations.ExpectDeletions(key, podKeys)
		var wg sync.WaitGroup
		errCh := make(chan error, len(victims))
		for i, p := range victims {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.podControl.DeletePod(ctx, rs.Namespace, p.Name, rs); err != nil {
					// It will never be observed deleted by us.
					c.expectations.DeletionObserved(key, podKeys[i])
					if !apierrors.IsNotFound(err) {
						errCh <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errCh)
		// One error is enough to requeue; upstream returns the first too.
		for err := range errCh {
			return err
		}
	}
	return nil
}

// slowStartBatch calls fn count times, in batches of initial, then twice
// that, and so on, each batch in parallel; it stops after the first batch
// with an error and returns how many calls succeeded. A template that
// cannot be created thus costs one request, not count.
func slowStartBatch(count, initial int, fn func() error) (int, error) {
	remaining := count
	successes := 0
	for batch := min(remaining, initial); batch > 0; batch = min(2*batch, remaining) {
		errCh := make(chan error, batch)
		var wg sync.WaitGroup
		wg.Add(batch)
		for range batch {
			go func() {
				defer wg.Done()
				if err := fn(); err != nil {
					errCh <- err
				}
			}()
		}
		wg.Wait()
		successes += batch - len(errCh)
		if len(errCh) > 0 {
			return successes, <-errCh
		}
		remaining -= batch
	}
	return successes, nil
}

// PodsToDelete picks the count least valuable of pods, ranking each by how
// many of related share its node.
func PodsToDelete(pods, related []*v1alpha1.Pod, count int) []*v1alpha1.Pod {
	if count >= len(pods) {
		return pods
	}
	ranked := controller.RankByPodsOnSameNode(append([]*v1alpha1.Pod(nil), pods...), related)
	sort.Sort(ranked)
	return ranked.Pods[:count]
}
