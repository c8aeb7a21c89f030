package leaderelection

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	skiffclient "skiff.dev/skiff/pkg/generated/clientset/versioned/typed/core/v1alpha1"
)

// ErrLeadershipLost is returned by Run when the Lease was lost while
// leading: the process should exit and be restarted by its supervisor, as
// upstream's components do, rather than act on a stale view.
var ErrLeadershipLost = errors.New("leader election lost")

// Config is a component's leader election, as the --leader-elect* flags of
// upstream's components configure it.
type Config struct {
	LeaderElect       bool
	LeaseDuration     time.Duration
	RenewDeadline     time.Duration
	RetryPeriod       time.Duration
	ResourceNamespace string
	ResourceName      string
}

// NewConfig returns upstream's defaults for a Lease skiff-system/name.
func NewConfig(name string) Config {
	return Config{
		LeaderElect:       true,
		LeaseDuration:     15 * time.Second,
		RenewDeadline:     10 * time.Second,
		RetryPeriod:       2 * time.Second,
		ResourceNamespace: "skiff-system",
		ResourceName:      name,
	}
}

// AddFlags adds the --leader-elect* flags; what says what runs only while
// leading ("the scheduler").
func (c *Config) AddFlags(fs *pflag.FlagSet, what string) {
	fs.BoolVar(&c.LeaderElect, "leader-elect", c.LeaderElect, fmt.Sprintf("Run %s only while holding the leader Lease, so that several replicas never act at once.", what))
	fs.DurationVar(&c.LeaseDuration, "leader-elect-lease-duration", c.LeaseDuration, "How long followers wait after the leader's last renewal before taking over.")
	fs.DurationVar(&c.RenewDeadline, "leader-elect-renew-deadline", c.RenewDeadline, "How long the leader keeps trying to renew before it stops leading. Less than the lease duration.")
	fs.DurationVar(&c.RetryPeriod, "leader-elect-retry-period", c.RetryPeriod, "How long to wait between attempts to acquire or renew the Lease.")
	fs.StringVar(&c.ResourceNamespace, "leader-elect-resource-namespace", c.ResourceNamespace, "Namespace of the leader Lease.")
	fs.StringVar(&c.ResourceName, "leader-elect-resource-name", c.ResourceName, "Name of the leader Lease.")
}

// Validate reports every invalid flag; none when leader election is off.
func (c Config) Validate() []error {
	if !c.LeaderElect {
		return nil
	}
	var errs []error
	if c.LeaseDuration <= c.RenewDeadline {
		errs = append(errs, fmt.Errorf("--leader-elect-lease-duration (%v) must be greater than --leader-elect-renew-deadline (%v)", c.LeaseDuration, c.RenewDeadline))
	}
	// client-go's elector needs room for its 1.2 jitter factor.
	if float64(c.RenewDeadline) <= 1.2*float64(c.RetryPeriod) {
		errs = append(errs, fmt.Errorf("--leader-elect-renew-deadline (%v) must be greater than 1.2 × --leader-elect-retry-period (%v)", c.RenewDeadline, c.RetryPeriod))
	}
	if c.RetryPeriod <= 0 {
		errs = append(errs, fmt.Errorf("--leader-elect-retry-period must be positive"))
	}
	if c.ResourceNamespace == "" || c.ResourceName == "" {
		errs = append(errs, fmt.Errorf("--leader-elect-resource-namespace and --leader-elect-resource-name must not be empty"))
	}
	return errs
}

// Elector runs a component under leader election on a skiff Lease.
type Elector struct {
	Config Config
	// Name is the component's, for logs ("skiff-scheduler").
	Name string
	// Host prefixes the holder identity; a random suffix makes it unique.
	Host   string
	Client skiffclient.LeasesGetter
	// Recorder records LeaderElection events; may be nil.
	Recorder resourcelock.EventRecorder
	// Health, when not nil, reports a leader that cannot renew and a
	// Lease lost.
	Health *Health
}

// Health is the leaderElection health check: it fails while a leader has
// failed to renew for too long, and once the Lease is lost, for the moment
// before the process exits.
type Health struct {
	watchdog *leaderelection.HealthzAdaptor
	lost     atomic.Bool
}

// NewHealth returns the check for c; it always passes when leader election
// is off.
func NewHealth(c Config) *Health {
	h := &Health{}
	if c.LeaderElect {
		// Upstream's timeout: a leader that has not renewed for 20 s past
		// its lease is unhealthy.
		h.watchdog = leaderelection.NewLeaderHealthzAdaptor(20 * time.Second)
	}
	return h
}

// Name is the check's name in /healthz and /readyz.
func (h *Health) Name() string { return "leaderElection" }

// Check fails once the Lease is lost, or while the leader cannot renew.
func (h *Health) Check(r *http.Request) error {
	if h.lost.Load() {
		return ErrLeadershipLost
	}
	if h.watchdog == nil {
		return nil
	}
	return h.watchdog.Check(r)
}

// Run waits for the Lease, then runs lead under a context that ends when
// leadership does. It returns nil once ctx ends, and ErrLeadershipLost if
// the Lease was lost first (whatever lead returned then).
func (e Elector) Run(ctx context.Context, lead func(context.Context) error) error {
	id := e.Host + "_" + string(uuid.NewUUID())
	lock := New(e.Config.ResourceNamespace, e.Config.ResourceName, e.Client, id, e.Recorder)

	// The elector ends with electCtx: on return, so that a lead that gives
	// up while still leading releases the Lease (ReleaseOnCancel).
	electCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The elector hands over a context that ends when leadership does;
	// lead runs in this goroutine under it.
	leading := make(chan context.Context, 1)
	var watchdog *leaderelection.HealthzAdaptor
	if e.Health != nil {
		watchdog = e.Health.watchdog
	}
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   e.Config.LeaseDuration,
		RenewDeadline:   e.Config.RenewDeadline,
		RetryPeriod:     e.Config.RetryPeriod,
		WatchDog:        watchdog,
		ReleaseOnCancel: true,
		Name:            e.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leaderCtx context.Context) {
				klog.InfoS("Started leading", "lease", lock.Describe(), "identity", id)
				leading <- leaderCtx
			},
			OnStoppedLeading: func() {
				if electCtx.Err() != nil {
					klog.InfoS("Stopped leading", "lease", lock.Describe(), "identity", id)
					return
				}
				if e.Health != nil {
					e.Health.lost.Store(true)
				}
				klog.ErrorS(ErrLeadershipLost, "Stopped leading; exiting to be restarted", "lease", lock.Describe(), "identity", id)
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
		elector.Run(electCtx)
	}()
	defer func() {
		cancel()
		<-electorDone
	}()

	select {
	case leaderCtx := <-leading:
		leadErr := lead(leaderCtx)
		if ctx.Err() != nil {
			return nil // asked to stop
		}
		if leaderCtx.Err() == nil {
			// lead gave up while still leading.
			if leadErr == nil {
				leadErr = fmt.Errorf("%s stopped while leading", e.Name)
			}
			return leadErr
		}
		if leadErr != nil {
			klog.ErrorS(leadErr, "Stopped while leading", "component", e.Name)
		}
	case <-electorDone:
		if ctx.Err() != nil {
			return nil
		}
	}
	return ErrLeadershipLost
}
