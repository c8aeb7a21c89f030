package app

import (
	"context"

	"github.com/spf13/cobra"

	"skiff.dev/skiff/pkg/bench"
	"skiff.dev/skiff/pkg/bench/report"
)

// scheduleWorkloadCommands are schedule-affinity, schedule-spread and
// schedule-preempt.
func scheduleWorkloadCommands(g *globalOptions) []*cobra.Command {
	type scenario struct {
		name, short, long string
		run               func(context.Context, bench.Env, bench.ScheduleWorkloadOptions) (*report.Result, error)
		groupSize         int
	}
	common := `Registers --nodes nodes (bench-node-<i>) as schedule does, labelled with --zones
zones (topology.kubernetes.io/zone=zone-<i mod zones>), then creates --pods pods
for the scheduler already running in the cluster and watches them get bound.

Figures: pods bound per second, create→bound p50/p90/p99/max, and with
--scheduler-pid the scheduler's CPU seconds per 1000 pods bound.`
	scenarios := []scenario{
		{bench.ScenarioScheduleAffinity, "Measure the scheduler on required pod anti-affinity on hostname",
			"Each pod has required anti-affinity on kubernetes.io/hostname to the other pods of\nits group (--group-size pods), so a group's pods land on distinct nodes.\n\n" + common,
			bench.ScheduleAffinity, 50},
		{bench.ScenarioScheduleSpread, "Measure the scheduler on topology spread over zones",
			"Each pod has a topology spread constraint over topology.kubernetes.io/zone,\nmaxSkew 1, DoNotSchedule, counting the pods of its group (--group-size pods).\n\n" + common,
			bench.ScheduleSpread, 100},
		{bench.ScenarioSchedulePreempt, "Measure the scheduler's preemption: high-priority pods on full nodes",
			"First fills every node with 10 low-priority pods that together request all of its\ncpu (not measured), then creates --pods high-priority pods of the same size: each\nfits only by preempting one. The bench finishes the victims' graceful deletion,\nas their kubelets would.\n\n" + common,
			bench.SchedulePreempt, 1},
	}
	var cmds []*cobra.Command
	for _, s := range scenarios {
		o := bench.ScheduleWorkloadOptions{Nodes: 100, Zones: 5, Pods: 1000, GroupSize: s.groupSize, Workers: 8}
		cmd := scenarioCommand(g, s.name, s.short, s.long,
			func(ctx context.Context, e bench.Env) (*report.Result, error) { return s.run(ctx, e, o) })
		fs := cmd.Flags()
		fs.IntVar(&o.Nodes, "nodes", o.Nodes, "Number of nodes to register.")
		fs.IntVar(&o.Zones, "zones", o.Zones, "Number of zones the nodes are spread over.")
		fs.IntVar(&o.Pods, "pods", o.Pods, "Number of pods to schedule.")
		fs.IntVar(&o.GroupSize, "group-size", o.GroupSize, "Pods per group (the pods one pod's affinity or spread concerns).")
		fs.IntVar(&o.Workers, "workers", o.Workers, "Number of creates in flight at once.")
		fs.StringVar(&o.SchedulerName, "scheduler-name", o.SchedulerName, "spec.schedulerName of the pods (default skiff-scheduler).")
		fs.IntVar(&o.SchedulerPID, "scheduler-pid", o.SchedulerPID, "Process id of the scheduler on this machine, to report its CPU time from /proc.")
		cmds = append(cmds, cmd)
	}
	return cmds
}
