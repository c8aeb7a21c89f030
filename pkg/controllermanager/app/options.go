package app

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	cliflag "k8s.io/component-base/cli/flag"

	"skiff.dev/skiff/pkg/client/contenttype"
	"skiff.dev/skiff/pkg/client/leaderelection"
	"skiff.dev/skiff/pkg/serving"
)

// Options is everything skiff-controller-manager can be told on its
// command line, named as kube-controller-manager names it.
type Options struct {
	Kubeconfig string
	Master     string
	// ClientConfig, when set, is used instead of Kubeconfig and Master:
	// for callers that run the controllers in-process (tests).
	ClientConfig *rest.Config
	KubeAPIQPS   float32
	KubeAPIBurst int
	// KubeAPIContentType is what the clients send and ask for: protobuf,
	// or JSON as a fallback.
	KubeAPIContentType string

	// Controllers lists the controllers to run: "*" for every one that is
	// on by default, "name" to enable, "-name" to disable.
	Controllers []string

	LeaderElection leaderelection.Config

	NodeMonitorGracePeriod    time.Duration
	NodeEvictionRate          float32
	TerminatedPodGCThreshold  int
	ConcurrentGCSyncs         int
	ConcurrentRSSyncs         int
	ConcurrentDeploymentSyncs int
	ConcurrentNamespaceSyncs  int

	// Serving is the secure endpoint for /healthz, /livez, /readyz,
	// /metrics and the profiles, as kube-controller-manager serves it.
	Serving *serving.Options
}

// NewOptions returns kube-controller-manager's defaults, except where
// skiff says otherwise.
func NewOptions() *Options {
	return &Options{
		// Above upstream's 20/30: one identity does the work of all the
		// controllers, and a node failure deletes and recreates its pods in
		// a burst.
		KubeAPIQPS:                100,
		KubeAPIBurst:              200,
		KubeAPIContentType:        contenttype.Default,
		Controllers:               []string{"*"},
		LeaderElection:            leaderelection.NewConfig("skiff-controller-manager"),
		NodeMonitorGracePeriod:    40 * time.Second,
		NodeEvictionRate:          0.1,
		TerminatedPodGCThreshold:  12500,
		ConcurrentGCSyncs:         20,
		ConcurrentRSSyncs:         5,
		ConcurrentDeploymentSyncs: 5,
		ConcurrentNamespaceSyncs:  10,
		Serving:                   serving.NewOptions("skiff-controller-manager", DefaultSecurePort),
	}
}

// Flags returns the flags in named sections, as upstream prints them.
func (o *Options) Flags() cliflag.NamedFlagSets {
	var fss cliflag.NamedFlagSets
	fs := fss.FlagSet("client")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to a kubeconfig file for the skiff API server, with the system:kube-controller-manager identity.")
	fs.StringVar(&o.Master, "master", o.Master, "The address of the API server (overrides the server in --kubeconfig).")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "Queries per second allowed to the API server.")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "Burst of queries allowed to the API server.")
	contenttype.AddFlag(fs, &o.KubeAPIContentType)

	fs = fss.FlagSet("generic")
	fs.StringSliceVar(&o.Controllers, "controllers", o.Controllers, fmt.Sprintf(
		"Controllers to run. '*' runs every controller on by default, 'foo' enables foo, '-foo' disables foo.\nAll controllers: %s",
		strings.Join(sets.List(knownNames()), ", ")))

	fs = fss.FlagSet("leader election")
	o.LeaderElection.AddFlags(fs, "the controllers")

	fs = fss.FlagSet("node lifecycle controller")
	fs.DurationVar(&o.NodeMonitorGracePeriod, "node-monitor-grace-period", o.NodeMonitorGracePeriod, "How long a node's Lease may go unrenewed before the node is marked Ready=Unknown and tainted unreachable.")
	fs.Float32Var(&o.NodeEvictionRate, "node-eviction-rate", o.NodeEvictionRate, "Nodes per second that may get a NoExecute taint (and so have their pods evicted). One limit for the whole cluster: skiff has no zones.")

	fs = fss.FlagSet("podgc controller")
	fs.IntVar(&o.TerminatedPodGCThreshold, "terminated-pod-gc-threshold", o.TerminatedPodGCThreshold, "How many finished (Succeeded or Failed) pods may exist before the oldest are deleted. 0 or less keeps them all.")

	fs = fss.FlagSet("garbagecollector controller")
	fs.IntVar(&o.ConcurrentGCSyncs, "concurrent-gc-syncs", o.ConcurrentGCSyncs, "The number of garbage collector workers that are allowed to sync concurrently.")

	fs = fss.FlagSet("replicaset controller")
	fs.IntVar(&o.ConcurrentRSSyncs, "concurrent-replicaset-syncs", o.ConcurrentRSSyncs, "The number of replica sets that are allowed to sync concurrently. Larger number = more responsive replica management, but more CPU (and network) load")

	fs = fss.FlagSet("deployment controller")
	fs.IntVar(&o.ConcurrentDeploymentSyncs, "concurrent-deployment-syncs", o.ConcurrentDeploymentSyncs, "The number of deployment objects that are allowed to sync concurrently. Larger number = more responsive deployments, but more CPU (and network) load")

	fs = fss.FlagSet("namespace controller")
	fs.IntVar(&o.ConcurrentNamespaceSyncs, "concurrent-namespace-syncs", o.ConcurrentNamespaceSyncs, "The number of namespace objects that are allowed to sync concurrently. Larger number = more responsive namespace termination, but more CPU (and network) load")

	o.Serving.AddFlags(&fss)
	return fss
}

// Validate reports every invalid option.
func (o *Options) Validate() []error {
	var errs []error
	if o.KubeAPIQPS < 0 || o.KubeAPIBurst < 0 {
		errs = append(errs, fmt.Errorf("--kube-api-qps and --kube-api-burst must not be negative"))
	}
	if err := contenttype.Validate(o.KubeAPIContentType); err != nil {
		errs = append(errs, err)
	}
	if o.NodeMonitorGracePeriod <= 0 {
		errs = append(errs, fmt.Errorf("--node-monitor-grace-period must be positive, got %v", o.NodeMonitorGracePeriod))
	}
	if o.NodeEvictionRate <= 0 {
		errs = append(errs, fmt.Errorf("--node-eviction-rate must be positive, got %v", o.NodeEvictionRate))
	}
	if o.ConcurrentGCSyncs <= 0 {
		errs = append(errs, fmt.Errorf("--concurrent-gc-syncs must be positive, got %d", o.ConcurrentGCSyncs))
	}
	errs = append(errs, o.Serving.Validate()...)
	if _, err := enabledControllers(o.Controllers); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, o.LeaderElection.Validate()...)
	return errs
}

// RESTConfig returns ClientConfig, or loads --kubeconfig and --master, with
// --kube-api-qps, --kube-api-burst and --kube-api-content-type applied.
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
	contenttype.Apply(cfg, o.KubeAPIContentType)
	return cfg, nil
}
