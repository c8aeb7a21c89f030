// Package app is the skiff-kubelet command: its flags, and Run, which turns
// them into a running kubelet (or, with --simulate-nodes, many simulated
// ones). `skiff up` calls Run in-process.
package app

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	cliflag "k8s.io/component-base/cli/flag"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/client/contenttype"
	"skiff.dev/skiff/pkg/kubelet/nodestatus"
)

// Runtimes --runtime accepts.
const (
	RuntimeProcess = "process"
	RuntimeCRI     = "cri"
	RuntimeFake    = "fake"
)

// defaultKubeAPIQPS is upstream kubelet's --kube-api-qps, per node.
const defaultKubeAPIQPS = 50

// Options are the kubelet's settings, one per flag.
type Options struct {
	// Kubeconfig is the node's kubeconfig (user system:node:<name>).
	Kubeconfig string
	// ClientConfig, when set, is used instead of Kubeconfig; it has no flag
	// and is how `skiff up` hands over its in-process configuration.
	ClientConfig *rest.Config
	KubeAPIQPS   float32
	KubeAPIBurst int32
	// KubeAPIContentType is what the clients send and ask for: protobuf,
	// or JSON as a fallback.
	KubeAPIContentType string
	// EventQPS and EventBurst limit event writes, on a client of their own
	// so events never hold up status writes.
	EventQPS   float32
	EventBurst int32

	NodeName   string
	NodeIP     string
	NodeLabels map[string]string

	Runtime                  string
	RootDir                  string
	ContainerRuntimeEndpoint string
	PodInfraContainerImage   string
	RuntimeRequestTimeout    time.Duration

	Address            string
	Port               int32
	TLSCertFile        string
	TLSPrivateKeyFile  string
	ClientCAFile       string
	HealthzBindAddress string
	HealthzPort        int32

	// How long the kubelet API caches the API server's answers to token
	// and subject access reviews (upstream's flags and defaults).
	AuthenticationTokenWebhookCacheTTL       time.Duration
	AuthorizationWebhookCacheAuthorizedTTL   time.Duration
	AuthorizationWebhookCacheUnauthorizedTTL time.Duration

	MaxPods        int32
	Capacity       map[string]string
	KubeReserved   map[string]string
	SystemReserved map[string]string

	SimulateNodes int

	// ShutdownGracePeriod, when positive, makes the kubelet stop every
	// container on exit, giving them this long: upstream's graceful node
	// shutdown. Zero leaves containers running for the next kubelet to adopt.
	ShutdownGracePeriod time.Duration
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		Runtime:                  RuntimeProcess,
		RootDir:                  "/var/lib/skiff-kubelet",
		ContainerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
		RuntimeRequestTimeout:    2 * time.Minute,
		Address:                  "0.0.0.0",
		Port:                     10250,
		HealthzBindAddress:       "127.0.0.1",
		HealthzPort:              10248,
		MaxPods:                  nodestatus.DefaultMaxPods,
		EventQPS:                 50,
		EventBurst:               100,
		KubeAPIContentType:       contenttype.Default,

		AuthenticationTokenWebhookCacheTTL:       2 * time.Minute,
		AuthorizationWebhookCacheAuthorizedTTL:   5 * time.Minute,
		AuthorizationWebhookCacheUnauthorizedTTL: 30 * time.Second,
	}
}

// Flags returns the kubelet's flags in named sets, for help output.
func (o *Options) Flags() cliflag.NamedFlagSets {
	var fss cliflag.NamedFlagSets
	fs := fss.FlagSet("cluster")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to the node's kubeconfig file, with the identity system:node:<node-name> in group system:nodes. Empty inside a pod: the pod's service account.")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "Queries per second to the API server. 0 means 50 for the node and 50 for each simulated node.")
	fs.Int32Var(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "Burst of queries to the API server. 0 means twice the QPS.")
	contenttype.AddFlag(fs, &o.KubeAPIContentType)
	fs.Float32Var(&o.EventQPS, "event-qps", o.EventQPS, "Events written per second, on their own client.")
	fs.Int32Var(&o.EventBurst, "event-burst", o.EventBurst, "Burst of events written.")

	fs = fss.FlagSet("node")
	fs.StringVar(&o.NodeName, "node-name", o.NodeName, "Name of the Node to register. Defaults to the hostname.")
	fs.StringVar(&o.NodeIP, "node-ip", o.NodeIP, "IP address of the node (its InternalIP, and the IP of host-network pods). Defaults to the first non-loopback address.")
	fs.Var(cliflag.NewMapStringString(&o.NodeLabels), "node-labels", "Labels to add when registering the node, as key=value pairs separated by commas.")
	fs.Int32Var(&o.MaxPods, "max-pods", o.MaxPods, "Number of pods the node can run (its pods capacity).")
	fs.Var(cliflag.NewMapStringString(&o.Capacity), "capacity", "Resources to report instead of the machine's, e.g. cpu=4,memory=8Gi,pods=50.")
	fs.Var(cliflag.NewMapStringString(&o.KubeReserved), "kube-reserved", "Resources reserved for Kubernetes system daemons, e.g. cpu=200m,memory=500Mi; subtracted from allocatable.")
	fs.Var(cliflag.NewMapStringString(&o.SystemReserved), "system-reserved", "Resources reserved for the operating system, e.g. cpu=200m,memory=500Mi; subtracted from allocatable.")
	fs.DurationVar(&o.ShutdownGracePeriod, "shutdown-grace-period", o.ShutdownGracePeriod, "When positive, stop every container when the kubelet exits, waiting up to this long (graceful node shutdown; `skiff up` uses it). Zero leaves containers running for a restarted kubelet to adopt.")
	fs.IntVar(&o.SimulateNodes, "simulate-nodes", o.SimulateNodes, "With --runtime fake: run this many simulated nodes, named <node-name>-0 to <node-name>-<N-1>, in this process.")

	fs = fss.FlagSet("runtime")
	fs.StringVar(&o.Runtime, "runtime", o.Runtime, "Container runtime: process (host processes), cri (a CRI runtime such as containerd) or fake (no processes).")
	fs.StringVar(&o.RootDir, "root-dir", o.RootDir, "Directory for the kubelet's state, the process runtime's working directories and its logs.")
	fs.StringVar(&o.ContainerRuntimeEndpoint, "container-runtime-endpoint", o.ContainerRuntimeEndpoint, "The CRI runtime's endpoint, with --runtime cri.")
	fs.StringVar(&o.PodInfraContainerImage, "pod-infra-container-image", o.PodInfraContainerImage, "With --runtime cri: the pod sandbox (pause) image, pulled before the first sandbox if the runtime lacks it. It must be the image the runtime is configured to run (containerd's sandbox_image). Empty leaves it to the runtime.")
	fs.DurationVar(&o.RuntimeRequestTimeout, "runtime-request-timeout", o.RuntimeRequestTimeout, "Timeout of CRI requests other than image pulls.")

	fs = fss.FlagSet("serving")
	fs.StringVar(&o.Address, "address", o.Address, "IP address the kubelet serves on.")
	fs.Int32Var(&o.Port, "port", o.Port, "HTTPS port of the kubelet's API (logs, healthz, metrics). 0 disables it.")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", o.TLSCertFile, "Serving certificate, signed by the cluster CA for the node's name and addresses (`skiff kubelet-serving-cert`), so the API server can verify it. Without one a self-signed certificate is made at start, which an API server with --kubelet-certificate-authority refuses.")
	fs.StringVar(&o.TLSPrivateKeyFile, "tls-private-key-file", o.TLSPrivateKeyFile, "Private key of --tls-cert-file.")
	fs.StringVar(&o.ClientCAFile, "client-ca-file", o.ClientCAFile, "CA bundle that signs client certificates. Every request to the kubelet API is authenticated (these certificates, or bearer tokens by TokenReview) and authorized by SubjectAccessReview against the API server. Without it the kubelet serves no API.")
	fs.DurationVar(&o.AuthenticationTokenWebhookCacheTTL, "authentication-token-webhook-cache-ttl", o.AuthenticationTokenWebhookCacheTTL, "How long to cache the API server's answers to token reviews.")
	fs.DurationVar(&o.AuthorizationWebhookCacheAuthorizedTTL, "authorization-webhook-cache-authorized-ttl", o.AuthorizationWebhookCacheAuthorizedTTL, "How long to cache 'authorized' answers to subject access reviews.")
	fs.DurationVar(&o.AuthorizationWebhookCacheUnauthorizedTTL, "authorization-webhook-cache-unauthorized-ttl", o.AuthorizationWebhookCacheUnauthorizedTTL, "How long to cache 'unauthorized' answers to subject access reviews.")
	fs.StringVar(&o.HealthzBindAddress, "healthz-bind-address", o.HealthzBindAddress, "IP address of the plain-HTTP healthz endpoint.")
	fs.Int32Var(&o.HealthzPort, "healthz-port", o.HealthzPort, "Port of the plain-HTTP healthz endpoint. 0 disables it.")

	return fss
}

// Complete fills in what depends on the machine.
func (o *Options) Complete() error {
	if o.NodeName == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("default node name: %w", err)
		}
		o.NodeName = strings.ToLower(strings.TrimSpace(host))
	}
	if o.KubeAPIQPS == 0 {
		// Upstream's 50 per kubelet, for each node this process plays: a
		// shared budget that does not grow with the nodes would throttle
		// simulated clusters far below what as many real kubelets send.
		o.KubeAPIQPS = defaultKubeAPIQPS * float32(1+o.SimulateNodes)
	}
	if o.KubeAPIBurst == 0 {
		o.KubeAPIBurst = int32(2 * o.KubeAPIQPS)
	}
	return nil
}

// Validate reports every invalid setting.
func (o *Options) Validate() error {
	var errs []error
	if err := contenttype.Validate(o.KubeAPIContentType); err != nil {
		errs = append(errs, err)
	}
	switch o.Runtime {
	case RuntimeProcess, RuntimeCRI, RuntimeFake:
	default:
		errs = append(errs, fmt.Errorf("--runtime %q: want process, cri or fake", o.Runtime))
	}
	if o.SimulateNodes < 0 {
		errs = append(errs, errors.New("--simulate-nodes must not be negative"))
	}
	if o.SimulateNodes > 0 && o.Runtime != RuntimeFake {
		errs = append(errs, errors.New("--simulate-nodes needs --runtime fake"))
	}
	if o.Runtime == RuntimeProcess && o.RootDir == "" {
		errs = append(errs, errors.New("--root-dir is required with --runtime process"))
	}
	if o.Port < 0 || o.Port > 65535 || o.HealthzPort < 0 || o.HealthzPort > 65535 {
		errs = append(errs, errors.New("--port and --healthz-port must be 0 to 65535"))
	}
	if (o.TLSCertFile == "") != (o.TLSPrivateKeyFile == "") {
		errs = append(errs, errors.New("--tls-cert-file and --tls-private-key-file go together"))
	}
	if o.MaxPods <= 0 {
		errs = append(errs, errors.New("--max-pods must be positive"))
	}
	if o.ClientConfig == nil && o.Kubeconfig == "" && os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
		errs = append(errs, errors.New("--kubeconfig is required outside a Kubernetes pod"))
	}
	for flag, m := range map[string]map[string]string{"--capacity": o.Capacity, "--kube-reserved": o.KubeReserved, "--system-reserved": o.SystemReserved} {
		if _, err := resourceList(m); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", flag, err))
		}
	}
	return errors.Join(errs...)
}

func resourceList(m map[string]string) (v1alpha1.ResourceList, error) {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	return nodestatus.ParseResourceList(strings.Join(parts, ","))
}
