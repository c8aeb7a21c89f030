package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench/progress"
	"skiff.dev/skiff/pkg/bench/report"
	"skiff.dev/skiff/pkg/bench/stats"
)

// The scheduler scenarios beyond resources: pod anti-affinity, topology
// spread and preemption, each on nodes spread over zones.
const (
	ScenarioScheduleAffinity = "schedule-affinity"
	ScenarioScheduleSpread   = "schedule-spread"
	ScenarioSchedulePreempt  = "schedule-preempt"

	labelZone     = "topology.kubernetes.io/zone"
	labelHostname = "kubernetes.io/hostname"
	labelGroup    = "bench.skiff.dev/group"

	// Priority classes of schedule-preempt's fill and preemptors.
	benchLowPriorityClass  = "skiff-bench-low"
	benchHighPriorityClass = "skiff-bench-high"
	benchLowPriority       = 10
	benchHighPriority      = 1000
	// Preemption fills each node with this many low-priority pods whose cpu
	// requests add up to the node's cpu, then each preemptor evicts one.
	preemptPodsPerNode = 10
)

// ScheduleWorkloadOptions configures the schedule-affinity, schedule-spread
// and schedule-preempt scenarios.
type ScheduleWorkloadOptions struct {
	// Nodes are registered as in schedule, labelled with Zones zones.
	Nodes, Zones int
	// Pods is how many pods to schedule (for schedule-preempt, the
	// preemptors; as many low-priority pods as fill the nodes come first).
	Pods int
	// GroupSize: pods are made in groups of this many (the anti-affinity
	// and spread of one pod concern its group).
	GroupSize     int
	Workers       int
	SchedulerName string
	// SchedulerPID, when not 0, is the scheduler's process on this
	// machine: its CPU time during the measured phase is reported.
	SchedulerPID int
}

// ScheduleAffinity: each pod has required anti-affinity on hostname to
// the pods of its group, so a group's pods land on distinct nodes.
func ScheduleAffinity(ctx context.Context, e Env, o ScheduleWorkloadOptions) (*report.Result, error) {
	if o.GroupSize > o.Nodes {
		return nil, fmt.Errorf("groups of %d pods with anti-affinity on hostname need as many nodes, got %d", o.GroupSize, o.Nodes)
	}
	return scheduleWorkload(ctx, e, o, ScenarioScheduleAffinity, func(p *v1alpha1.Pod, group string) {
		p.Spec.Affinity = &v1alpha1.Affinity{PodAntiAffinity: &v1alpha1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []v1alpha1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{labelGroup: group}},
				TopologyKey:   labelHostname,
			}},
		}}
	})
}

// ScheduleSpread: each pod spreads with its group over the zones, maxSkew
// 1, DoNotSchedule.
func ScheduleSpread(ctx context.Context, e Env, o ScheduleWorkloadOptions) (*report.Result, error) {
	return scheduleWorkload(ctx, e, o, ScenarioScheduleSpread, func(p *v1alpha1.Pod, group string) {
		p.Spec.TopologySpreadConstraints = []v1alpha1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: labelZone, WhenUnsatisfiable: v1alpha1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{labelGroup: group}},
		}}
	})
}

// SchedulePreempt fills every node with low-priority pods, then creates
// high-priority pods that each fit only by preempting one.
func SchedulePreempt(ctx context.Context, e Env, o ScheduleWorkloadOptions) (*report.Result, error) {
	if o.Pods > o.Nodes*preemptPodsPerNode {
		return nil, fmt.Errorf("%d preemptors need more than the %d low-priority pods %d nodes hold", o.Pods, o.Nodes*preemptPodsPerNode, o.Nodes)
	}
	return scheduleWorkload(ctx, e, o, ScenarioSchedulePreempt, nil)
}

// podCPU is what each schedule-preempt pod requests: a node's cpu shared
// by preemptPodsPerNode pods.
func preemptPodCPU() resource.Quantity {
	q := resource.MustParse(nodeCPU)
	return *resource.NewMilliQuantity(q.MilliValue()/preemptPodsPerNode, resource.DecimalSI)
}

func scheduleWorkload(ctx context.Context, e Env, o ScheduleWorkloadOptions, scenario string, shape func(p *v1alpha1.Pod, group string)) (*report.Result, error) {
	if o.Nodes <= 0 || o.Pods <= 0 || o.Workers <= 0 || o.Zones <= 0 || o.GroupSize <= 0 {
		return nil, fmt.Errorf("%s needs --nodes, --pods, --zones, --group-size and --workers above 0", scenario)
	}
	if o.Pods > o.Nodes*nodePods {
		return nil, fmt.Errorf("%d pods do not fit on %d nodes of %d pods each", o.Pods, o.Nodes, nodePods)
	}
	if o.SchedulerName == "" {
		o.SchedulerName = v1alpha1.DefaultSchedulerName
	}
	ns, run := e.namespace(scenario), newRunID()
	if err := e.ensureNamespace(ctx, ns); err != nil {
		return nil, err
	}
	r := report.New(scenario)
	for k, v := range map[string]any{"nodes": o.Nodes, "zones": o.Zones, "pods": o.Pods, "group size": o.GroupSize,
		"workers": o.Workers, "namespace": ns, "scheduler": o.SchedulerName} {
		r.Parameters[k] = v
	}

	nodes := newNodeRegistrar(e)
	defer func() { r.Notes = append(r.Notes, nodes.cleanup(ctx)...) }()
	if err := nodes.register(ctx, o.Nodes, o.Workers); err != nil {
		return r, err
	}
	if err := labelZones(ctx, e, o.Nodes, o.Zones, o.Workers); err != nil {
		return r, err
	}
	r.Add("nodes registered", float64(o.Nodes), report.Count)
	// The nodes have no kubelets: renew their Leases, or the node
	// lifecycle controller finds them NotReady within a minute.
	stopBeats := heartbeat(ctx, e, o.Nodes, o.Workers)
	defer stopBeats()

	bound := newMilestones()
	stop, err := watchPods(ctx, e.Client, ns, run, func(p *v1alpha1.Pod, at time.Time) {
		if p.Spec.NodeName != "" && strings.Contains(p.Name, "-m-") {
			bound.reach(p.Name, at)
		}
	})
	if err != nil {
		return r, err
	}
	defer stop()

	base := func(name string) *v1alpha1.Pod {
		p := newPod(ns, name, scenario, run)
		p.Spec.SchedulerName = o.SchedulerName
		p.Spec.NodeSelector = map[string]string{LabelScenario: scenarioSchedule}
		return p
	}
	c := &calls{}
	if scenario == ScenarioSchedulePreempt {
		stopKubelet, err := preemptSetUp(ctx, e, ns, run, o, base, r)
		if err != nil {
			return r, err
		}
		defer stopKubelet()
		cpu := preemptPodCPU()
		shape = func(p *v1alpha1.Pod, _ string) {
			high := int32(benchHighPriority)
			p.Spec.PriorityClassName, p.Spec.Priority = benchHighPriorityClass, &high
			p.Spec.Containers[0].Resources.Requests[v1alpha1.ResourceCPU] = cpu
		}
	}

	cpuBefore, cpuErr := processCPU(o.SchedulerPID)
	start := time.Now()
	created, createElapsed := creator{client: e.Client, ns: ns, workers: o.Workers, calls: c, sent: bound.send}.
		create(ctx, e.Progress, "create pods", o.Pods, func(i int) *v1alpha1.Pod {
			// "-m-" marks the measured pods.
			p := base(fmt.Sprintf("%s-%s-m-%d", scenario, run, i))
			group := strconv.Itoa(i / o.GroupSize)
			p.Labels[labelGroup] = group
			shape(p, group)
			return p
		})
	bar := progress.Start(e.Progress, "pods bound", created)
	bound.showProgress(bar)
	waitErr := waitFor(ctx, e.timeout(), func() bool { return bound.count() >= created })
	bar.Finish()
	elapsed := bound.lastReached().Sub(start)
	cpuAfter, _ := processCPU(o.SchedulerPID)

	r.Add("pods created", float64(created), report.Pods)
	r.Add("pods bound", float64(bound.count()), report.Pods)
	r.Add("scheduling throughput", stats.Rate(bound.count(), elapsed), report.PodsPerSecond)
	r.AddLatencies("create→bound", stats.Summarize(bound.latencies()))
	r.Add("create rate", stats.Rate(created, createElapsed), report.PodsPerSecond)
	r.AddErrors(c.errorCounts())
	switch {
	case o.SchedulerPID == 0:
	case cpuErr != nil:
		r.Notef("scheduler CPU not measured: %v", cpuErr)
	case bound.count() > 0:
		r.Add("scheduler CPU per 1000 pods", (cpuAfter-cpuBefore).Seconds()*1000/float64(bound.count()), report.Seconds)
	}
	stop()
	r.Notes = append(r.Notes, cleanupNamespace(ctx, e, ns, false)...)
	if err := interrupted(ctx); err != nil {
		return r, err
	}
	if bound.count() < created {
		return r, fmt.Errorf("%d of %d pods were not bound within %v: %w", created-bound.count(), created, e.timeout(), waitErr)
	}
	return r, nil
}

// labelZones puts bench-node-i in zone-(i mod zones).
func labelZones(ctx context.Context, e Env, n, zones, workers int) error {
	var errs firstError
	parallel(ctx, workers, n, func(i int) {
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"zone-%d"}}}`, labelZone, i%zones)
		if _, err := e.Client.CoreV1alpha1().Nodes().Patch(ctx, NodeName(i), types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			errs.add(fmt.Errorf("label zone of node %s: %w", NodeName(i), err))
		}
	})
	return errs.first()
}

// preemptSetUp makes the priority classes, fills every node with
// low-priority pods (not measured) and plays the kubelets that finish the
// victims' graceful deletion.
func preemptSetUp(ctx context.Context, e Env, ns, run string, o ScheduleWorkloadOptions, base func(string) *v1alpha1.Pod, r *report.Result) (func(), error) {
	for name, value := range map[string]int32{benchLowPriorityClass: benchLowPriority, benchHighPriorityClass: benchHighPriority} {
		pc := &v1alpha1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value}
		if _, err := e.Client.CoreV1alpha1().PriorityClasses().Create(ctx, pc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create priority class %s: %w", name, err)
		}
	}
	fill := o.Nodes * preemptPodsPerNode
	cpu := preemptPodCPU()
	filled := newMilestones()
	stopFill, err := watchPods(ctx, e.Client, ns, run, func(p *v1alpha1.Pod, at time.Time) {
		if p.Spec.NodeName != "" && strings.Contains(p.Name, "-fill-") {
			filled.reach(p.Name, at)
		}
		if p.DeletionTimestamp != nil {
			// The kubelet's part: the victim's containers are gone.
			zero := int64(0)
			_ = e.Client.CoreV1alpha1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		}
	})
	if err != nil {
		return nil, err
	}
	created, _ := creator{client: e.Client, ns: ns, workers: o.Workers, calls: &calls{}, sent: filled.send}.
		create(ctx, e.Progress, "fill nodes with low-priority pods", fill, func(i int) *v1alpha1.Pod {
			p := base(fmt.Sprintf("%s-%s-fill-%d", ScenarioSchedulePreempt, run, i))
			low := int32(benchLowPriority)
			p.Spec.PriorityClassName, p.Spec.Priority = benchLowPriorityClass, &low
			p.Spec.Containers[0].Resources.Requests[v1alpha1.ResourceCPU] = cpu
			return p
		})
	if err := waitFor(ctx, e.timeout(), func() bool { return filled.count() >= created }); err != nil {
		stopFill()
		return nil, fmt.Errorf("%d of %d low-priority pods bound: %w", filled.count(), created, err)
	}
	r.Add("low-priority pods filling the nodes", float64(created), report.Pods)
	return stopFill, nil
}

// processCPU is the user plus system CPU time of a process, from
// /proc/<pid>/stat (in USER_HZ ticks, 100 a second on Linux).
func processCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of process %d: %w", pid, err)
	}
	// The command may contain spaces: fields count from after its ')'.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat: utime %q, stime %q", pid, fields[11], fields[12])
	}
	return time.Duration(utime+stime) * (time.Second / 100), nil
}

// heartbeat renews bench-node-0..n-1's Leases every 10 s until stopped,
// and deletes them then.
func heartbeat(ctx context.Context, e Env, n, workers int) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	leases := e.Client.CoreV1alpha1().Leases(nodeLeaseNamespace)
	renew := func(name string) {
		now := metav1.NowMicro()
		dur := int32(40)
		l, err := leases.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, _ = leases.Create(ctx, &v1alpha1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: nodeLeaseNamespace, Name: name},
				Spec: v1alpha1.LeaseSpec{HolderIdentity: &name, LeaseDurationSeconds: &dur, RenewTime: &now}}, metav1.CreateOptions{})
		} else if err == nil {
			l.Spec.RenewTime = &now
			_, _ = leases.Update(ctx, l, metav1.UpdateOptions{})
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			parallel(ctx, workers, n, func(i int) { renew(NodeName(i)) })
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Second):
			}
		}
	}()
	return func() {
		cancel()
		<-done
		cctx, ccancel := cleanupContext(context.Background())
		defer ccancel()
		parallel(cctx, workers, n, func(i int) { _ = leases.Delete(cctx, NodeName(i), metav1.DeleteOptions{}) })
	}
}
