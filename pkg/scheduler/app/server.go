// Package app is the skiff-scheduler program: its cobra command, and Run,
// which the all-in-one `skiff up` calls in-process.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/spf13/cobra"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/cli"
	"skiff.dev/skiff/pkg/client/events"
	skiffleaderelection "skiff.dev/skiff/pkg/client/leaderelection"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
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
--leader-elect-resource-namespace/--leader-elect-resource-name schedules.
/healthz and /metrics are served over plain HTTP on --metrics-bind-address.`,
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
	return run(ctx, o, client, leClient, nil)
}

// run is Run with the clients given; it reports the metrics server's
// address on addr (when not nil) once listening, for tests.
func run(ctx context.Context, o *options.Options, client, leClient clientset.Interface, addr chan<- string) error {
	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("get hostname: %w", err)
	}

	// Informers stop with this context, also when leadership is lost.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	recorder, stopEvents := events.NewRecorder(client, o.SchedulerName, host)
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

	var watchdog *leaderelection.HealthzAdaptor
	if o.LeaderElection.LeaderElect {
		watchdog = leaderelection.NewLeaderHealthzAdaptor(20 * time.Second)
	}
	metricsAddr, err := serveMetrics(ctx, o, watchdog)
	if err != nil {
		return err
	}
	if addr != nil {
		addr <- metricsAddr
	}

	// Start the informers before the election, as upstream does, so a
	// standby replica takes over with a warm cache.
	factory.Start(ctx.Done())

	if !o.LeaderElection.LeaderElect {
		return sched.Run(ctx)
	}
	return runWithLeaderElection(ctx, o, leClient, host, recorder, watchdog, sched)
}

func runWithLeaderElection(ctx context.Context, o *options.Options, leClient clientset.Interface, host string,
	recorder record.EventRecorder, watchdog *leaderelection.HealthzAdaptor, sched *scheduler.Scheduler) error {
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
		WatchDog:        watchdog,
		ReleaseOnCancel: true,
		Name:            o.SchedulerName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leaderCtx context.Context) {
				klog.InfoS("Started leading", "lease", lock.Describe(), "identity", id)
				leading <- leaderCtx
			},
			OnStoppedLeading: func() {
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

// serveMetrics serves /healthz, /metrics and the profiles until ctx ends.
// It listens before returning so a port in use fails the start.
func serveMetrics(ctx context.Context, o *options.Options, watchdog *leaderelection.HealthzAdaptor) (string, error) {
	if o.MetricsBindAddress == "" || o.MetricsBindAddress == "0" {
		return "", nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if watchdog != nil {
			if err := watchdog.Check(r); err != nil {
				http.Error(w, "leaderElection failed: "+err.Error(), http.StatusInternalServerError)
				return
			}
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.Handle("/metrics", legacyregistry.Handler())
	if o.EnableProfiling {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	ln, err := net.Listen("tcp", o.MetricsBindAddress)
	if err != nil {
		return "", fmt.Errorf("listen on --metrics-bind-address %s: %w", o.MetricsBindAddress, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.ErrorS(err, "Metrics server stopped", "address", ln.Addr().String())
		}
	}()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	klog.InfoS("Serving health and metrics", "address", ln.Addr().String())
	return ln.Addr().String(), nil
}
