// Package kubelet assembles one node's kubelet from its parts: the node's
// registration and status (nodestatus), its heartbeat (nodelease), the pod
// workers and status manager (podworkers, status), over a container runtime
// (runtime/process, runtime/cri, runtime/fake). pkg/kubelet/app turns flags
// into a running kubelet; this package is what runs.
package kubelet

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/kubelet/nodelease"
	"skiff.dev/skiff/pkg/kubelet/nodestatus"
	"skiff.dev/skiff/pkg/kubelet/pleg"
	"skiff.dev/skiff/pkg/kubelet/podworkers"
	"skiff.dev/skiff/pkg/kubelet/prober"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	runtimecache "skiff.dev/skiff/pkg/kubelet/runtime/cache"
	"skiff.dev/skiff/pkg/kubelet/status"
)

// OrphanCleanupInterval is how often containers of pods this node no longer
// has are looked for.
const OrphanCleanupInterval = 30 * time.Second

// NodeConfig is what one node's kubelet needs.
type NodeConfig struct {
	Client  clientset.Interface
	Runtime runtime.Runtime
	// NodeStatus describes the node; its Ready defaults to the runtime's
	// Version.
	NodeStatus nodestatus.Config
	// Recorder, if set, gets pod events.
	Recorder record.EventRecorder
	// Observer, if set, is told about pod start latencies.
	Observer status.Observer
	Clock    clock.WithTicker
	// LeaseDuration and LeaseRenewInterval default to 40 s and 10 s.
	LeaseDuration      time.Duration
	LeaseRenewInterval time.Duration
	// Relist is set for a runtime that does not report its containers'
	// changes (CRI): Run then lists it every RelistPeriod (default one
	// second), as upstream's PLEG does, and the pod workers read that
	// listing. Other runtimes report changes through Notify.
	Relist       bool
	RelistPeriod time.Duration
	// Prober runs the pods' probes. Nodes may share one (simulated nodes
	// do); nil means the node makes its own, which Run runs.
	Prober *prober.Manager
}

// Node is one node's kubelet. It gets its pods through its handler methods,
// so one informer can feed several nodes.
type Node struct {
	name string
	// containers is the runtime behind the cache every pod worker lists.
	containers *runtimecache.Cache
	relist     time.Duration // zero: the runtime reports its changes
	status     *status.Manager
	workers    *podworkers.PodWorkers
	nodeStatus *nodestatus.Controller
	lease      *nodelease.Controller
	// prober is the node's own prober, which Run runs; nil when shared.
	prober *prober.Manager
}

// NewNode returns the kubelet of one node; its pod workers run until ctx ends.
func NewNode(ctx context.Context, cfg NodeConfig) *Node {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	nsCfg := cfg.NodeStatus
	if nsCfg.Ready == nil {
		rt := cfg.Runtime
		nsCfg.Ready = func(ctx context.Context) (string, string, error) {
			v, err := rt.Version(ctx)
			return rt.Type(), v, err
		}
	}
	if nsCfg.Clock == nil {
		nsCfg.Clock = cfg.Clock
	}
	sm := status.NewManager(cfg.Client, cfg.Observer)
	containers := runtimecache.New(cfg.Runtime)
	var relist time.Duration
	if cfg.Relist {
		relist = cfg.RelistPeriod
		if relist <= 0 {
			relist = pleg.DefaultPeriod
		}
	}
	var own *prober.Manager
	if cfg.Prober == nil {
		own = prober.New(prober.Config{Runtime: cfg.Runtime, Recorder: cfg.Recorder, Clock: cfg.Clock})
		cfg.Prober = own
	}
	return &Node{
		name:       nsCfg.NodeName,
		prober:     own,
		containers: containers,
		relist:     relist,
		status:     sm,
		workers: podworkers.New(ctx, podworkers.Config{
			Client: cfg.Client, Runtime: containers, Status: sm, Recorder: cfg.Recorder,
			HostIP: nsCfg.NodeIP, Clock: cfg.Clock, Prober: cfg.Prober,
		}),
		nodeStatus: nodestatus.New(cfg.Client, nsCfg),
		lease:      nodelease.New(cfg.Client, nsCfg.NodeName, cfg.LeaseDuration, cfg.LeaseRenewInterval, cfg.Clock),
	}
}

// Run registers the node and keeps its status and lease fresh, and relists
// a runtime that does not report its changes, until ctx ends.
func (n *Node) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); n.nodeStatus.Run(ctx) }()
	go func() { defer wg.Done(); n.lease.Run(ctx) }()
	if n.prober != nil {
		wg.Add(1)
		go func() { defer wg.Done(); n.prober.Run(ctx) }()
	}
	if n.relist > 0 {
		// The relist refreshes the cache itself, so what it reports only
		// wakes the workers.
		relister := pleg.New(n.containers.Relist, n.workers.Notify)
		wg.Add(1)
		go func() { defer wg.Done(); relister.Run(ctx, n.relist) }()
	}
	wg.Wait()
}

// UpdatePod hands the node a pod bound to it, new or changed.
func (n *Node) UpdatePod(pod *v1alpha1.Pod) { n.workers.UpdatePod(pod) }

// DeletePod tells the node a pod of its is gone from the API.
func (n *Node) DeletePod(pod *v1alpha1.Pod) { n.workers.DeletePod(pod) }

// Notify tells the node that a pod's containers changed in the runtime: the
// cached listing is stale, and the pod's worker wakes.
func (n *Node) Notify(uid types.UID) {
	n.containers.Invalidate()
	n.workers.Notify(uid)
}

// PhaseCounts counts the node's pods by phase, for metrics.
func (n *Node) PhaseCounts() map[v1alpha1.PodPhase]int { return n.status.PhaseCounts() }

// RunOrphanCleanup removes, now and then every OrphanCleanupInterval, the
// containers of pods the node does not have. Start it only once synced
// reports that every pod of the informer reached the node.
func (n *Node) RunOrphanCleanup(ctx context.Context) {
	for {
		if err := n.workers.CleanupOrphans(ctx); err != nil {
			klog.ErrorS(err, "Cleaning up orphaned containers", "node", n.name)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(OrphanCleanupInterval):
		}
	}
}

// Wait waits for the pod workers after ctx ended.
func (n *Node) Wait() { n.workers.Wait() }

// PodHandler feeds pods from an informer to the node that runs them:
// nodeFor returns the node for a node name, or nil for a pod of no node here.
func PodHandler(nodeFor func(nodeName string) *Node) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if pod, ok := obj.(*v1alpha1.Pod); ok {
				if n := nodeFor(pod.Spec.NodeName); n != nil {
					n.UpdatePod(pod)
				}
			}
		},
		UpdateFunc: func(_, obj any) {
			if pod, ok := obj.(*v1alpha1.Pod); ok {
				if n := nodeFor(pod.Spec.NodeName); n != nil {
					n.UpdatePod(pod)
				}
			}
		},
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if pod, ok := obj.(*v1alpha1.Pod); ok {
				if n := nodeFor(pod.Spec.NodeName); n != nil {
					n.DeletePod(pod)
				}
			}
		},
	}
}
