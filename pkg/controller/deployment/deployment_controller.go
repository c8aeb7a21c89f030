// Package deployment rolls Deployments out through ReplicaSets, one per
// template revision, as kube-controller-manager's deployment-controller
// does: RollingUpdate within maxSurge and maxUnavailable, Recreate,
// proportional scaling mid-rollout, revision annotations and history
// cleanup, pause, and the Progressing and Available conditions.
package deployment

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
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

// maxRetries is how often a Deployment is retried before it is dropped
// from the queue (until its next change), as upstream's.
const maxRetries = 15

var controllerKind = appsv1alpha1.SchemeGroupVersion.WithKind("Deployment")

// Controller is the Deployment controller.
type Controller struct {
	client   clientset.Interface
	recorder record.EventRecorder
	clock    clock.Clock

	dLister   appslisters.DeploymentLister
	rsLister  appslisters.ReplicaSetLister
	podLister corelisters.PodLister
	synced    []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]
}

// New returns a controller fed by the given informers.
func New(client clientset.Interface, dInformer appsinformers.DeploymentInformer, rsInformer appsinformers.ReplicaSetInformer,
	podInformer coreinformers.PodInformer, recorder record.EventRecorder, clk clock.WithTicker) (*Controller, error) {
	c := &Controller{
		client:    client,
		recorder:  recorder,
		clock:     clk,
		dLister:   dInformer.Lister(),
		rsLister:  rsInformer.Lister(),
		podLister: podInformer.Lister(),
		synced:    []cache.InformerSynced{dInformer.Informer().HasSynced, rsInformer.Informer().HasSynced, podInformer.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "deployment", Clock: clk}),
	}
	if _, err := dInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	}); err != nil {
		return nil, fmt.Errorf("watch deployments: %w", err)
	}
	if _, err := rsInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addReplicaSet,
		UpdateFunc: c.updateReplicaSet,
		DeleteFunc: c.deleteReplicaSet,
	}); err != nil {
		return nil, fmt.Errorf("watch replicasets: %w", err)
	}
	// Pods matter only to Recreate, which waits for the old ones to be gone.
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: c.deletePod,
	}); err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	w := controller.Workers{Name: "deployment", Queue: c.queue, MaxRetries: maxRetries, Sync: func(ctx context.Context, key string) (time.Duration, error) {
		return 0, c.sync(ctx, key)
	}}
	w.Run(ctx, workers, c.synced...)
}

func (c *Controller) enqueue(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

func (c *Controller) enqueueAfter(d *appsv1alpha1.Deployment, after time.Duration) {
	c.queue.AddAfter(cache.MetaObjectToName(d).String(), after)
}

func (c *Controller) resolveControllerRef(namespace string, ref *metav1.OwnerReference) *appsv1alpha1.Deployment {
	d, _ := controller.ResolveControllerRef(ref, controllerKind, c.dLister.Deployments(namespace).Get)
	return d
}

// deploymentsForReplicaSet returns the Deployments whose selector matches
// an orphan ReplicaSet.
func (c *Controller) deploymentsForReplicaSet(rs *appsv1alpha1.ReplicaSet) []*appsv1alpha1.Deployment {
	list, err := c.dLister.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	return controller.SelectingControllers(rs.Labels, list, func(d *appsv1alpha1.Deployment) *metav1.LabelSelector { return d.Spec.Selector })
}

func (c *Controller) addReplicaSet(obj interface{}) {
	rs := obj.(*appsv1alpha1.ReplicaSet)
	if rs.DeletionTimestamp != nil {
		c.deleteReplicaSet(rs)
		return
	}
	if ref := metav1.GetControllerOf(rs); ref != nil {
		if d := c.resolveControllerRef(rs.Namespace, ref); d != nil {
			c.enqueue(d)
		}
		return
	}
	for _, d := range c.deploymentsForReplicaSet(rs) {
		c.enqueue(d)
	}
}

func (c *Controller) updateReplicaSet(oldObj, newObj interface{}) {
	oldRS, rs := oldObj.(*appsv1alpha1.ReplicaSet), newObj.(*appsv1alpha1.ReplicaSet)
	if rs.ResourceVersion == oldRS.ResourceVersion {
		return
	}
	oldRef, ref := metav1.GetControllerOf(oldRS), metav1.GetControllerOf(rs)
	if oldRef != nil && (ref == nil || oldRef.UID != ref.UID) {
		if d := c.resolveControllerRef(oldRS.Namespace, oldRef); d != nil {
			c.enqueue(d)
		}
	}
	if ref != nil {
		if d := c.resolveControllerRef(rs.Namespace, ref); d != nil {
			c.enqueue(d)
		}
		return
	}
	if !labels.Equals(rs.Labels, oldRS.Labels) || oldRef != nil {
		for _, d := range c.deploymentsForReplicaSet(rs) {
			c.enqueue(d)
		}
	}
}

func (c *Controller) deleteReplicaSet(obj interface{}) {
	rs, ok := obj.(*appsv1alpha1.ReplicaSet)
	if !ok {
		t, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if rs, ok = t.Obj.(*appsv1alpha1.ReplicaSet); !ok {
			return
		}
	}
	if ref := metav1.GetControllerOf(rs); ref != nil {
		if d := c.resolveControllerRef(rs.Namespace, ref); d != nil {
			c.enqueue(d)
		}
	}
}

// deletePod wakes a Recreate Deployment once its last old pod is gone.
func (c *Controller) deletePod(obj interface{}) {
	pod, ok := obj.(*v1alpha1.Pod)
	if !ok {
		t, ok := obj.(cache.DeletedFinalStateUnknown)
		if !ok {
			return
		}
		if pod, ok = t.Obj.(*v1alpha1.Pod); !ok {
			return
		}
	}
	ref := metav1.GetControllerOf(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	rs, err := c.rsLister.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	dref := metav1.GetControllerOf(rs)
	if dref == nil {
		return
	}
	d := c.resolveControllerRef(rs.Namespace, dref)
	if d == nil || d.Spec.Strategy.Type != appsv1alpha1.RecreateDeploymentStrategyType {
		return
	}
	rss, err := c.replicaSetsFor(d)
	if err != nil {
		return
	}
	podMap, err := c.podMapFor(d, rss)
	if err != nil {
		return
	}
	n := 0
	for _, pods := range podMap {
		n += len(pods)
	}
	if n == 0 {
		c.enqueue(d)
	}
}

// replicaSetsFor lists the cached ReplicaSets d owns, without claiming.
func (c *Controller) replicaSetsFor(d *appsv1alpha1.Deployment) ([]*appsv1alpha1.ReplicaSet, error) {
	all, err := c.rsLister.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var out []*appsv1alpha1.ReplicaSet
	for _, rs := range all {
		if metav1.IsControlledBy(rs, d) {
			out = append(out, rs)
		}
	}
	return out, nil
}

// claimReplicaSets adopts and releases, and returns the ReplicaSets d owns.
func (c *Controller) claimReplicaSets(ctx context.Context, d *appsv1alpha1.Deployment) ([]*appsv1alpha1.ReplicaSet, error) {
	all, err := c.rsLister.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list replica sets in %s: %w", d.Namespace, err)
	}
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has an invalid selector: %w", d.Namespace, d.Name, err)
	}
	m := &controller.ReplicaSetControllerRefManager{
		RefManager: controller.RefManager{
			Controller: d,
			Selector:   selector,
			CanAdopt: func(ctx context.Context) error {
				fresh, err := c.client.AppsV1alpha1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
				if err != nil {
					return fmt.Errorf("recheck deployment %s/%s: %w", d.Namespace, d.Name, err)
				}
				if fresh.UID != d.UID {
					return fmt.Errorf("original deployment %s/%s is gone: got uid %v, wanted %v", d.Namespace, d.Name, fresh.UID, d.UID)
				}
				if fresh.DeletionTimestamp != nil {
					return fmt.Errorf("deployment %s/%s has just been deleted at %v", d.Namespace, d.Name, fresh.DeletionTimestamp)
				}
				return nil
			},
		},
		Client:        c.client,
		ControllerGVK: controllerKind,
	}
	rss, err := m.ClaimReplicaSets(ctx, all)
	if err != nil {
		return nil, fmt.Errorf("claim replica sets for deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return rss, nil
}

// podMapFor groups the pods of d's ReplicaSets by ReplicaSet UID.
func (c *Controller) podMapFor(d *appsv1alpha1.Deployment, rss []*appsv1alpha1.ReplicaSet) (map[types.UID][]*v1alpha1.Pod, error) {
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	pods, err := c.podLister.Pods(d.Namespace).List(selector)
	if err != nil {
		return nil, err
	}
	m := make(map[types.UID][]*v1alpha1.Pod, len(rss))
	for _, rs := range rss {
		m[rs.UID] = nil
	}
	for _, p := range pods {
		ref := metav1.GetControllerOf(p)
		if ref == nil {
			continue
		}
		if _, ok := m[ref.UID]; ok {
			m[ref.UID] = append(m[ref.UID], p)
		}
	}
	return m, nil
}

// sync brings one Deployment's ReplicaSets in line with its spec.
func (c *Controller) sync(ctx context.Context, key string) error {
	start := c.clock.Now()
	defer func() {
		klog.V(4).InfoS("Finished syncing deployment", "deployment", key, "duration", c.clock.Since(start))
	}()
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return fmt.Errorf("bad key %q: %w", key, err)
	}
	cached, err := c.dLister.Deployments(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		klog.V(2).InfoS("Deployment has been deleted", "deployment", key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get deployment %s from the cache: %w", key, err)
	}
	// Never change the cache's copy.
	d := cached.DeepCopy()

	if d.Spec.Selector == nil || len(d.Spec.Selector.MatchLabels)+len(d.Spec.Selector.MatchExpressions) == 0 {
		c.recorder.Eventf(d, "Warning", "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			if _, err := c.client.AppsV1alpha1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("update status of deployment %s: %w", key, err)
			}
		}
		return nil
	}

	rss, err := c.claimReplicaSets(ctx, d)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		return c.syncStatusOnly(ctx, d, rss)
	}
	// Pausing and resuming show in the Progressing condition, and a paused
	// Deployment's deadline does not run.
	if err := c.checkPausedConditions(ctx, d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return c.syncScaleOnly(ctx, d, rss)
	}
	scaling, err := c.isScalingEvent(ctx, d, rss)
	if err != nil {
		return err
	}
	if scaling {
		return c.syncScaleOnly(ctx, d, rss)
	}
	switch d.Spec.Strategy.Type {
	case appsv1alpha1.RecreateDeploymentStrategyType:
		podMap, err := c.podMapFor(d, rss)
		if err != nil {
			return fmt.Errorf("list pods of deployment %s: %w", key, err)
		}
		return c.rolloutRecreate(ctx, d, rss, podMap)
	case appsv1alpha1.RollingUpdateDeploymentStrategyType:
		return c.rolloutRolling(ctx, d, rss)
	}
	return fmt.Errorf("deployment %s: unexpected strategy type %q", key, d.Spec.Strategy.Type)
}
