// Package namespace is the namespace controller, as kube-controller-
// manager's: when a namespace is deleted (it is then Terminating and holds
// the `kubernetes` finalizer), it deletes every namespaced object of every
// API group that discovery lists in it, pods first, and then removes the
// finalizer through namespaces/finalize, which lets the API server remove
// the namespace. It works through the discovery and metadata clients, so
// it needs to know no kind, skiff's or anyone's.
//
// It is for standalone mode: in aggregated mode the host cluster's
// namespace controller does this, skiff's groups included.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"skiff.dev/skiff/pkg/controller"
)

// maxRecheckDelay bounds the wait before a namespace whose content is
// still going is looked at again.
const maxRecheckDelay = 15 * time.Second

// Controller deletes the content of terminating namespaces.
type Controller struct {
	lister corelisters.NamespaceLister
	synced cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	del    *deleter
}

// NewController returns a namespace controller fed by informer. client
// writes namespaces (status, finalize); discovery lists the namespaced
// resources of every group; metadata deletes their objects. resync is the
// informer's resync period, which retries namespaces whose deletion
// failed.
func NewController(client kubernetes.Interface, metadataClient metadata.Interface, discoveryClient discovery.ServerResourcesInterface,
	informer coreinformers.NamespaceInformer, resync time.Duration) (*Controller, error) {
	c := &Controller{
		lister: informer.Lister(),
		synced: informer.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](5*time.Millisecond, 60*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "namespace"}),
		del: &deleter{namespaces: client.CoreV1().Namespaces(), metadata: metadataClient, discovery: discoveryClient},
	}
	_, err := informer.Informer().AddEventHandlerWithResyncPeriod(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
	}, resync)
	if err != nil {
		return nil, fmt.Errorf("watch namespaces: %w", err)
	}
	return c, nil
}

// enqueue queues a namespace that is being deleted.
func (c *Controller) enqueue(obj interface{}) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok || ns.DeletionTimestamp == nil {
		return
	}
	c.queue.Add(ns.Name)
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	w := controller.Workers{Name: "namespace", Queue: c.queue, Sync: c.sync}
	w.Run(ctx, workers, c.synced)
}

// sync advances a namespace's deletion. Content that remains (pods
// stopping, finalizers holding objects) is not a failure: the namespace is
// looked at again once that content may be gone.
func (c *Controller) sync(ctx context.Context, key string) (time.Duration, error) {
	err := c.syncNamespace(ctx, key)
	var remaining *remainingError
	if errors.As(err, &remaining) {
		klog.V(2).InfoS("Namespace content remains", "namespace", key, "remaining", describeRemaining(remaining.remaining))
		return min(time.Duration(remaining.retryAfterSeconds)*time.Second/2+time.Second, maxRecheckDelay), nil
	}
	return 0, err
}

// syncNamespace advances the deletion of the namespace named key.
func (c *Controller) syncNamespace(ctx context.Context, key string) error {
	start := time.Now()
	defer func() { klog.V(4).InfoS("Finished syncing namespace", "namespace", key, "duration", time.Since(start)) }()
	ns, err := c.lister.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get namespace %s from the cache: %w", key, err)
	}
	if ns.DeletionTimestamp == nil {
		return nil
	}
	return c.del.delete(ctx, key)
}
