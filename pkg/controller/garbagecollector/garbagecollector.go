// Package garbagecollector deletes objects whose owners are gone, as
// kube-controller-manager's garbage collector does: it watches the metadata
// of every resource the API server serves (found by discovery, so new API
// groups are covered without code changes), keeps a graph of
// ownerReferences, and
//   - deletes dependents whose owners no longer exist (background
//     propagation, the default);
//   - for an owner deleted with propagationPolicy=Foreground (the
//     foregroundDeletion finalizer), deletes its dependents first and
//     removes the finalizer once no dependent with blockOwnerDeletion is
//     left;
//   - for an owner deleted with propagationPolicy=Orphan (the orphan
//     finalizer), removes the owner's reference from its dependents, then
//     the finalizer.
//
// The API server adds those finalizers on delete; this controller only
// finishes what they promise.
package garbagecollector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// DefaultResourceSyncPeriod is how often discovery is read again for new
// resources (upstream's --resource-sync-period... is 30 s in its GC).
const DefaultResourceSyncPeriod = 30 * time.Second

// GarbageCollector is the garbage collector.
type GarbageCollector struct {
	client    metadata.Interface
	discovery discovery.ServerResourcesInterface
	graph     *graph
	monitors  *monitors

	graphChanges    workqueue.TypedInterface[*event]
	attemptToDelete workqueue.TypedRateLimitingInterface[*node]
	attemptToOrphan workqueue.TypedRateLimitingInterface[*node]
}

// New returns a garbage collector; Run starts it. shared, if not nil,
// gives the typed informers it should share instead of watching metadata.
func New(client metadata.Interface, dc discovery.ServerResourcesInterface, shared SharedInformers) *GarbageCollector {
	gc := &GarbageCollector{
		client:       client,
		discovery:    dc,
		graph:        newGraph(),
		graphChanges: workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[*event]{Name: "garbage_collector_graph_changes"}),
		attemptToDelete: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[*node](),
			workqueue.TypedRateLimitingQueueConfig[*node]{Name: "garbage_collector_attempt_to_delete"}),
		attemptToOrphan: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[*node](),
			workqueue.TypedRateLimitingQueueConfig[*node]{Name: "garbage_collector_attempt_to_orphan"}),
	}
	gc.monitors = newMonitors(client, shared, gc.graphChanges.Add)
	return gc
}

// Run discovers resources, waits for their informers, and runs workers
// until ctx ends. Discovery is read again every resyncPeriod.
func (gc *GarbageCollector) Run(ctx context.Context, workers int, resyncPeriod time.Duration) {
	defer utilruntime.HandleCrash()
	defer gc.graphChanges.ShutDown()
	defer gc.attemptToDelete.ShutDown()
	defer gc.attemptToOrphan.ShutDown()
	klog.InfoS("Starting garbage collector")
	defer klog.InfoS("Shutting down garbage collector")

	// The first discovery must succeed: without it nothing is watched.
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(context.Context) (bool, error) {
		resources, err := DeletableResources(gc.discovery)
		if err != nil {
			utilruntime.HandleErrorWithContext(ctx, err, "Garbage collector discovery")
			return false, nil
		}
		gc.monitors.sync(resources)
		return true, nil
	})
	if err != nil {
		return
	}
	gc.monitors.run(ctx)
	go wait.UntilWithContext(ctx, gc.processGraphChanges, time.Second)
	if !cache.WaitForNamedCacheSync("garbage collector", ctx.Done(), gc.monitors.hasSynced) {
		return
	}
	for range workers {
		go wait.UntilWithContext(ctx, gc.deleteWorker, time.Second)
		go wait.UntilWithContext(ctx, gc.orphanWorker, time.Second)
	}
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		resources, err := DeletableResources(gc.discovery)
		if err != nil {
			utilruntime.HandleErrorWithContext(ctx, err, "Garbage collector discovery")
			return
		}
		gc.monitors.sync(resources)
	}, resyncPeriod)
	<-ctx.Done()
}

func (gc *GarbageCollector) processGraphChanges(context.Context) {
	for {
		ev, quit := gc.graphChanges.Get()
		if quit {
			return
		}
		gc.graph.processEvent(ev, gc.attemptToDelete, gc.attemptToOrphan)
		gc.graphChanges.Done(ev)
	}
}

func (gc *GarbageCollector) deleteWorker(ctx context.Context) {
	for gc.processNext(ctx, gc.attemptToDelete, gc.attemptToDeleteItem) {
	}
}

func (gc *GarbageCollector) orphanWorker(ctx context.Context) {
	for gc.processNext(ctx, gc.attemptToOrphan, gc.attemptToOrphanItem) {
	}
}

func (gc *GarbageCollector) processNext(ctx context.Context, q workqueue.TypedRateLimitingInterface[*node], sync func(context.Context, *node) error) bool {
	n, quit := q.Get()
	if quit {
		return false
	}
	defer q.Done(n)
	if err := sync(ctx, n); err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Garbage collecting", "object", gc.graph.identity(n))
		q.AddRateLimited(n)
		return true
	}
	q.Forget(n)
	return true
}

// get reads the object's current metadata from the API server.
func (gc *GarbageCollector) get(ctx context.Context, ref objectReference) (*metav1.PartialObjectMetadata, resourceInfo, error) {
	info, err := gc.monitors.resourceFor(ref.APIVersion, ref.Kind)
	if err != nil {
		return nil, info, err
	}
	ns := ref.Namespace
	if !info.namespaced {
		ns = ""
	}
	obj, err := gc.client.Resource(info.gvr).Namespace(ns).Get(ctx, ref.Name, metav1.GetOptions{})
	return obj, info, err
}

// errGone says the object a node stands for does not exist (any more).
var errGone = errors.New("object is gone")

// latest returns the live object for n, or errGone after telling the graph
// that it is gone.
func (gc *GarbageCollector) latest(ctx context.Context, ref objectReference) (*metav1.PartialObjectMetadata, resourceInfo, error) {
	obj, info, err := gc.get(ctx, ref)
	switch {
	case apierrors.IsNotFound(err), err == nil && obj.UID != ref.UID:
		gc.graphChanges.Add(&event{
			eventType: deleteEvent, virtual: true,
			obj: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name, UID: ref.UID}},
		})
		return nil, info, errGone
	case err != nil:
		return nil, info, fmt.Errorf("get %s: %w", ref, err)
	}
	return obj, info, nil
}

// attemptToDeleteItem deletes the object if all its owners are gone or
// deleting it in the foreground, drops references to owners that are gone
// if others remain, and removes the foregroundDeletion finalizer of an
// owner whose blocking dependents are gone.
func (gc *GarbageCollector) attemptToDeleteItem(ctx context.Context, n *node) error {
	snap := gc.graph.snapshot(n)
	obj, info, err := gc.latest(ctx, snap.identity)
	if errors.Is(err, errGone) {
		return nil
	}
	if err != nil {
		return err
	}
	if snap.virtual {
		// The owner exists; its informer will add it to the graph.
		return nil
	}
	if obj.DeletionTimestamp != nil {
		if hasFinalizer(obj, metav1.FinalizerDeleteDependents) {
			return gc.processDeletingDependents(ctx, snap, obj, info)
		}
		return nil
	}
	if len(obj.OwnerReferences) == 0 {
		return nil
	}

	var solid, dangling, waiting []metav1.OwnerReference
	for _, ref := range obj.OwnerReferences {
		owner, err := gc.owner(ctx, ref, obj.Namespace)
		if err != nil {
			return err
		}
		switch {
		case owner == nil:
			dangling = append(dangling, ref)
		case owner.DeletionTimestamp != nil && hasFinalizer(owner, metav1.FinalizerDeleteDependents):
			waiting = append(waiting, ref)
		default:
			solid = append(solid, ref)
		}
	}
	klog.V(4).InfoS("Classified owners", "object", snap.identity, "solid", len(solid), "dangling", len(dangling), "waitingForDependentsDeletion", len(waiting))

	switch {
	case len(solid) > 0:
		if len(dangling) == 0 && len(waiting) == 0 {
			return nil
		}
		// Another owner keeps it: only the references to owners that are
		// gone, or that wait for it to go, are dropped.
		return gc.patchOwnerReferences(ctx, obj, info, solid)
	case len(waiting) > 0 && len(snap.dependents) > 0:
		// Its owner deletes in the foreground and it has dependents of its
		// own: delete it in the foreground too, so the chain goes bottom up.
		return gc.delete(ctx, snap.identity, info, metav1.DeletePropagationForeground)
	default:
		policy := metav1.DeletePropagationBackground
		switch {
		case hasFinalizer(obj, metav1.FinalizerOrphanDependents):
			policy = metav1.DeletePropagationOrphan
		case hasFinalizer(obj, metav1.FinalizerDeleteDependents):
			policy = metav1.DeletePropagationForeground
		}
		return gc.delete(ctx, snap.identity, info, policy)
	}
}

// owner returns the live owner an ownerReference names, or nil if it is
// gone (absent, or replaced by another object of the same name).
func (gc *GarbageCollector) owner(ctx context.Context, ref metav1.OwnerReference, namespace string) (*metav1.PartialObjectMetadata, error) {
	info, err := gc.monitors.resourceFor(ref.APIVersion, ref.Kind)
	if err != nil {
		return nil, err
	}
	if !info.namespaced {
		namespace = ""
	}
	key := absentKey{uid: ref.UID, kind: ref.Kind, ns: namespace, name: ref.Name}
	if _, gone := gc.graph.absent.Get(key); gone {
		return nil, nil
	}
	obj, err := gc.client.Resource(info.gvr).Namespace(namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err), err == nil && obj.UID != ref.UID:
		gc.graph.absent.Add(key, nil)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get owner %s %s/%s: %w", ref.Kind, namespace, ref.Name, err)
	}
	return obj, nil
}

// processDeletingDependents finishes a foreground deletion: while
// dependents with blockOwnerDeletion remain, they are queued for deletion;
// once none is left the foregroundDeletion finalizer goes, and with it the
// object.
func (gc *GarbageCollector) processDeletingDependents(ctx context.Context, snap snapshot, obj *metav1.PartialObjectMetadata, info resourceInfo) error {
	if len(snap.blockingDependents) == 0 {
		klog.V(2).InfoS("No blocking dependents left; finishing foreground deletion", "object", snap.identity)
		return gc.removeFinalizer(ctx, obj, info, metav1.FinalizerDeleteDependents)
	}
	for _, dep := range snap.blockingDependents {
		if !gc.graph.isDeletingDependents(dep) {
			gc.attemptToDelete.Add(dep)
		}
	}
	return nil
}

// attemptToOrphanItem removes the owner's reference from each of its
// dependents, then the owner's orphan finalizer.
func (gc *GarbageCollector) attemptToOrphanItem(ctx context.Context, n *node) error {
	snap := gc.graph.snapshot(n)
	obj, info, err := gc.latest(ctx, snap.identity)
	if errors.Is(err, errGone) {
		return nil
	}
	if err != nil {
		return err
	}
	if obj.DeletionTimestamp == nil || !hasFinalizer(obj, metav1.FinalizerOrphanDependents) {
		return nil
	}
	var errs []error
	for _, dep := range snap.dependents {
		if err := gc.orphan(ctx, gc.graph.identity(dep), snap.identity.UID); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("orphan dependents of %s: %w", snap.identity, errors.Join(errs...))
	}
	klog.V(2).InfoS("Orphaned dependents", "owner", snap.identity, "count", len(snap.dependents))
	return gc.removeFinalizer(ctx, obj, info, metav1.FinalizerOrphanDependents)
}

// orphan removes the reference to owner from a dependent.
func (gc *GarbageCollector) orphan(ctx context.Context, ref objectReference, owner types.UID) error {
	obj, info, err := gc.latest(ctx, ref)
	if errors.Is(err, errGone) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep []metav1.OwnerReference
	for _, r := range obj.OwnerReferences {
		if r.UID != owner {
			keep = append(keep, r)
		}
	}
	if len(keep) == len(obj.OwnerReferences) {
		return nil
	}
	return gc.patchOwnerReferences(ctx, obj, info, keep)
}

func (gc *GarbageCollector) delete(ctx context.Context, ref objectReference, info resourceInfo, policy metav1.DeletionPropagation) error {
	uid := ref.UID
	ns := ref.Namespace
	if !info.namespaced {
		ns = ""
	}
	klog.V(2).InfoS("Deleting object whose owners are gone", "object", ref, "propagationPolicy", policy)
	err := gc.client.Resource(info.gvr).Namespace(ns).Delete(ctx, ref.Name, metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &uid},
		PropagationPolicy: &policy,
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	return nil
}

// patchOwnerReferences sets the object's ownerReferences to refs. The JSON
// merge patch works on every kind; its uid and resourceVersion make a
// concurrent change fail with a conflict, and the item is retried.
func (gc *GarbageCollector) patchOwnerReferences(ctx context.Context, obj *metav1.PartialObjectMetadata, info resourceInfo, refs []metav1.OwnerReference) error {
	if refs == nil {
		refs = []metav1.OwnerReference{}
	}
	return gc.patchMetadata(ctx, obj, info, map[string]interface{}{"ownerReferences": refs})
}

func (gc *GarbageCollector) removeFinalizer(ctx context.Context, obj *metav1.PartialObjectMetadata, info resourceInfo, finalizer string) error {
	keep := []string{}
	for _, f := range obj.Finalizers {
		if f != finalizer {
			keep = append(keep, f)
		}
	}
	return gc.patchMetadata(ctx, obj, info, map[string]interface{}{"finalizers": keep})
}

func (gc *GarbageCollector) patchMetadata(ctx context.Context, obj *metav1.PartialObjectMetadata, info resourceInfo, fields map[string]interface{}) error {
	fields["uid"] = obj.UID
	fields["resourceVersion"] = obj.ResourceVersion
	patch, err := json.Marshal(map[string]interface{}{"metadata": fields})
	if err != nil {
		return fmt.Errorf("build patch: %w", err)
	}
	_, err = gc.client.Resource(info.gvr).Namespace(obj.Namespace).Patch(ctx, obj.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("patch %s %s/%s: %w", info.gvk.Kind, obj.Namespace, obj.Name, err)
	}
	return nil
}
