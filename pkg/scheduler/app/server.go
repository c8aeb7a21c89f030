// Package app is the skiff-scheduler program: its cobra command, and Run,
// which the all-in-one `skiff up` calls in-process.
package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"skiff.dev/skiff/pkg/cli"
	"skiff.dev/skiff/pkg/client/events"
	skiffleaderelection "skiff.dev/skiff/pkg/client/leaderelection"
	"skiff.dev/skiff/pkg/client/transform"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
	"skiff.dev/skiff/pkg/scheduler"
	"skiff.dev/skiff/pkg/scheduler/options"
)

// ErrLeadershipLost is returned by Run when another replica took the
// leader Lease; the process should exit and be restarted, as upstream's
// does, rather than schedule with a stale view.
var ErrLeadershipLost = skiffleaderelection.ErrLeadershipLost

// NewSchedulerCommand is the skiff-scheduler command.
func NewSchedulerCommand() *cobra.Command {
	o := options.NewOptions()
	return cli.Daemon{
		Name:  "skiff-scheduler",
		Short: "Bind pending pods to the nodes that fit them best",
		Long: `skiff-scheduler watches pods and nodes on a skiff API server, picks a node
for every pending pod whose spec.schedulerName is its --scheduler-name
(filters: node name, cordon, readiness, taints, node selector and affinity,
cpu/memory/pod count; scores: spreading, balance, soft taints, preferred
affinity), and binds the pod through pods/binding.

With --leader-elect (the default) only the replica holding the Lease
--leader-elect-resource-namespace/--leader-elect-resource-name schedules;
a replica that loses the Lease exits non-zero, to be restarted.

/healthz, /livez, /readyz, /metrics and, with --profiling, /debug/pprof are
served over HTTPS on --bind-address:--secure-port (10259), as kube-scheduler
serves them: callers are authenticated by client certificate
(--client-ca-file) or token (TokenReview) and authorized by
SubjectAccessReview against the API server; the health paths and
system:masters are always allowed.`,
		Flags: o.Flags(),
		Run:   func(ctx context.Context) error { return Run(ctx, o) },
	}.Command()
}

// Run schedules until ctx is cancelled, then returns nil once the bindings
// in flight have returned. With leader election it schedules only while
// leading, and returns ErrLeadershipLost if the lease is lost.
func Run(ctx context.Context, o *options.Options) error {
	if errs := o.Validate(); len(errs) > 0 {
		return utilerrors.NewAggregate(errs)
	}
	cfg, err := o.RESTConfig()
	if err != nil {
		return err
	}
	client, err := clientset.NewForConfig(rest.AddUserAgent(rest.CopyConfig(cfg), "skiff-scheduler"))
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	// Each leader election request must fail well within the renew
	// deadline, or a hung call would keep a leader believing it leads.
	leCfg := rest.CopyConfig(cfg)
	leCfg.Timeout = max(o.LeaderElection.RenewDeadline/2, time.Second)
	leClient, err := clientset.NewForConfig(rest.AddUserAgent(leCfg, "leader-election"))
	if err != nil {
		return fmt.Errorf("create leader election client: %w", err)
	}
	eventsClient, err := events.NewClient(rest.AddUserAgent(rest.CopyConfig(cfg), "skiff-scheduler"))
	if err != nil {
		return err
	}
	return run(ctx, o, client, leClient, eventsClient, nil)
}

// run is Run with the clients given; it reports the secure server's address
// on addr (when not nil) once listening, for tests.
func run(ctx context.Context, o *options.Options, client, leClient clientset.Interface, eventsClient kubernetes.Interface, addr chan<- string) error {
	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("get hostname: %w", err)
	}

	// Informers stop with this context, also when leadership is lost.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	recorder, stopEvents := events.NewRecorder(eventsClient, o.SchedulerName, host)
	defer stopEvents()

	factory := newInformerFactory(client)
	// Shutdown waits for the informers, which stop only when ctx ends: end
	// it first. Waiting on a live ctx after a lost lease was a hang that
	// kept a healthy-looking process that never scheduled again.
	defer func() {
		cancel()
		factory.Shutdown()
	}()
	sched, err := scheduler.New(client, factory, recorder, scheduler.Config{
		SchedulerName:            o.SchedulerName,
		Parallelism:              o.Parallelism,
		PercentageOfNodesToScore: o.PercentageOfNodesToScore,
		// Namespaces are core/v1 objects, read with the client-go client.
		CoreClient: eventsClient,
	})
	if err != nil {
		return err
	}

	le := skiffleaderelection.NewHealth(o.LeaderElection)
	healthChecks := []healthz.HealthChecker{le}
	readyChecks := []healthz.HealthChecker{le, healthz.NewShutdownHealthz(ctx.Done()), healthz.NewInformerSyncHealthz(factory)}
	stopServing, servingAddr, err := o.Serving.Serve("skiff-scheduler", o.Kubeconfig, healthChecks, readyChecks)
	if err != nil {
		return err
	}
	defer stopServing()
	if addr != nil {
		addr <- servingAddr
	}

	// Start the informers before the election, as upstream does, so a
	// standby replica takes over with a warm cache.
	factory.Start(ctx.Done())

	if !o.LeaderElection.LeaderElect {
		err := sched.Run(ctx)
		if ctx.Err() != nil {
			return nil // asked to stop, perhaps before the caches synced
		}
		return err
	}
	return skiffleaderelection.Elector{
		Config: o.LeaderElection, Name: o.SchedulerName, Host: host,
		Client: leClient.CoreV1alpha1(), Recorder: recorder, Health: le,
	}.Run(ctx, sched.Run)
}

// newInformerFactory returns the scheduler's informers. They keep no
// managedFields, as kube-scheduler's pod informer keeps none: the scheduler
// never reads them, and they are about a third of a pod's decoded size.
func newInformerFactory(client clientset.Interface) externalversions.SharedInformerFactory {
	return externalversions.NewSharedInformerFactoryWithOptions(client, 0,
		externalversions.WithTransform(transform.TrimManagedFields))
}
