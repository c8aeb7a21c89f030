// Package app is the skiff-bench command: one subcommand per scenario of
// package bench, and the flags every scenario shares (the cluster, the
// namespace, the output).
package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/version"
	"k8s.io/component-base/version/verflag"

	"skiff.dev/skiff/pkg/bench"
	"skiff.dev/skiff/pkg/bench/report"
	"skiff.dev/skiff/pkg/client/contenttype"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// globalOptions are the flags every scenario shares.
type globalOptions struct {
	kubeconfig string
	context    string
	qps        float32
	burst      int
	namespace  string
	json       bool
	keep       bool
	timeout    time.Duration
	// contentType is --kube-api-content-type: run once with each to
	// compare protobuf with JSON.
	contentType string

	// newClient builds the client from the flags; tests replace it.
	newClient func(*globalOptions) (clientset.Interface, error)
	// newKube builds the core/v1 client (namespaces, events); nil in
	// tests, which then skip both.
	newKube func(*globalOptions) (kubernetes.Interface, error)
}

// NewCommand returns the skiff-bench command.
func NewCommand() *cobra.Command {
	return newCommand((*globalOptions).client, (*globalOptions).kube)
}

// newCommand is NewCommand with the client constructor given, for tests.
func newCommand(newClient func(*globalOptions) (clientset.Interface, error), newKube func(*globalOptions) (kubernetes.Interface, error)) *cobra.Command {
	g := &globalOptions{timeout: bench.DefaultTimeout, contentType: contenttype.Default, newClient: newClient, newKube: newKube}
	cmd := &cobra.Command{
		Use:   "skiff-bench",
		Short: "Measure a skiff cluster: create, schedule, start, list, watch and churn",
		Long: `skiff-bench loads a skiff cluster through its API, as its users do, and prints
what it measured: a table, or JSON with --json. Progress goes to stderr, as a bar
on a terminal and as plain lines otherwise.

Every scenario works in a namespace of its own (skiff-bench-<scenario>) and deletes
what it made at the end: its pods, and the nodes it registered (bench-node-<i>),
unless --keep. Requests are not rate-limited on the client unless --qps is given.`,
		SilenceUsage: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			verflag.PrintAndExitIfRequested()
			return contenttype.Validate(g.contentType)
		},
	}
	cmd.CompletionOptions.DisableDefaultCmd = true
	fs := cmd.PersistentFlags()
	fs.StringVar(&g.kubeconfig, "kubeconfig", g.kubeconfig, "Path to the kubeconfig of the skiff cluster (default: $KUBECONFIG or ~/.kube/config).")
	fs.StringVar(&g.context, "context", g.context, "The kubeconfig context to use.")
	fs.Float32Var(&g.qps, "qps", g.qps, "Limit requests to this many per second; 0 means no client-side limit.")
	fs.IntVar(&g.burst, "burst", g.burst, "Burst of requests above --qps; 0 means twice --qps.")
	fs.StringVarP(&g.namespace, "namespace", "n", g.namespace, "Namespace to work in (default skiff-bench-<scenario>); everything in it is deleted at the end.")
	fs.BoolVar(&g.json, "json", g.json, "Print the result as JSON instead of a table.")
	fs.BoolVar(&g.keep, "keep", g.keep, "Keep the pods and nodes the scenario made.")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "How long to wait for the cluster (pods bound, running, events delivered) before giving up.")
	contenttype.AddFlag(fs, &g.contentType)
	verflag.AddFlags(fs)

	cmd.AddCommand(
		createCommand(g),
		scheduleCommand(g),
		startCommand(g),
		listCommand(g),
		watchCommand(g),
		churnCommand(g),
		deployCommand(g),
		nodeFailureCommand(g),
		execCommand(g),
	)
	cmd.AddCommand(scheduleWorkloadCommands(g)...)
	return cmd
}

func createCommand(g *globalOptions) *cobra.Command {
	o := bench.CreateOptions{Pods: 1000, Workers: 8}
	cmd := scenarioCommand(g, "create", "Create pods as fast as W workers can: creates/s, latency, errors",
		`Creates --pods pods from --workers concurrent clients. No scheduler touches them
(their spec.schedulerName is no scheduler's), so only the API server is measured.

Figures: pods created, creates per second over the whole phase, create latency
p50/p90/p99/max, and failed creates by HTTP status code.`,
		func(ctx context.Context, e bench.Env) (*report.Result, error) { return bench.Create(ctx, e, o) })
	cmd.Flags().IntVar(&o.Pods, "pods", o.Pods, "Number of pods to create.")
	cmd.Flags().IntVar(&o.Workers, "workers", o.Workers, "Number of creates in flight at once.")
	return cmd
}

func scheduleCommand(g *globalOptions) *cobra.Command {
	o := bench.ScheduleOptions{Nodes: 100, Pods: 1000, Workers: 8}
	cmd := scenarioCommand(g, "schedule", "Measure the running scheduler: pods bound per second on M nodes",
		`Registers --nodes nodes (bench-node-<i>) with a Ready status and allocatable
cpu, memory and pods, but no kubelets, then creates --pods pods for the scheduler
already running in the cluster and watches them get bound.

Figures: pods bound per second from the first create sent to the last bind seen
(upstream's threshold is 270 pods/s at scale), create→bound p50/p90/p99/max,
the create figures, and with --scheduler-pid the scheduler's peak resident memory.`,
		func(ctx context.Context, e bench.Env) (*report.Result, error) { return bench.Schedule(ctx, e, o) })
	fs := cmd.Flags()
	fs.IntVar(&o.Nodes, "nodes", o.Nodes, "Number of nodes to register.")
	fs.IntVar(&o.Pods, "pods", o.Pods, "Number of pods to schedule.")
	fs.IntVar(&o.Workers, "workers", o.Workers, "Number of creates in flight at once.")
	fs.StringVar(&o.SchedulerName, "scheduler-name", o.SchedulerName, "spec.schedulerName of the pods (default skiff-scheduler).")
	fs.IntVar(&o.SchedulerPID, "scheduler-pid", o.SchedulerPID, "Process id of the scheduler on this machine, to report its peak memory from /proc.")
	return cmd
}

func startCommand(g *globalOptions) *cobra.Command {
	o := bench.StartOptions{Pods: 100, Workers: 8, Command: []string{"sleep", "3600"}}
	cmd := scenarioCommand(g, "start", "Measure pod start-up on real kubelets: create→Running",
		`Creates --pods pods for the scheduler and the kubelets already in the cluster
(process, cri or fake runtime; e.g. skiff-kubelet --runtime fake --simulate-nodes N)
and watches each reach status.phase Running.

Figures: create→Running p50/p90/p99/max, upstream's pod-start SLI (threshold: p99
at most 5 s), taken from when the create is sent; create→bound; pods running per
second. The pods run --command (the process runtime runs it on the host; with
the cri runtime give --image, and --command= to keep the image's own).`,
		func(ctx context.Context, e bench.Env) (*report.Result, error) { return bench.Start(ctx, e, o) })
	fs := cmd.Flags()
	fs.IntVar(&o.Pods, "pods", o.Pods, "Number of pods to start.")
	fs.IntVar(&o.Workers, "workers", o.Workers, "Number of creates in flight at once.")
	fs.Var(cliflag.NewMapStringString(&o.NodeSelector), "node-selector", "Run the pods only on nodes with these labels, as key=value pairs separated by commas.")
	fs.StringVar(&o.SchedulerName, "scheduler-name", o.SchedulerName, "spec.schedulerName of the pods (default skiff-scheduler).")
	fs.StringVar(&o.Image, "image", "registry.k8s.io/pause:3.10", "Container image of the pods.")
	fs.StringSliceVar(&o.Command, "command", o.Command, "Container command of the pods, comma-separated.")
	return cmd
}

func listCommand(g *globalOptions) *cobra.Command {
	o := bench.ListOptions{Pods: 1000, Nodes: 10, Repetitions: 10, Workers: 8}
	cmd := scenarioCommand(g, "list", "Measure LIST of all pods and of one node's pods with N pods stored",
		`Makes sure --pods pods are stored in the namespace (creating the missing ones),
binds them through pods/binding across --nodes node names (bench-node-<i>; no
Node objects needed), then times --repetitions LISTs of all the namespace's pods
and of one node's pods across all namespaces by the field selector
spec.nodeName=bench-node-0, which is what a kubelet lists.

Figures: LIST latency p50/p90/p99/max of each, and the pods each returned.`,
		func(ctx context.Context, e bench.Env) (*report.Result, error) { return bench.List(ctx, e, o) })
	fs := cmd.Flags()
	fs.IntVar(&o.Pods, "pods", o.Pods, "Number of pods stored.")
	fs.IntVar(&o.Nodes, "nodes", o.Nodes, "Number of node names the pods are bound across.")
	fs.IntVar(&o.Repetitions, "repetitions", o.Repetitions, "Number of times each LIST is timed.")
	fs.IntVar(&o.Workers, "workers", o.Workers, "Number of creates and binds in flight at once.")
	return cmd
}

func watchCommand(g *globalOptions) *cobra.Command {
	o := bench.WatchOptions{Watchers: 100, Rounds: 6, Workers: 16}
	cmd := scenarioCommand(g, "watch", "Measure event delivery to K kubelet-like watchers",
		`Opens --watchers watches of pods across all namespaces, the i-th with the field
selector spec.nodeName=bench-node-<i> (a kubelet's view). Each of --rounds rounds
then sends one event per watcher at once: even rounds create pods already on
their node, odd rounds bind pods created unbound.

Figures: the time for a round's burst to reach all K watchers (first request
sent to last event received), and each event's delivery time (its request sent
to its watcher receiving it), p50/p90/p99/max.`,
		func(ctx context.Context, e bench.Env) (*report.Result, error) { return bench.Watch(ctx, e, o) })
	fs := cmd.Flags()
	fs.IntVar(&o.Watchers, "watchers", o.Watchers, "Number of concurrent watches, one per simulated node.")
	fs.IntVar(&o.Rounds, "rounds", o.Rounds, "Number of rounds of one event per watcher.")
	fs.IntVar(&o.Workers, "workers", o.Workers, "Number of requests of a round in flight at once.")
	return cmd
}

func churnCommand(g *globalOptions) *cobra.Command {
	o := bench.ChurnOptions{Rate: 50, Duration: time.Minute, Window: 10 * time.Second, Lifetime: 2 * time.Second}
	cmd := scenarioCommand(g, "churn", "Create, update status and delete pods at a steady rate",
		`Creates --rate pods per second for --duration; each pod gets a Running status
halfway through --pod-lifetime and is deleted at its end, so the API server sees
three writes per pod at a steady pace.

Figures: latency p50/p90/p99/max of every write and of each kind (upstream's
threshold for mutating calls: p99 at most 1 s), the same per --window so a
server that slows down as it runs shows it, and the API server's resident
memory at the end: from /proc with --apiserver-pid, otherwise from its /metrics
(process_resident_memory_bytes, readable by an admin).`,
		func(ctx context.Context, e bench.Env) (*report.Result, error) { return bench.Churn(ctx, e, o) })
	fs := cmd.Flags()
	fs.Float64Var(&o.Rate, "rate", o.Rate, "Pods created per second.")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "How long to create pods.")
	fs.DurationVar(&o.Window, "window", o.Window, "Width of each row of latencies over time.")
	fs.DurationVar(&o.Lifetime, "pod-lifetime", o.Lifetime, "How long each pod lives before it is deleted.")
	fs.IntVar(&o.APIServerPID, "apiserver-pid", o.APIServerPID, "Process id of the API server on this machine, to read its memory from /proc.")
	return cmd
}

// scenarioFunc runs one scenario.
type scenarioFunc func(ctx context.Context, e bench.Env) (*report.Result, error)

// scenarioCommand is a subcommand that runs run with the shared flags and
// prints its result, also a partial one when it failed or was interrupted.
func scenarioCommand(g *globalOptions, name, short, long string, run scenarioFunc) *cobra.Command {
	return &cobra.Command{
		Use:   name,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := g.newClient(g)
			if err != nil {
				return err
			}
			var kube kubernetes.Interface
			if g.newKube != nil {
				if kube, err = g.newKube(g); err != nil {
					return err
				}
			}
			// The first Ctrl-C stops the scenario, which still cleans up and
			// prints what it measured; a second one kills the process.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// Scenarios that open streams dial with the config themselves.
			cfg, _ := g.restConfig()
			e := bench.Env{
				Client:    client,
				Config:    cfg,
				Kube:      kube,
				Progress:  cmd.ErrOrStderr(),
				Namespace: g.namespace,
				Keep:      g.keep,
				Timeout:   g.timeout,
			}
			result, runErr := run(ctx, e)
			if result != nil {
				if err := g.write(cmd.OutOrStdout(), result); err != nil {
					return err
				}
			}
			if runErr != nil {
				return fmt.Errorf("%s: %w", name, runErr)
			}
			return nil
		},
	}
}

func (g *globalOptions) write(w io.Writer, r *report.Result) error {
	if g.json {
		return report.WriteJSON(w, r)
	}
	return report.WriteTable(w, r)
}

// client builds the clientset from --kubeconfig and --context, with no
// client-side rate limit unless --qps is given.
func (g *globalOptions) client() (clientset.Interface, error) {
	cfg, err := g.restConfig()
	if err != nil {
		return nil, err
	}
	c, err := clientset.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	return c, nil
}

func (g *globalOptions) kube() (kubernetes.Interface, error) {
	cfg, err := g.restConfig()
	if err != nil {
		return nil, err
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create core/v1 client: %w", err)
	}
	return c, nil
}

func (g *globalOptions) restConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = g.kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: g.context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	applyRateLimit(cfg, g.qps, g.burst)
	contenttype.Apply(cfg, g.contentType)
	cfg.UserAgent = "skiff-bench/" + version.Get().GitVersion
	return cfg, nil
}

// applyRateLimit sets the client-side limit. client-go treats a QPS of 0 as
// "use the default of 5", so no limit is a negative QPS.
func applyRateLimit(cfg *rest.Config, qps float32, burst int) {
	if qps <= 0 {
		cfg.QPS, cfg.Burst = -1, 0
		return
	}
	if burst <= 0 {
		burst = max(int(2*qps), 1)
	}
	cfg.QPS, cfg.Burst = qps, burst
}

func execCommand(g *globalOptions) *cobra.Command {
	o := bench.ExecOptions{Execs: 200, ForwardMiB: 256}
	cmd := scenarioCommand(g, "exec", "Measure exec round trips and port-forward throughput into a pod",
		`Starts one pod (sh sleeping; it needs a process-runtime kubelet on this machine),
runs --execs times the equivalent of 'kubectl skiff exec POD -- true' one after
another (WebSocket, SPDY fallback, through the API server to the kubelet), then
port-forwards to a port behind which this process sends --forward-mib MiB.

Figures: exec round trip (request to exit code) p50/p90/p99/max, and
port-forward throughput in MB/s over loopback.`,
		func(ctx context.Context, e bench.Env) (*report.Result, error) { return bench.Exec(ctx, e, o) })
	fs := cmd.Flags()
	fs.IntVar(&o.Execs, "execs", o.Execs, "Number of execs of true, one after another.")
	fs.IntVar(&o.ForwardMiB, "forward-mib", o.ForwardMiB, "MiB carried by the port-forward connection.")
	fs.StringVar(&o.Node, "node", o.Node, "Put the pod on this node (spec.nodeName); by default the scheduler places it.")
	return cmd
}
