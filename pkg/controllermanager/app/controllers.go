package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/pkg/client/events"
	"skiff.dev/skiff/pkg/controller/deployment"
	"skiff.dev/skiff/pkg/controller/garbagecollector"
	"skiff.dev/skiff/pkg/controller/namespace"
	"skiff.dev/skiff/pkg/controller/nodelifecycle"
	"skiff.dev/skiff/pkg/controller/podgc"
	"skiff.dev/skiff/pkg/controller/replicaset"
	"skiff.dev/skiff/pkg/controller/tainteviction"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
)

// ControllerContext is what every controller is built from.
type ControllerContext struct {
	Options *Options
	Client  clientset.Interface
	// Kube is client-go's clientset: core/v1 Events (and Namespaces).
	Kube      kubernetes.Interface
	Metadata  metadata.Interface
	Discovery discovery.ServerResourcesInterface
	Informers externalversions.SharedInformerFactory
	Clock     clock.WithTicker
	host      string
	// stops flush and stop the event broadcasters the controllers made.
	stops []func()
}

// recorder returns an event recorder whose events carry component as
// their source, the name upstream's controller uses.
func (c *ControllerContext) recorder(component string) record.EventRecorder {
	r, stop := events.NewRecorder(c.Kube, component, c.host)
	c.stops = append(c.stops, stop)
	return r
}

// shutdownEvents flushes the controllers' events.
func (c *ControllerContext) shutdownEvents() {
	for _, stop := range c.stops {
		stop()
	}
}

// runFunc runs a built controller until ctx ends.
type runFunc func(ctx context.Context)

// controllerDescriptor names a controller as kube-controller-manager does
// (with its older aliases) and builds it.
type controllerDescriptor struct {
	name    string
	aliases []string
	// disabledByDefault: "*" leaves it off.
	disabledByDefault bool
	init              func(c *ControllerContext) (runFunc, error)
}

// descriptors are the controllers this binary can run, in start order.
func descriptors() []controllerDescriptor {
	return []controllerDescriptor{
		{name: "garbage-collector-controller", aliases: []string{"garbagecollector"}, init: newGarbageCollector},
		{name: "node-lifecycle-controller", aliases: []string{"nodelifecycle"}, init: newNodeLifecycle},
		{name: "taint-eviction-controller", init: newTaintEviction},
		{name: "pod-garbage-collector-controller", aliases: []string{"podgc"}, init: newPodGC},
		{name: "replicaset-controller", aliases: []string{"replicaset"}, init: newReplicaSet},
		{name: "deployment-controller", aliases: []string{"deployment"}, init: newDeployment},
		// Standalone skiff's: with skiff aggregated into a host cluster, the
		// host's namespace controller empties deleted namespaces, and this
		// one is turned off with --controllers=*,-namespace-controller.
		{name: "namespace-controller", aliases: []string{"namespace"}, init: newNamespace},
	}
}

func knownNames() sets.Set[string] {
	names := sets.New[string]()
	for _, d := range descriptors() {
		names.Insert(d.name)
		names.Insert(d.aliases...)
	}
	return names
}

// enabledControllers applies --controllers to the descriptors.
func enabledControllers(flags []string) ([]controllerDescriptor, error) {
	known := knownNames()
	star := false
	on, off := sets.New[string](), sets.New[string]()
	for _, f := range flags {
		switch {
		case f == "*":
			star = true
		case len(f) > 1 && f[0] == '-' && known.Has(f[1:]):
			off.Insert(f[1:])
		case known.Has(f):
			on.Insert(f)
		default:
			return nil, fmt.Errorf("--controllers: unknown controller %q; known: %v", f, sets.List(known))
		}
	}
	var out []controllerDescriptor
	for _, d := range descriptors() {
		names := append([]string{d.name}, d.aliases...)
		switch {
		case off.HasAny(names...):
		case on.HasAny(names...), star && !d.disabledByDefault:
			out = append(out, d)
		}
	}
	return out, nil
}

// sharedInformers lets the garbage collector use the typed informers of
// the kinds the generated factory knows.
type sharedInformers struct {
	factory externalversions.SharedInformerFactory
}

func (s sharedInformers) InformerFor(gvr schema.GroupVersionResource) (cache.SharedIndexInformer, bool) {
	gi, err := s.factory.ForResource(gvr)
	if err != nil {
		return nil, false
	}
	return gi.Informer(), true
}

func (s sharedInformers) Start(stop <-chan struct{}) { s.factory.Start(stop) }

func newGarbageCollector(c *ControllerContext) (runFunc, error) {
	gc := garbagecollector.New(c.Metadata, c.Discovery, sharedInformers{c.Informers})
	workers := c.Options.ConcurrentGCSyncs
	return func(ctx context.Context) { gc.Run(ctx, workers, garbagecollector.DefaultResourceSyncPeriod) }, nil
}

func newNodeLifecycle(c *ControllerContext) (runFunc, error) {
	core := c.Informers.Core().V1alpha1()
	ctrl, err := nodelifecycle.New(c.Client, core.Nodes(), core.Leases(), c.recorder("node-controller"), c.Clock, nodelifecycle.Config{
		GracePeriod:  c.Options.NodeMonitorGracePeriod,
		EvictionRate: c.Options.NodeEvictionRate,
	})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) { ctrl.Run(ctx, 1) }, nil
}

func newTaintEviction(c *ControllerContext) (runFunc, error) {
	core := c.Informers.Core().V1alpha1()
	ctrl, err := tainteviction.New(c.Client, core.Pods(), core.Nodes(), c.recorder("taint-eviction-controller"), c.Clock)
	if err != nil {
		return nil, err
	}
	// Upstream's taint manager deletes with 8 workers.
	return func(ctx context.Context) { ctrl.Run(ctx, 8) }, nil
}

func newPodGC(c *ControllerContext) (runFunc, error) {
	core := c.Informers.Core().V1alpha1()
	ctrl := podgc.New(c.Client, core.Pods(), core.Nodes(), c.Clock, podgc.Config{TerminatedPodThreshold: c.Options.TerminatedPodGCThreshold})
	return ctrl.Run, nil
}

func newReplicaSet(c *ControllerContext) (runFunc, error) {
	ctrl, err := replicaset.New(c.Client, c.Informers.Apps().V1alpha1().ReplicaSets(), c.Informers.Core().V1alpha1().Pods(),
		c.recorder("replicaset-controller"), c.Clock)
	if err != nil {
		return nil, err
	}
	workers := c.Options.ConcurrentRSSyncs
	return func(ctx context.Context) { ctrl.Run(ctx, workers) }, nil
}

func newDeployment(c *ControllerContext) (runFunc, error) {
	apps := c.Informers.Apps().V1alpha1()
	ctrl, err := deployment.New(c.Client, apps.Deployments(), apps.ReplicaSets(), c.Informers.Core().V1alpha1().Pods(),
		c.recorder("deployment-controller"), c.Clock)
	if err != nil {
		return nil, err
	}
	workers := c.Options.ConcurrentDeploymentSyncs
	return func(ctx context.Context) { ctrl.Run(ctx, workers) }, nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

func newNamespace(c *ControllerContext) (runFunc, error) {
	// Namespaces are core/v1 objects: client-go's informer, not skiff's.
	f := informers.NewSharedInformerFactory(c.Kube, namespaceResync)
	ctrl, err := namespace.NewController(c.Kube, c.Metadata, c.Discovery, f.Core().V1().Namespaces(), namespaceResync)
	if err != nil {
		return nil, err
	}
	workers := c.Options.ConcurrentNamespaceSyncs
	return func(ctx context.Context) {
		f.Start(ctx.Done())
		defer f.Shutdown()
		ctrl.Run(ctx, workers)
	}, nil
}

// namespaceResync is upstream's --namespace-sync-period: how often a
// terminating namespace is looked at again even when nothing changed.
const namespaceResync = 5 * time.Minute
