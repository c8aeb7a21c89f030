// Package options holds skiff-scheduler's command-line options, named as
// kube-scheduler names them, and turns them into a client configuration and
// the configuration of its secure endpoint.
package options

import (
	"fmt"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	cliflag "k8s.io/component-base/cli/flag"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/client/contenttype"
	"skiff.dev/skiff/pkg/client/leaderelection"
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/serving"
)

// DefaultSecurePort serves /healthz, /livez, /readyz, /metrics and the
// profiles over HTTPS, kube-scheduler's port.
const DefaultSecurePort = 10259

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
	// KubeAPIContentType is what the clients send and ask for: protobuf,
	// or JSON as a fallback.
	KubeAPIContentType string

	LeaderElection leaderelection.Config

	// Serving is the secure endpoint for /healthz, /livez, /readyz,
	// /metrics and the profiles, as kube-scheduler serves it.
	Serving *serving.Options
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	o := &Options{
		SchedulerName: v1alpha1.DefaultSchedulerName,
		Parallelism:   framework.DefaultParallelism,
		// High enough that the API is never what limits scheduling: each
		// pod costs one binding, and an event or status patch at most.
		KubeAPIQPS:         5000,
		KubeAPIBurst:       10000,
		KubeAPIContentType: contenttype.Default,
		LeaderElection:     leaderelection.NewConfig("skiff-scheduler"),
		Serving:            serving.NewOptions("skiff-scheduler", DefaultSecurePort),
	}
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
	contenttype.AddFlag(fs, &o.KubeAPIContentType)

	fs = fss.FlagSet("scheduling")
	fs.StringVar(&o.SchedulerName, "scheduler-name", o.SchedulerName, "Schedule only pending pods whose spec.schedulerName is this; it is also the source of the scheduler's events.")
	fs.IntVar(&o.Parallelism, "parallelism", o.Parallelism, "How many nodes are filtered and scored at once, at most one per processor the Go runtime has (GOMAXPROCS).")
	fs.Int32Var(&o.PercentageOfNodesToScore, "percentage-of-nodes-to-score", o.PercentageOfNodesToScore,
		"Stop looking for feasible nodes once this percentage of the cluster (but at least 100 nodes) is found. 0 adapts to the cluster size: 50% less 1% per 125 nodes, at least 5%.")

	fs = fss.FlagSet("leader election")
	o.LeaderElection.AddFlags(fs, "the scheduler")

	o.Serving.AddFlags(fss)
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
	if err := contenttype.Validate(o.KubeAPIContentType); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, o.LeaderElection.Validate()...)
	errs = append(errs, o.Serving.Validate()...)
	return errs
}

// RESTConfig returns ClientConfig, or loads the client configuration from
// --kubeconfig and --master, and applies --kube-api-qps,
// --kube-api-burst and --kube-api-content-type.
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
