package controller

import (
	"context"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// SyncFunc brings the object named key to its desired state. A positive
// duration asks to look at key again after it even though the sync
// succeeded (a deadline the controller is waiting for); an error retries
// key with the queue's rate limit.
type SyncFunc func(ctx context.Context, key string) (time.Duration, error)

// Workers drains one controller's queue with its sync function: the loop
// of informer-driven controllers (wait for caches, n workers each taking a
// key, syncing it, and forgetting or requeueing it), as every upstream
// controller writes it.
type Workers struct {
	// Name names the controller in logs ("replicaset").
	Name  string
	Queue workqueue.TypedRateLimitingInterface[string]
	Sync  SyncFunc
	// MaxRetries drops a key after that many failed syncs in a row (it
	// comes back with its object's next event); 0 retries forever.
	MaxRetries int
}

// Run waits for synced, then runs n workers until ctx ends, and shuts the
// queue down.
func (w *Workers) Run(ctx context.Context, n int, synced ...cache.InformerSynced) {
	defer utilruntime.HandleCrash()
	defer w.Queue.ShutDown()
	klog.InfoS("Starting controller", "controller", w.Name, "workers", n)
	defer klog.InfoS("Shutting down controller", "controller", w.Name)
	if !cache.WaitForNamedCacheSync(w.Name, ctx.Done(), synced...) {
		return
	}
	for range n {
		go wait.UntilWithContext(ctx, w.work, time.Second)
	}
	<-ctx.Done()
}

func (w *Workers) work(ctx context.Context) {
	for w.processNext(ctx) {
	}
}

// processNext syncs one key; false when the queue has shut down.
func (w *Workers) processNext(ctx context.Context) bool {
	key, quit := w.Queue.Get()
	if quit {
		return false
	}
	defer w.Queue.Done(key)
	after, err := w.Sync(ctx, key)
	switch {
	case err == nil:
		w.Queue.Forget(key)
		if after > 0 {
			w.Queue.AddAfter(key, after)
		}
	case w.MaxRetries > 0 && w.Queue.NumRequeues(key) >= w.MaxRetries:
		utilruntime.HandleErrorWithContext(ctx, err, "Dropping key out of the queue", "controller", w.Name, "key", key)
		w.Queue.Forget(key)
	default:
		utilruntime.HandleErrorWithContext(ctx, err, "Sync failed; retrying", "controller", w.Name, "key", key)
		w.Queue.AddRateLimited(key)
	}
	return true
}
