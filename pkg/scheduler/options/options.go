// Package options holds skiff-scheduler's command-line options, named as
// kube-scheduler names them, and turns them into a client configuration and
// the configuration of its secure endpoint.
package options

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/pflag"
	genericserver "k8s.io/apiserver/pkg/server"
	apiserveroptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	cliflag "k8s.io/component-base/cli/flag"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// DefaultSecurePort serves /healthz, /livez, /readyz, /metrics and the
// profiles over HTTPS, kube-scheduler's port.
const DefaultSecurePort = 10259

// LeaderElection configures leader election on a skiff Lease.
type LeaderElection struct {
	LeaderElect       bool
	LeaseDuration     time.Duration
	RenewDeadline     time.Duration
	RetryPeriod       time.Duration
	ResourceNamespace string
	ResourceName      string
}

// Options is everything skiff-scheduler can be told on its command line.
type Options struct {
	Kubeconfig string
	Master     string
	// ClientConfig, when set, is used instead of Kubeconfig and Master:
	// for callers that run the scheduler in-process (skiff up, tests).
	ClientConfig *rest.Config

	SchedulerName            string
	Parallelism              int
	PercentageOfNodesToScore int32

	KubeAPIQPS   float32
	KubeAPIBurst int

	LeaderElection LeaderElection

	// SecureServing serves /healthz, /livez, /readyz, /metrics and, with
	// EnableProfiling, /debug/pprof over HTTPS; --secure-port=0 turns it
	// off. Every request is authenticated (client certificates against
	// --client-ca-file, bearer tokens by TokenReview) and authorized by
	// SubjectAccessReview, as kube-scheduler's are; the health paths and
	// system:masters are always allowed.
	SecureServing   *apiserveroptions.SecureServingOptions
	Authentication  *apiserveroptions.DelegatingAuthenticationOptions
	Authorization   *apiserveroptions.DelegatingAuthorizationOptions
	EnableProfiling bool
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	o := &Options{
		SchedulerName: v1alpha1.DefaultSchedulerName,
		Parallelism:   framework.DefaultParallelism,
		// High enough that the API is never what limits scheduling: each
		// pod costs one binding, and an event or status patch at most.
		KubeAPIQPS:   5000,
		KubeAPIBurst: 10000,
		LeaderElection: LeaderElection{
			LeaderElect:       true,
			LeaseDuration:     15 * time.Second,
			RenewDeadline:     10 * time.Second,
			RetryPeriod:       2 * time.Second,
			ResourceNamespace: "skiff-system",
			ResourceName:      "skiff-scheduler",
		},
		SecureServing:  apiserveroptions.NewSecureServingOptions(),
		Authentication: apiserveroptions.NewDelegatingAuthenticationOptions(),
		Authorization:  apiserveroptions.NewDelegatingAuthorizationOptions(),
		// On, as kube-scheduler's is; the profiles are served only to
		// callers authorized for their paths.
		EnableProfiling: true,
	}
	// As kube-scheduler: without a kubeconfig for them (and --kubeconfig,
	// see Serving), tokens and SubjectAccessReviews go nowhere and only
	// client certificates, system:masters and the health paths get in.
	o.Authentication.TolerateInClusterLookupFailure = true
	o.Authentication.RemoteKubeConfigFileOptional = true
	o.Authorization.RemoteKubeConfigFileOptional = true
	// A self-signed serving certificate made in memory, unless
	// --tls-cert-file or --cert-dir says otherwise.
	o.SecureServing.ServerCert.CertDirectory = ""
	o.SecureServing.ServerCert.PairName = "skiff-scheduler"
	o.SecureServing.BindPort = DefaultSecurePort
	return o
}

// Flags returns the flags in named sections, as upstream prints them.
func (o *Options) Flags() cliflag.NamedFlagSets {
	var fss cliflag.NamedFlagSets
	o.addFlags(&fss)
	return fss
}

func (o *Options) addFlags(fss *cliflag.NamedFlagSets) {
	fs := fss.FlagSet("client")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to a kubeconfig file for the skiff API server. Without it (and --master) the in-cluster configuration is used.")
	fs.StringVar(&o.Master, "master", o.Master, "The address of the API server (overrides the server in --kubeconfig).")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "Queries per second allowed to the API server.")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "Burst of queries allowed to the API server.")

	fs = fss.FlagSet("scheduling")
	fs.StringVar(&o.SchedulerName, "scheduler-name", o.SchedulerName, "Schedule only pending pods whose spec.schedulerName is this; it is also the source of the scheduler's events.")
	fs.IntVar(&o.Parallelism, "parallelism", o.Parallelism, "How many nodes are filtered and scored at once.")
	fs.Int32Var(&o.PercentageOfNodesToScore, "percentage-of-nodes-to-score", o.PercentageOfNodesToScore,
		"Stop looking for feasible nodes once this percentage of the cluster (but at least 100 nodes) is found. 0 adapts to the cluster size: 50% less 1% per 125 nodes, at least 5%.")

	fs = fss.FlagSet("leader election")
	le := &o.LeaderElection
	fs.BoolVar(&le.LeaderElect, "leader-elect", le.LeaderElect, "Run only while holding the leader Lease, so that several replicas never schedule at once.")
	fs.DurationVar(&le.LeaseDuration, "leader-elect-lease-duration", le.LeaseDuration, "How long followers wait after the leader's last renewal before taking over.")
	fs.DurationVar(&le.RenewDeadline, "leader-elect-renew-deadline", le.RenewDeadline, "How long the leader keeps trying to renew before it stops leading. Less than the lease duration.")
	fs.DurationVar(&le.RetryPeriod, "leader-elect-retry-period", le.RetryPeriod, "How long to wait between attempts to acquire or renew the Lease.")
	fs.StringVar(&le.ResourceNamespace, "leader-elect-resource-namespace", le.ResourceNamespace, "Namespace of the leader Lease.")
	fs.StringVar(&le.ResourceName, "leader-elect-resource-name", le.ResourceName, "Name of the leader Lease.")

	o.SecureServing.AddFlags(fss.FlagSet("secure serving"))
	o.Authentication.AddFlags(fss.FlagSet("authentication"))
	o.Authorization.AddFlags(fss.FlagSet("authorization"))

	fs = fss.FlagSet("debugging")
	fs.BoolVar(&o.EnableProfiling, "profiling", o.EnableProfiling, "Serve Go profiles at /debug/pprof on the secure port, to callers authorized for those paths.")
}

// AddFlags adds every option to one flag set, for commands that embed the
// scheduler.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	for _, f := range o.Flags().FlagSets {
		fs.AddFlagSet(f)
	}
}

// Validate reports every invalid option.
func (o *Options) Validate() []error {
	var errs []error
	if o.SchedulerName == "" {
		errs = append(errs, fmt.Errorf("--scheduler-name must not be empty"))
	}
	if o.Parallelism <= 0 {
		errs = append(errs, fmt.Errorf("--parallelism must be positive, got %d", o.Parallelism))
	}
	if o.PercentageOfNodesToScore < 0 || o.PercentageOfNodesToScore > 100 {
		errs = append(errs, fmt.Errorf("--percentage-of-nodes-to-score must be between 0 and 100, got %d", o.PercentageOfNodesToScore))
	}
	if o.KubeAPIQPS < 0 {
		errs = append(errs, fmt.Errorf("--kube-api-qps must not be negative, got %v", o.KubeAPIQPS))
	}
	if o.KubeAPIBurst < 0 {
		errs = append(errs, fmt.Errorf("--kube-api-burst must not be negative, got %d", o.KubeAPIBurst))
	}
	if le := o.LeaderElection; le.LeaderElect {
		if le.LeaseDuration <= le.RenewDeadline {
			errs = append(errs, fmt.Errorf("--leader-elect-lease-duration (%v) must be greater than --leader-elect-renew-deadline (%v)", le.LeaseDuration, le.RenewDeadline))
		}
		// client-go's elector needs room for its 1.2 jitter factor.
		if float64(le.RenewDeadline) <= 1.2*float64(le.RetryPeriod) {
			errs = append(errs, fmt.Errorf("--leader-elect-renew-deadline (%v) must be greater than 1.2 × --leader-elect-retry-period (%v)", le.RenewDeadline, le.RetryPeriod))
		}
		if le.RetryPeriod <= 0 {
			errs = append(errs, fmt.Errorf("--leader-elect-retry-period must be positive"))
		}
		if le.ResourceNamespace == "" || le.ResourceName == "" {
			errs = append(errs, fmt.Errorf("--leader-elect-resource-namespace and --leader-elect-resource-name must not be empty"))
		}
	}
	errs = append(errs, o.SecureServing.Validate()...)
	errs = append(errs, o.Authentication.Validate()...)
	errs = append(errs, o.Authorization.Validate()...)
	return errs
}

// Serving is the secure endpoint's configuration.
type Serving struct {
	SecureServing  *genericserver.SecureServingInfo
	Authentication genericserver.AuthenticationInfo
	Authorization  genericserver.AuthorizationInfo
}

// Serving listens on the secure port and builds the authenticator and
// authorizer. It returns nil when --secure-port is 0.
//
// --authentication-kubeconfig and --authorization-kubeconfig default to
// --kubeconfig, the way kubeadm sets up kube-scheduler: the scheduler asks
// the API server it already talks to. Without any, the in-cluster
// configuration is tried.
func (o *Options) Serving() (*Serving, error) {
	if o.SecureServing == nil || (o.SecureServing.BindPort == 0 && o.SecureServing.Listener == nil) {
		return nil, nil
	}
	if err := o.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil, []net.IP{net.ParseIP("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("create a self-signed serving certificate: %w", err)
	}
	s := &Serving{}
	if err := o.SecureServing.ApplyTo(&s.SecureServing); err != nil {
		return nil, fmt.Errorf("listen on --bind-address and --secure-port: %w", err)
	}
	authn, authz := *o.Authentication, *o.Authorization
	if authn.RemoteKubeConfigFile == "" {
		authn.RemoteKubeConfigFile = o.Kubeconfig
	}
	if authz.RemoteKubeConfigFile == "" {
		authz.RemoteKubeConfigFile = o.Kubeconfig
	}
	if err := authn.ApplyTo(&s.Authentication, s.SecureServing, nil); err != nil {
		s.close()
		return nil, fmt.Errorf("delegated authentication: %w", err)
	}
	if err := authz.ApplyTo(&s.Authorization); err != nil {
		s.close()
		return nil, fmt.Errorf("delegated authorization: %w", err)
	}
	return s, nil
}

func (s *Serving) close() {
	if s.SecureServing != nil && s.SecureServing.Listener != nil {
		_ = s.SecureServing.Listener.Close()
	}
}

// RESTConfig returns ClientConfig, or loads the client configuration from
// --kubeconfig and --master, and applies --kube-api-qps and
// --kube-api-burst.
func (o *Options) RESTConfig() (*rest.Config, error) {
	var cfg *rest.Config
	if o.ClientConfig != nil {
		cfg = rest.CopyConfig(o.ClientConfig)
	} else {
		var err error
		cfg, err = clientcmd.BuildConfigFromFlags(o.Master, o.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("load client configuration (kubeconfig %q, master %q): %w", o.Kubeconfig, o.Master, err)
		}
	}
	cfg.QPS = o.KubeAPIQPS
	cfg.Burst = o.KubeAPIBurst
	return cfg, nil
}
