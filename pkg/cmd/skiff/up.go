package skiff

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/wait"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/apiserver/options"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/gogc"
	kubeletapp "skiff.dev/skiff/pkg/kubelet/app"
	"skiff.dev/skiff/pkg/kubelet/nodestatus"
	"skiff.dev/skiff/pkg/kubelet/runtime/cri"
	"skiff.dev/skiff/pkg/pki"
	"skiff.dev/skiff/pkg/supervisor"
)

type upOptions struct {
	dataDir       string
	securePort    int
	runtime       string
	nodeName      string
	kubeletPort   int
	schedulerPort int
	cmPort        int
	nodes         int
	readyTimeout  time.Duration
	shutdownGrace time.Duration

	bindAddress              string
	containerRuntimeEndpoint string
	podInfraContainerImage   string
}

// criSectionOfREADME is where a user missing a runtime is sent.
const criSectionOfREADME = `README.md, section "Containers from images: --runtime cri"`

func newUpCommand() *cobra.Command {
	host, _ := os.Hostname()
	o := &upOptions{
		dataDir:       "./skiff-data",
		securePort:    options.DefaultSecurePort,
		runtime:       "process",
		nodeName:      host,
		kubeletPort:   10250,
		schedulerPort: 10259,
		cmPort:        10257,
		readyTimeout:  2 * time.Minute,
		shutdownGrace: 30 * time.Second,

		bindAddress:              "127.0.0.1",
		containerRuntimeEndpoint: kubeletapp.NewOptions().ContainerRuntimeEndpoint,
	}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a whole cluster on this machine: API server, scheduler, controller manager and a kubelet",
		Long: `skiff up runs skiff-apiserver (with embedded etcd), skiff-scheduler,
skiff-controller-manager and one skiff-kubelet for this machine under one supervisor, each with its own identity
minted from the data dir's CA. A component that dies is restarted with back-off.
Ctrl-C or SIGTERM stops the kubelet's containers, then the kubelet, the scheduler
and the API server, and exits 0. Running it again on the same --data-dir brings
every object back.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(genericapiserver.SetupSignalContext(), cmd)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.dataDir, "data-dir", o.dataDir, "Directory for the cluster's state: etcd, certificates, kubeconfigs, logs, and the kubelet's root dir.")
	fs.IntVar(&o.securePort, "secure-port", o.securePort, "The API server's port.")
	fs.StringVar(&o.runtime, "runtime", o.runtime, "The kubelet's runtime: process, cri or fake.")
	fs.StringVar(&o.nodeName, "node-name", o.nodeName, "Name of this machine's node.")
	fs.IntVar(&o.kubeletPort, "kubelet-port", o.kubeletPort, "Port of the kubelet's HTTPS server (pod logs).")
	fs.IntVar(&o.schedulerPort, "scheduler-secure-port", o.schedulerPort, "Port of the scheduler's HTTPS endpoints (/healthz, /metrics), on 127.0.0.1; 0 turns them off.")
	fs.IntVar(&o.cmPort, "controller-manager-secure-port", o.cmPort, "Port of the controller manager's HTTPS endpoints (/healthz, /metrics), on 127.0.0.1; 0 turns them off.")
	fs.IntVar(&o.nodes, "nodes", o.nodes, "Extra simulated nodes (fake runtime, one process) for experiments.")
	fs.DurationVar(&o.readyTimeout, "ready-timeout", o.readyTimeout, "How long to wait for the API server to become ready.")
	fs.DurationVar(&o.shutdownGrace, "shutdown-grace-period", o.shutdownGrace, "How long containers and components get to stop on Ctrl-C.")
	fs.StringVar(&o.bindAddress, "bind-address", o.bindAddress, "The IP address the API server and the kubelet listen on, and, unless it is 0.0.0.0, the node's address. The default, loopback, keeps the cluster to this machine; 0.0.0.0 serves every interface, for other machines.")
	fs.StringVar(&o.containerRuntimeEndpoint, "container-runtime-endpoint", o.containerRuntimeEndpoint, "With --runtime cri: the CRI runtime's socket, checked before the cluster starts.")
	fs.StringVar(&o.podInfraContainerImage, "pod-infra-container-image", o.podInfraContainerImage, "With --runtime cri: the pod sandbox (pause) image, as the runtime is configured to run it; the kubelet pulls it if it is missing. Empty leaves it to the runtime.")
	return cmd
}

// component is one supervised process and how long it gets to stop.
type component struct {
	proc  *supervisor.Process
	grace time.Duration
}

func (o *upOptions) run(ctx context.Context, cmd *cobra.Command) error {
	gogc.Tune(ctx)
	bindIP := net.ParseIP(o.bindAddress)
	if bindIP == nil {
		return fmt.Errorf("--bind-address %q is not an IP address", o.bindAddress)
	}
	if o.runtime == kubeletapp.RuntimeCRI {
		// Before anything starts: a kubelet without its runtime only
		// restarts with back-off, and the cluster would look up.
		v, err := cri.Probe(ctx, o.containerRuntimeEndpoint, 10*time.Second)
		if err != nil {
			return fmt.Errorf("--runtime cri: no container runtime answers at %s (--container-runtime-endpoint): %w\nTo start containerd as skiff needs it (sudo hack/containerd-up.sh), see %s", o.containerRuntimeEndpoint, err, criSectionOfREADME)
		}
		klog.InfoS("Container runtime is up", "endpoint", o.containerRuntimeEndpoint, "runtime", v.RuntimeName, "version", v.RuntimeVersion)
	}
	dir, err := filepath.Abs(o.dataDir)
	if err != nil {
		return fmt.Errorf("resolve --data-dir: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the skiff binary: %w", err)
	}
	logDir := filepath.Join(dir, "logs")
	startWith := func(env []string, name string, args ...string) (*supervisor.Process, error) {
		p, err := supervisor.Start(supervisor.Spec{Name: name, Path: exe, Args: args, Env: env, LogDir: logDir})
		if err == nil {
			klog.InfoS("Started component", "component", name, "pid", p.Pid(), "log", p.LogPath())
		}
		return p, err
	}
	start := func(name string, args ...string) (*supervisor.Process, error) { return startWith(nil, name, args...) }
	// Stopped in reverse order of start: kubelets (and their containers)
	// first, the API server last.
	var running []component
	defer func() {
		for i := len(running) - 1; i >= 0; i-- {
			if err := running[i].proc.Stop(running[i].grace); err != nil {
				klog.ErrorS(err, "Component did not stop cleanly")
			}
		}
	}()

	apiserver, err := start("apiserver", "apiserver", "--data-dir", dir, "--secure-port", strconv.Itoa(o.securePort), "--bind-address", o.bindAddress)
	if err != nil {
		return err
	}
	running = append(running, component{apiserver, time.Minute})
	adminKubeconfig := filepath.Join(dir, options.AdminKubeconfigFile)
	if err := waitReady(ctx, adminKubeconfig, adminServer(bindIP, o.securePort), o.readyTimeout); err != nil {
		return fmt.Errorf("API server not ready (see %s): %w", apiserver.LogPath(), err)
	}

	identities := map[string]struct {
		user   string
		groups []string
	}{
		"scheduler.kubeconfig":          {"system:kube-scheduler", nil},
		"controller-manager.kubeconfig": {"system:kube-controller-manager", nil},
		"node.kubeconfig":               {"system:node:" + o.nodeName, []string{"system:nodes"}},
		// Simulated nodes share one process, so they share an identity
		// that may write every Node: an experiment's shortcut, not a
		// kubelet's identity.
		"simulator.kubeconfig": {"skiff-node-simulator", []string{"system:masters"}},
	}
	ca, err := pki.LoadCA(filepath.Join(dir, "pki"))
	if err != nil {
		return err
	}
	server := options.KubeconfigServer(adminKubeconfig)
	for file, id := range identities {
		data, err := ca.Kubeconfig(server, id.user, id.groups)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", file, err)
		}
	}

	// The scheduler's and the controller manager's endpoints trust the
	// cluster CA's client certificates and ask the API server
	// (SubjectAccessReview) who may read them.
	serving := func(port int) []string {
		return []string{"--bind-address=127.0.0.1", "--secure-port", strconv.Itoa(port),
			"--client-ca-file", filepath.Join(dir, "pki", pki.CACertFile)}
	}
	scheduler, err := startWith(schedulerEnv(os.Getenv), "scheduler", append([]string{"scheduler",
		"--kubeconfig", filepath.Join(dir, "scheduler.kubeconfig"),
		"--leader-elect=false"}, serving(o.schedulerPort)...)...)
	if err != nil {
		return err
	}
	running = append(running, component{scheduler, 30 * time.Second})

	controllerManager, err := start("controller-manager", append([]string{"controller-manager",
		"--kubeconfig", filepath.Join(dir, "controller-manager.kubeconfig")}, serving(o.cmPort)...)...)
	if err != nil {
		return err
	}
	running = append(running, component{controllerManager, 30 * time.Second})

	kubeletServing, nodeIP, err := o.kubeletServingCert(ca, dir, bindIP)
	if err != nil {
		return err
	}
	kubeletArgs := []string{"--node-ip", nodeIP,
		"--address", o.bindAddress,
		"--tls-cert-file", kubeletServing[0],
		"--tls-private-key-file", kubeletServing[1],
		"--kubeconfig", filepath.Join(dir, "node.kubeconfig"),
		"--node-name", o.nodeName,
		"--runtime", o.runtime,
		"--root-dir", filepath.Join(dir, "kubelet"),
		"--port", strconv.Itoa(o.kubeletPort),
		"--client-ca-file", filepath.Join(dir, "pki", pki.CACertFile),
		"--healthz-port=0",
		"--shutdown-grace-period", o.shutdownGrace.String()}
	if o.runtime == kubeletapp.RuntimeCRI {
		kubeletArgs = append(kubeletArgs, "--container-runtime-endpoint", o.containerRuntimeEndpoint,
			"--pod-infra-container-image", o.podInfraContainerImage)
	}
	kubelet, err := start("kubelet", append([]string{"kubelet"}, kubeletArgs...)...)
	if err != nil {
		return err
	}
	running = append(running, component{kubelet, o.shutdownGrace + 30*time.Second})

	if o.nodes > 0 {
		sim, err := start("simulated-nodes", "kubelet",
			"--kubeconfig", filepath.Join(dir, "simulator.kubeconfig"),
			"--node-name", "skiff-sim",
			"--runtime", "fake",
			"--simulate-nodes", strconv.Itoa(o.nodes),
			"--root-dir", filepath.Join(dir, "simulated"),
			"--port=0", "--healthz-port=0")
		if err != nil {
			return err
		}
		running = append(running, component{sim, 30 * time.Second})
	}

	fmt.Fprintf(cmd.OutOrStdout(), `skiff is up. Logs are in %s.

  export KUBECONFIG=%s
  kubectl get nodes

Press Ctrl-C to stop.
`, logDir, adminKubeconfig)
	<-ctx.Done()
	klog.InfoS("Stopping the cluster")
	return nil
}

// schedulerEnv is the scheduler's environment under skiff up, which runs
// it on the API server's machine: one processor (GOMAXPROCS=1), unless the
// user's environment sets GOMAXPROCS.
//
// The scheduler is one loop that takes a pod at a time, as upstream's; what
// it can do in parallel is filter the nodes for that pod, a few hundred
// microseconds even at 2000 nodes. Given a processor for each core, the Go
// runtime spends the spare ones spinning to find work after each of the
// scheduler's many small hand-offs (watch events, binds, events) and
// marking on them during collections: a sixth of the scheduler's CPU on two
// cores (0.52 s per 1000 pods bound against 0.435 s on one processor),
// taken from the API server beside it. On one processor it binds as fast or
// faster. Figures in README.md.
func schedulerEnv(getenv func(string) string) []string {
	if getenv("GOMAXPROCS") != "" {
		return nil
	}
	return []string{"GOMAXPROCS=1"}
}

// adminServer is the address the API server writes into admin.kubeconfig:
// loopback unless it listens on one address only.
func adminServer(bindIP net.IP, port int) string {
	host := "127.0.0.1"
	if !bindIP.IsUnspecified() {
		host = bindIP.String()
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// waitReady waits for the admin kubeconfig and a ready API server.
func waitReady(ctx context.Context, kubeconfig, server string, timeout time.Duration) error {
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if options.KubeconfigServer(kubeconfig) != server {
			return false, nil
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return false, nil
		}
		client, err := clientset.NewForConfig(cfg)
		if err != nil {
			return false, err
		}
		var code int
		err = client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).StatusCode(&code).Error()
		if errors.Is(err, context.Canceled) {
			return false, err
		}
		return code == http.StatusOK, nil
	})
}

// kubeletServingCert mints this machine's kubelet a serving certificate from
// the cluster CA for its node name and the address it reports, so the API
// server can verify it, and returns the files and that address. The node's
// address is where its kubelet listens: the bind address, unless that is
// every interface.
func (o *upOptions) kubeletServingCert(ca *pki.CA, dir string, bindIP net.IP) ([2]string, string, error) {
	given := ""
	if !bindIP.IsUnspecified() {
		given = bindIP.String()
	}
	nodeIP, err := nodestatus.NodeIP(given)
	if err != nil {
		return [2]string{}, "", err
	}
	kp, err := ca.KubeletServingCert(o.nodeName, []string{nodeIP, "localhost", "127.0.0.1"})
	if err != nil {
		return [2]string{}, "", err
	}
	files := [2]string{filepath.Join(dir, "pki", "kubelet.crt"), filepath.Join(dir, "pki", "kubelet.key")}
	return files, nodeIP, writePair(kp, files[0], files[1])
}
