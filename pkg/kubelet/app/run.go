package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/version"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/cli"
	"skiff.dev/skiff/pkg/client/contenttype"
	"skiff.dev/skiff/pkg/client/events"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
	"skiff.dev/skiff/pkg/kubelet"
	"skiff.dev/skiff/pkg/kubelet/metrics"
	"skiff.dev/skiff/pkg/kubelet/nodestatus"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	"skiff.dev/skiff/pkg/kubelet/runtime/fake"
	"skiff.dev/skiff/pkg/kubelet/runtime/process"
	"skiff.dev/skiff/pkg/kubelet/server"
)

// NewKubeletCommand is the skiff-kubelet command, built by pkg/cli as every
// skiff daemon: the first SIGTERM or SIGINT stops it with exit code 0 and
// leaves running containers running, as upstream's kubelet does, so a
// restarted kubelet adopts them; a second one exits at once, even while
// --shutdown-grace-period is stopping containers.
func NewKubeletCommand() *cobra.Command {
	o := NewOptions()
	return cli.Daemon{
		Name:  "skiff-kubelet",
		Short: "Run a node's pods and report them to the skiff API server",
		Long: `skiff-kubelet registers a Node, keeps its Lease fresh, runs the pods bound to
it through a container runtime (host processes, a CRI runtime, or a fake) and
reports their status. It serves container logs, exec, attach and
port-forward over HTTPS to the API server.`,
		Flags: o.Flags(),
		Run:   func(ctx context.Context) error { return Run(ctx, o) },
	}.Command()
}

// Run runs the kubelet until ctx ends, and then returns nil, leaving the
// containers running. It fails early on invalid options or when a server
// cannot listen.
func Run(ctx context.Context, o *Options) error {
	if err := o.Complete(); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	api, err := newClient(o, o.KubeAPIQPS, o.KubeAPIBurst)
	if err != nil {
		return err
	}
	events, err := newEventsClient(o)
	if err != nil {
		return err
	}
	c := clients{api: api, events: events}
	klog.InfoS("Starting skiff-kubelet", "version", version.Get().GitVersion, "node", o.NodeName, "runtime", o.Runtime)
	if o.SimulateNodes > 0 {
		return runSimulated(ctx, o, c)
	}
	return runNode(ctx, o, c)
}

// clients are the kubelet's API clients, each with its own rate limit.
type clients struct {
	api clientset.Interface
	// events writes core/v1 Events, with the kubelet's events rate limit.
	events kubernetes.Interface
}

func newClient(o *Options, qps float32, burst int32) (clientset.Interface, error) {
	cfg, err := restConfig(o)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = qps, int(burst)
	cfg.UserAgent = fmt.Sprintf("skiff-kubelet/%s (%s)", version.Get().GitVersion, o.NodeName)
	client, err := clientset.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	return client, nil
}

func newEventsClient(o *Options) (kubernetes.Interface, error) {
	cfg, err := restConfig(o)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = o.EventQPS, int(o.EventBurst)
	cfg.UserAgent = fmt.Sprintf("skiff-kubelet/%s (%s)", version.Get().GitVersion, o.NodeName)
	return events.NewClient(cfg)
}

// restConfig is a copy of the kubelet's client configuration, with
// --kube-api-content-type applied.
func restConfig(o *Options) (*rest.Config, error) {
	var cfg *rest.Config
	if o.ClientConfig != nil {
		cfg = rest.CopyConfig(o.ClientConfig)
	} else {
		// An empty --kubeconfig inside a pod means the pod's service
		// account, as upstream components do.
		var err error
		if cfg, err = clientcmd.BuildConfigFromFlags("", o.Kubeconfig); err != nil {
			return nil, fmt.Errorf("load kubeconfig %q: %w", o.Kubeconfig, err)
		}
	}
	contenttype.Apply(cfg, o.KubeAPIContentType)
	return cfg, nil
}

// nodeResources are the node's capacity and allocatable from the flags.
func nodeResources(o *Options) (capacity, allocatable v1alpha1.ResourceList, err error) {
	overrides, _ := resourceList(o.Capacity)
	kubeReserved, _ := resourceList(o.KubeReserved)
	systemReserved, _ := resourceList(o.SystemReserved)
	capacity, err = nodestatus.MachineCapacity(int(o.MaxPods), overrides)
	if err != nil {
		return nil, nil, err
	}
	return capacity, nodestatus.Allocatable(capacity, kubeReserved, systemReserved), nil
}

// runNode runs the kubelet of this machine.
func runNode(ctx context.Context, o *Options, c clients) error {
	client := c.api
	nodeIP, err := nodestatus.NodeIP(o.NodeIP)
	if err != nil {
		return err
	}
	capacity, allocatable, err := nodeResources(o)
	if err != nil {
		return err
	}
	// The runtime reports container exits before the node exists.
	var node atomic.Pointer[kubelet.Node]
	notify := func(uid types.UID) {
		if n := node.Load(); n != nil {
			n.Notify(uid)
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	rt, err := newRuntime(ctx, o, notify)
	if err != nil {
		return err
	}
	// The runtime itself, for what the instrumented one does not offer.
	rawRuntime := rt
	m := metrics.New(func() map[v1alpha1.PodPhase]int {
		if n := node.Load(); n != nil {
			return n.PhaseCounts()
		}
		return nil
	})
	rt = m.InstrumentRuntime(rt)
	serving := o.Port != 0 && o.ClientCAFile != ""
	if o.Port != 0 && !serving {
		klog.InfoS("No --client-ca-file: not serving the kubelet API, so pod logs are not available through the API server")
	}
	port := int32(0)
	if serving {
		port = o.Port
	}
	recorder, stopEvents := events.NewRecorder(c.events, "skiff-kubelet", o.NodeName)
	defer stopEvents()

	n := kubelet.NewNode(ctx, kubelet.NodeConfig{
		Client:  client,
		Runtime: rt,
		NodeStatus: nodestatus.Config{
			NodeName: o.NodeName, Hostname: o.NodeName, NodeIP: nodeIP, Port: port, Labels: o.NodeLabels,
			Capacity: capacity, Allocatable: allocatable, SystemInfo: nodestatus.SystemInfo(),
			KubeletVersion: version.Get().GitVersion,
		},
		Recorder: recorder,
		Observer: m,
		Relist:   o.Runtime == RuntimeCRI,
	})
	node.Store(n)

	factory := externalversions.NewSharedInformerFactoryWithOptions(client, 0,
		externalversions.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", o.NodeName).String()
		}))
	pods := factory.Core().V1alpha1().Pods()
	reg, err := pods.Informer().AddEventHandler(kubelet.PodHandler(func(name string) *kubelet.Node {
		if name == o.NodeName {
			return n
		}
		return nil
	}))
	if err != nil {
		return fmt.Errorf("watch pods: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()

	g.Go(func() error { n.Run(ctx); return nil })
	g.Go(func() error {
		// Containers of pods that are gone are found only once every pod
		// of the node has reached its worker.
		if !cache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
			return nil
		}
		klog.InfoS("Pods synced", "node", o.NodeName)
		n.RunOrphanCleanup(ctx)
		return nil
	})
	healthy := func() error {
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := rt.Version(hctx); err != nil {
			return fmt.Errorf("container runtime is down: %w", err)
		}
		return nil
	}
	if serving {
		restCfg, err := restConfig(o)
		if err != nil {
			return err
		}
		auth, err := newServerAuth(o, restCfg)
		if err != nil {
			return err
		}
		handler := server.NewHandler(&kubelet.LogSource{Pods: pods.Lister(), Runtime: rt}, healthy, m.Handler())
		handler = server.NewStreamingHandler(&kubelet.StreamSource{Pods: pods.Lister(), Runtime: rt}, rt, handler)
		cfg := server.Config{
			Address: o.Address, Port: int(o.Port), TLSCertFile: o.TLSCertFile, TLSPrivateKeyFile: o.TLSPrivateKeyFile,
			ClientCAFile: o.ClientCAFile, ServingHosts: []string{o.NodeName, nodeIP, "localhost", "127.0.0.1"},
			Auth: auth,
		}
		g.Go(func() error { return server.Serve(ctx, cfg, handler, nil) })
	}
	serveHealthz(ctx, g, o, healthy)

	err = g.Wait()
	n.Wait()
	if o.ShutdownGracePeriod > 0 {
		stopAllContainers(rt, o.ShutdownGracePeriod)
		removeSandboxes(rawRuntime)
		klog.InfoS("skiff-kubelet stopped with its containers", "node", o.NodeName)
		return err
	}
	klog.InfoS("skiff-kubelet stopped; containers keep running", "node", o.NodeName)
	return err
}

// stopAllContainers stops every running container in parallel, each with
// grace, so a node shutting down leaves no process behind.
func stopAllContainers(rt runtime.Runtime, grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace+10*time.Second)
	defer cancel()
	containers, err := rt.ListContainers(ctx)
	if err != nil {
		klog.ErrorS(err, "List containers to stop them at shutdown")
		return
	}
	var wg sync.WaitGroup
	for _, c := range containers {
		if c.State != runtime.StateRunning {
			continue
		}
		wg.Add(1)
		go func(c runtime.Container) {
			defer wg.Done()
			if err := rt.StopContainer(ctx, c.ID, grace); err != nil {
				klog.ErrorS(err, "Stop container at shutdown", "pod", klog.KRef(c.PodNamespace, c.PodName), "container", c.Name)
			}
		}(c)
	}
	wg.Wait()
}

// removeSandboxes removes the pods' sandboxes, once their containers are
// stopped, on runtimes that have them.
func removeSandboxes(rt runtime.Runtime) {
	sr, ok := rt.(runtime.SandboxRemover)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sr.RemoveAllSandboxes(ctx); err != nil {
		klog.ErrorS(err, "Remove pod sandboxes at shutdown")
	}
}

func serveHealthz(ctx context.Context, g *errgroup.Group, o *Options, healthy func() error) {
	if o.HealthzPort == 0 {
		return
	}
	addr := net.JoinHostPort(o.HealthzBindAddress, strconv.Itoa(int(o.HealthzPort)))
	g.Go(func() error { return server.ServePlain(ctx, addr, server.HealthzHandler(healthy)) })
}

// newRuntime builds the runtime --runtime names. notify is told about pods
// whose containers changed.
func newRuntime(ctx context.Context, o *Options, notify func(types.UID)) (runtime.Runtime, error) {
	switch o.Runtime {
	case RuntimeProcess:
		return process.New(process.Options{RootDir: o.RootDir, OnChange: notify})
	case RuntimeFake:
		rt := fake.New()
		rt.SetOnChange(notify)
		return rt, nil
	case RuntimeCRI:
		// It reports no changes: the node relists it (NodeConfig.Relist).
		return newCRIRuntime(ctx, o)
	}
	return nil, errors.New("unknown runtime " + o.Runtime)
}
