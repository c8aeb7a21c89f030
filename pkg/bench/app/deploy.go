package app

import (
	"context"

	"github.com/spf13/cobra"
	cliflag "k8s.io/component-base/cli/flag"

	"skiff.dev/skiff/pkg/bench"
	"skiff.dev/skiff/pkg/bench/report"
)

func deployCommand(g *globalOptions) *cobra.Command {
	o := bench.DeployOptions{Replicas: 1000, MaxSurge: "25%", MaxUnavailable: "25%", Command: []string{"sleep", "3600"}}
	cmd := scenarioCommand(g, "deploy", "Measure the controller manager: a Deployment of R replicas available, then rolled",
		`Creates an apps.skiff.dev Deployment of --replicas pods for the controller manager,
scheduler and kubelets already in the cluster (e.g. skiff-kubelet --runtime fake
--simulate-nodes 100), waits until every replica is available, then changes its
pod template (as kubectl skiff rollout restart does) and waits for the rolling
update, within --max-surge and --max-unavailable, to finish.

Figures: time until all replicas are available, time for the full rolling update,
and the API server's peak writes per second during each (from its
apiserver_request_total; needs a user allowed to read /metrics).`,
		func(ctx context.Context, e bench.Env) (*report.Result, error) { return bench.Deploy(ctx, e, o) })
	fs := cmd.Flags()
	fs.Int32Var(&o.Replicas, "replicas", o.Replicas, "Replicas of the Deployment.")
	fs.StringVar(&o.MaxSurge, "max-surge", o.MaxSurge, "maxSurge of the rolling update, a number or a percentage.")
	fs.StringVar(&o.MaxUnavailable, "max-unavailable", o.MaxUnavailable, "maxUnavailable of the rolling update, a number or a percentage.")
	fs.Var(cliflag.NewMapStringString(&o.NodeSelector), "node-selector", "Run the pods only on nodes with these labels, as key=value pairs separated by commas.")
	fs.StringVar(&o.Image, "image", "registry.k8s.io/pause:3.10", "Container image of the pods.")
	fs.StringSliceVar(&o.Command, "command", o.Command, "Container command of the pods, comma-separated.")
	return cmd
}

func nodeFailureCommand(g *globalOptions) *cobra.Command {
	o := bench.NodeFailureOptions{Pods: 100, Spares: 10, TolerationSeconds: 30}
	cmd := scenarioCommand(g, "node-failure", "Measure recovery from a dead node: its pods running elsewhere",
		`Registers a node (bench-node-failing) and --spares spare nodes and plays their
kubelets (Lease heartbeats, pods reported Running and Ready), runs a Deployment
of --pods replicas on the first node for the controller manager and scheduler
already in the cluster, then stops that node's heartbeat.

Figures: time until the node is Ready=Unknown, until its first pod is evicted,
and until every replica runs Ready on the spares. The goal is the controller
manager's --node-monitor-grace-period plus --toleration-seconds plus 5 s.`,
		func(ctx context.Context, e bench.Env) (*report.Result, error) { return bench.NodeFailure(ctx, e, o) })
	fs := cmd.Flags()
	fs.Int32Var(&o.Pods, "pods", o.Pods, "Replicas on the node that fails.")
	fs.IntVar(&o.Spares, "spares", o.Spares, "Spare nodes that take the pods over.")
	fs.Int64Var(&o.TolerationSeconds, "toleration-seconds", o.TolerationSeconds, "The pods' tolerationSeconds for the not-ready and unreachable taints.")
	return cmd
}
