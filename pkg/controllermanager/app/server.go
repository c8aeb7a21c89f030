// Package app is the skiff-controller-manager program: its cobra command,
// options named as kube-controller-manager's, leader election on a skiff
// Lease, and the controllers it runs (pkg/controller/<name>).
package app

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/spf13/cobra"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/pkg/cli"
	"skiff.dev/skiff/pkg/client/events"
	skiffleaderelection "skiff.dev/skiff/pkg/client/leaderelection"
	"skiff.dev/skiff/pkg/client/transform"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
)

// ErrLeadershipLost is returned by Run when the leader Lease was lost: the
// process exits and its supervisor restarts it, as upstream's does.
var ErrLeadershipLost = skiffleaderelection.ErrLeadershipLost

// NewControllerManagerCommand is the skiff-controller-manager command.
func NewControllerManagerCommand() *cobra.Command {
	o := NewOptions()
	return cli.Daemon{
		Name:  "skiff-controller-manager",
		Short: "Run the controllers that keep a skiff cluster's desired state true",
		Long: `skiff-controller-manager watches a skiff API server and runs its control
loops: node lifecycle (Ready=Unknown and NoExecute taints for nodes whose Lease
is not renewed), taint-based eviction, pod garbage collection and the
ownerReference garbage collector.

With --leader-elect (the default) only the replica holding the Lease
--leader-elect-resource-namespace/--leader-elect-resource-name runs them; a
replica that loses the Lease exits. /healthz, /livez and /readyz are served
to anyone on the HTTPS --secure-port; /metrics and /debug/pprof only to a
client certificate from --client-ca-file in group system:masters.`,
		Flags: o.Flags(),
		Run:   func(ctx context.Context) error { return Run(ctx, o) },
	}.Command()
}

// clients are what the controller manager talks to the API server with.
type clients struct {
	client      clientset.Interface
	leaderElect clientset.Interface
	// kube writes core/v1 Events (and reads namespaces).
	kube      kubernetes.Interface
	metadata  metadata.Interface
	discovery discovery.ServerResourcesInterface
}

// Run runs the controllers until ctx is cancelled (returning nil) or the
// leader Lease is lost (returning ErrLeadershipLost).
func Run(ctx context.Context, o *Options) error {
	if errs := o.Validate(); len(errs) > 0 {
		return utilerrors.NewAggregate(errs)
	}
	cfg, err := o.RESTConfig()
	if err != nil {
		return err
	}
	cfg = rest.AddUserAgent(cfg, "skiff-controller-manager")
	var c clients
	if c.client, err = clientset.NewForConfig(cfg); err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	if c.kube, err = events.NewClient(cfg); err != nil {
		return err
	}
	if c.metadata, err = metadata.NewForConfig(cfg); err != nil {
		return fmt.Errorf("create metadata client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("create discovery client: %w", err)
	}
	c.discovery = dc
	// Each leader election request must fail well within the renew
	// deadline, or a hung call would keep a leader believing it leads.
	leCfg := rest.CopyConfig(cfg)
	leCfg.Timeout = max(o.LeaderElection.RenewDeadline/2, time.Second)
	if c.leaderElect, err = clientset.NewForConfig(rest.AddUserAgent(leCfg, "leader-election")); err != nil {
		return fmt.Errorf("create leader election client: %w", err)
	}
	return run(ctx, o, c, clock.RealClock{}, nil)
}

// run is Run with the clients given; it reports the secure server's
// address on addr (when not nil) once listening, for tests.
func run(ctx context.Context, o *Options, c clients, clk clock.WithTicker, addr chan<- string) error {
	enabled, err := enabledControllers(o.Controllers)
	if err != nil {
		return err
	}
	factory := externalversions.NewSharedInformerFactoryWithOptions(c.client, 0,
		externalversions.WithTransform(transform.TrimManagedFields))
	// Shutdown waits for the informers, so ctx must be cancelled first:
	// deferred functions run last-in first-out.
	defer factory.Shutdown()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	cc := &ControllerContext{
		Options: o, Client: c.client, Kube: c.kube, Metadata: c.metadata, Discovery: c.discovery,
		Informers: factory, Clock: clk, host: hostname(),
	}
	defer cc.shutdownEvents()

	le := skiffleaderelection.NewHealth(o.LeaderElection)
	healthChecks := []healthz.HealthChecker{le}
	readyChecks := append(slices.Clone(healthChecks), healthz.NewShutdownHealthz(ctx.Done()), healthz.NewInformerSyncHealthz(factory))
	stopServing, metricsAddr, err := o.Serving.Serve("skiff-controller-manager", o.Kubeconfig, healthChecks, readyChecks)
	if err != nil {
		return err
	}
	defer stopServing()
	if addr != nil {
		addr <- metricsAddr
	}

	runAll := func(ctx context.Context) error {
		return runControllers(ctx, cc, enabled)
	}
	if !o.LeaderElection.LeaderElect {
		return runAll(ctx)
	}
	return skiffleaderelection.Elector{
		Config: o.LeaderElection, Name: "skiff-controller-manager", Host: cc.host,
		Client: c.leaderElect.CoreV1alpha1(), Recorder: cc.recorder("skiff-controller-manager"), Health: le,
	}.Run(ctx, runAll)
}

// runControllers builds the enabled controllers, starts the informers they
// asked for, and runs them until ctx ends.
func runControllers(ctx context.Context, cc *ControllerContext, enabled []controllerDescriptor) error {
	var runs []runFunc
	for _, d := range enabled {
		r, err := d.init(cc)
		if err != nil {
			return fmt.Errorf("start %s: %w", d.name, err)
		}
		klog.InfoS("Starting controller", "controller", d.name)
		runs = append(runs, r)
	}
	cc.Informers.Start(ctx.Done())
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r(ctx)
		}()
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}
