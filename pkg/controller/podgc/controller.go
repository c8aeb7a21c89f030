// Package podgc deletes pods nobody else will: pods bound to a node that no
// longer exists (after a quarantine, so a node that is only missing from a
// stale cache keeps its pods), terminating pods that were never scheduled,
// and finished pods (Succeeded or Failed) beyond a threshold, oldest first.
// It is kube-controller-manager's pod-garbage-collector: a periodic sweep
// over the informers' caches.
package podgc

import (
	"context"
	"fmt"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	coreinformers "skiff.dev/skiff/pkg/generated/informers/externalversions/core/v1alpha1"
	corelisters "skiff.dev/skiff/pkg/generated/listers/core/v1alpha1"
)

const (
	// DefaultCheckPeriod is how often upstream's pod GC sweeps.
	DefaultCheckPeriod = 20 * time.Second
	// DefaultQuarantine is how long a node must be missing from the cache
	// before the API server is asked whether it is really gone.
	DefaultQuarantine = 40 * time.Second
)

// Config tunes the controller.
type Config struct {
	// TerminatedPodThreshold is how many finished pods may exist before the
	// oldest are deleted (--terminated-pod-gc-threshold); 0 keeps them all.
	TerminatedPodThreshold int
	CheckPeriod            time.Duration
	Quarantine             time.Duration
}

// Controller is the pod garbage collector.
type Controller struct {
	client clientset.Interface
	clock  clock.Clock
	config Config

	pods        corelisters.PodLister
	nodes       corelisters.NodeLister
	podsSynced  cache.InformerSynced
	nodesSynced cache.InformerSynced

	// missingSince is when each node that pods are bound to was first
	// found missing from the cache; only the sweep goroutine uses it.
	missingSince map[string]time.Time
}

// New returns a controller fed by the given informers.
func New(client clientset.Interface, pods coreinformers.PodInformer, nodes coreinformers.NodeInformer, clk clock.Clock, config Config) *Controller {
	if config.CheckPeriod <= 0 {
		config.CheckPeriod = DefaultCheckPeriod
	}
	if config.Quarantine <= 0 {
		config.Quarantine = DefaultQuarantine
	}
	return &Controller{
		client:       client,
		clock:        clk,
		config:       config,
		pods:         pods.Lister(),
		nodes:        nodes.Lister(),
		podsSynced:   pods.Informer().HasSynced,
		nodesSynced:  nodes.Informer().HasSynced,
		missingSince: map[string]time.Time{},
	}
}

// Run sweeps every CheckPeriod until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	defer utilruntime.HandleCrash()
	klog.InfoS("Starting pod garbage collector", "terminatedPodThreshold", c.config.TerminatedPodThreshold)
	defer klog.InfoS("Shutting down pod garbage collector")
	if !cache.WaitForNamedCacheSync("podgc", ctx.Done(), c.podsSynced, c.nodesSynced) {
		return
	}
	wait.UntilWithContext(ctx, c.gc, c.config.CheckPeriod)
}

func (c *Controller) gc(ctx context.Context) {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Listing pods from the cache")
		return
	}
	if c.config.TerminatedPodThreshold > 0 {
		c.gcTerminated(ctx, pods)
	}
	c.gcOrphaned(ctx, pods)
	c.gcUnscheduledTerminating(ctx, pods)
}

func isTerminated(pod *v1alpha1.Pod) bool {
	return pod.Status.Phase == v1alpha1.PodSucceeded || pod.Status.Phase == v1alpha1.PodFailed
}

// gcTerminated deletes the oldest finished pods above the threshold.
func (c *Controller) gcTerminated(ctx context.Context, pods []*v1alpha1.Pod) {
	var terminated []*v1alpha1.Pod
	for _, p := range pods {
		if isTerminated(p) && p.DeletionTimestamp == nil {
			terminated = append(terminated, p)
		}
	}
	excess := len(terminated) - c.config.TerminatedPodThreshold
	if excess <= 0 {
		return
	}
	sort.Slice(terminated, func(i, j int) bool {
		a, b := terminated[i].CreationTimestamp, terminated[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return terminated[i].Namespace+"/"+terminated[i].Name < terminated[j].Namespace+"/"+terminated[j].Name
	})
	klog.InfoS("Deleting finished pods above the threshold", "count", excess, "threshold", c.config.TerminatedPodThreshold)
	for _, p := range terminated[:excess] {
		if err := c.forceDelete(ctx, p); err != nil {
			utilruntime.HandleErrorWithContext(ctx, err, "Deleting a finished pod", "pod", klog.KObj(p))
		}
	}
}

// gcOrphaned force-deletes pods bound to nodes that are gone. A node is
// gone when it has been missing from the cache for the quarantine and the
// API server confirms it does not exist.
func (c *Controller) gcOrphaned(ctx context.Context, pods []*v1alpha1.Pod) {
	now := c.clock.Now()
	gone := map[string]bool{}
	missing := map[string]bool{}
	for _, p := range pods {
		node := p.Spec.NodeName
		if node == "" || missing[node] {
			continue
		}
		if _, err := c.nodes.Get(node); err == nil {
			continue
		}
		missing[node] = true
		since, ok := c.missingSince[node]
		if !ok {
			c.missingSince[node] = now
			continue
		}
		if now.Sub(since) < c.config.Quarantine {
			continue
		}
		_, err := c.client.CoreV1alpha1().Nodes().Get(ctx, node, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			gone[node] = true
		case err != nil:
			utilruntime.HandleErrorWithContext(ctx, err, "Checking whether a node exists", "node", node)
		}
	}
	for node := range c.missingSince {
		if !missing[node] {
			delete(c.missingSince, node)
		}
	}
	for _, p := range pods {
		if !gone[p.Spec.NodeName] {
			continue
		}
		klog.InfoS("Deleting pod bound to a node that no longer exists", "pod", klog.KObj(p), "node", p.Spec.NodeName)
		if err := c.forceDelete(ctx, p); err != nil {
			utilruntime.HandleErrorWithContext(ctx, err, "Deleting an orphaned pod", "pod", klog.KObj(p))
		}
	}
}

// gcUnscheduledTerminating force-deletes pods being deleted that were
// never bound: no kubelet will ever confirm their end.
func (c *Controller) gcUnscheduledTerminating(ctx context.Context, pods []*v1alpha1.Pod) {
	for _, p := range pods {
		if p.DeletionTimestamp == nil || p.Spec.NodeName != "" {
			continue
		}
		klog.V(2).InfoS("Deleting unscheduled terminating pod", "pod", klog.KObj(p))
		if err := c.forceDelete(ctx, p); err != nil {
			utilruntime.HandleErrorWithContext(ctx, err, "Deleting an unscheduled terminating pod", "pod", klog.KObj(p))
		}
	}
}

// forceDelete deletes the pod with no grace period: nothing is left to
// stop its containers. The UID precondition spares a pod recreated under
// the same name.
func (c *Controller) forceDelete(ctx context.Context, pod *v1alpha1.Pod) error {
	uid := pod.UID
	err := c.client.CoreV1alpha1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64),
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}
