// Package app is the skiff-scheduler program: its cobra command, and Run,
// which the all-in-one `skiff up` calls in-process.
package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/uuid"
	genericapifilters "k8s.io/apiserver/pkg/endpoints/filters"
	apirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/apiserver/pkg/server/mux"
	"k8s.io/apiserver/pkg/server/routes"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/cli"
	"skiff.dev/skiff/pkg/client/events"
	skiffleaderelection "skiff.dev/skiff/pkg/client/leaderelection"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/scheme"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
	"skiff.dev/skiff/pkg/scheduler"
	"skiff.dev/skiff/pkg/scheduler/options"
)

// ErrLeadershipLost is returned by Run when another replica took the
// leader Lease; the process should exit and be restarted, as upstream's
// does, rather than schedule with a stale view.
var ErrLeadershipLost = errors.New("leader election lost")

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

	factory := externalversions.NewSharedInformerFactory(client, 0)
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
	})
	if err != nil {
		return err
	}

	le := &leadership{}
	if o.LeaderElection.LeaderElect {
		le.watchdog = leaderelection.NewLeaderHealthzAdaptor(20 * time.Second)
	}
	healthChecks := []healthz.HealthChecker{le}
	readyChecks := []healthz.HealthChecker{le, healthz.NewShutdownHealthz(ctx.Done()), healthz.NewInformerSyncHealthz(factory)}
	stopServing, servingAddr, err := serve(o, healthChecks, readyChecks)
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
	return runWithLeaderElection(ctx, o, leClient, host, recorder, le, sched)
}

// leadership is the leaderElection health check: it fails once the lease
// is lost, for the moment before the process exits, and while a leader
// has failed to renew for too long.
type leadership struct {
	watchdog *leaderelection.HealthzAdaptor
	lost     atomic.Bool
}

func (l *leadership) Name() string { return "leaderElection" }

func (l *leadership) Check(r *http.Request) error {
	if l.lost.Load() {
		return ErrLeadershipLost
	}
	if l.watchdog == nil {
		return nil
	}
	return l.watchdog.Check(r)
}

func runWithLeaderElection(ctx context.Context, o *options.Options, leClient clientset.Interface, host string,
	recorder record.EventRecorder, health *leadership, sched *scheduler.Scheduler) error {
	le := o.LeaderElection
	id := host + "_" + string(uuid.NewUUID())
	lock := skiffleaderelection.New(le.ResourceNamespace, le.ResourceName, leClient.CoreV1alpha1(), id, recorder)

	// The elector hands over a context that ends when leadership does;
	// the scheduler runs in this goroutine under it.
	leading := make(chan context.Context, 1)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   le.LeaseDuration,
		RenewDeadline:   le.RenewDeadline,
		RetryPeriod:     le.RetryPeriod,
		WatchDog:        health.watchdog,
		ReleaseOnCancel: true,
		Name:            o.SchedulerName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leaderCtx context.Context) {
				klog.InfoS("Started leading", "lease", lock.Describe(), "identity", id)
				leading <- leaderCtx
			},
			OnStoppedLeading: func() {
				if ctx.Err() == nil {
					health.lost.Store(true)
					klog.ErrorS(ErrLeadershipLost, "Stopped leading; exiting to be restarted", "lease", lock.Describe(), "identity", id)
					return
				}
				klog.InfoS("Stopped leading", "lease", lock.Describe(), "identity", id)
			},
			OnNewLeader: func(identity string) {
				if identity != id {
					klog.InfoS("Another replica leads", "lease", lock.Describe(), "leader", identity)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	klog.InfoS("Waiting to lead", "lease", lock.Describe(), "identity", id)
	electorDone := make(chan struct{})
	go func() {
		defer close(electorDone)
		elector.Run(ctx)
	}()

	select {
	case leaderCtx := <-leading:
		runErr := sched.Run(leaderCtx)
		<-electorDone
		if ctx.Err() != nil {
			return nil // asked to stop
		}
		if runErr != nil {
			klog.ErrorS(runErr, "Scheduler stopped")
		}
	case <-electorDone:
		if ctx.Err() != nil {
			return nil
		}
	}
	return ErrLeadershipLost
}

// serve serves the health, metrics and profiling endpoints on the secure
// port until the returned stop is called; it listens before returning, so a
// port in use fails the start. It returns the address listened on, or ""
// when --secure-port is 0.
func serve(o *options.Options, healthChecks, readyChecks []healthz.HealthChecker) (stop func(), addr string, err error) {
	cfg, err := o.Serving()
	if err != nil || cfg == nil {
		return func() {}, "", err
	}
	m := mux.NewPathRecorderMux("skiff-scheduler")
	healthz.InstallHandler(m, healthChecks...)
	healthz.InstallLivezHandler(m)
	healthz.InstallReadyzHandler(m, readyChecks...)
	m.Handle("/metrics", legacyregistry.Handler())
	if o.EnableProfiling {
		routes.Profiling{}.Install(m)
	}
	handler := withAuth(m, cfg)

	stopCh := make(chan struct{})
	stoppedCh, _, err := cfg.SecureServing.Serve(handler, 5*time.Second, stopCh)
	if err != nil {
		close(stopCh)
		return nil, "", fmt.Errorf("serve on the secure port: %w", err)
	}
	addr = cfg.SecureServing.Listener.Addr().String()
	klog.InfoS("Serving health, metrics and profiles securely", "address", addr, "profiling", o.EnableProfiling)
	return func() {
		close(stopCh)
		<-stoppedCh
	}, addr, nil
}

// withAuth wraps the endpoints in the filters kube-scheduler puts in front
// of its own: authentication, then authorization, each answering with a
// Status on refusal.
func withAuth(h http.Handler, cfg *options.Serving) http.Handler {
	resolver := &apirequest.RequestInfoFactory{}
	h = genericapifilters.WithAuthorization(h, cfg.Authorization.Authorizer, scheme.Codecs)
	h = genericapifilters.WithAuthentication(h, cfg.Authentication.Authenticator, genericapifilters.Unauthorized(scheme.Codecs), nil, nil)
	h = genericapifilters.WithRequestInfo(h, resolver)
	h = genericapifilters.WithCacheControl(h)
	h = genericfilters.WithHTTPLogging(h)
	return genericfilters.WithPanicRecovery(h, resolver)
}
