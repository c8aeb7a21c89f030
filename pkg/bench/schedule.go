package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench/progress"
	"skiff.dev/skiff/pkg/bench/report"
	"skiff.dev/skiff/pkg/bench/stats"
)

// What every registered node offers: room for the default 110 pods of the
// bench's size (100m cpu, 128Mi memory), so the pod count, not cpu or
// memory, is what fills a node.
const (
	nodeCPU    = "32"
	nodeMemory = "128Gi"
	nodePods   = 110
)

// scenarioSchedule names the scenario and labels the nodes it registers,
// which its pods select.
const scenarioSchedule = "schedule"

// ScheduleOptions configures the schedule scenario.
type ScheduleOptions struct {
	// Nodes is how many nodes to register (bench-node-0...), with status
	// and no kubelet.
	Nodes int
	// Pods is how many pods to create for the scheduler.
	Pods int
	// Workers is how many creates are in flight at once.
	Workers int
	// SchedulerName is the spec.schedulerName of the pods.
	SchedulerName string
	// SchedulerPID, when not 0, is the scheduler's process on this
	// machine, whose peak memory and CPU time per pod bound are reported.
	SchedulerPID int
}

// Schedule measures a scheduler already running in the cluster: it
// registers M Ready nodes with no kubelets, creates N pods and watches them
// get bound. Figures: pods bound per second from the first create sent to
// the last bind seen, create→bound percentiles, and the scheduler's peak
// memory and its CPU time per 1000 pods bound over the same span (not the
// node registration before it nor the deletions after it).
func Schedule(ctx context.Context, e Env, o ScheduleOptions) (*report.Result, error) {
	if o.Nodes <= 0 || o.Pods <= 0 || o.Workers <= 0 {
		return nil, fmt.Errorf("schedule needs --nodes, --pods and --workers above 0, got %d, %d and %d", o.Nodes, o.Pods, o.Workers)
	}
	if o.Pods > o.Nodes*nodePods {
		return nil, fmt.Errorf("%d pods do not fit on %d nodes of %d pods each", o.Pods, o.Nodes, nodePods)
	}
	if o.SchedulerName == "" {
		o.SchedulerName = v1alpha1.DefaultSchedulerName
	}
	const scenario = scenarioSchedule
	ns, run := e.namespace(scenario), newRunID()
	if err := e.ensureNamespace(ctx, ns); err != nil {
		return nil, err
	}
	r := report.New(scenario)
	r.Parameters["nodes"] = o.Nodes
	r.Parameters["pods"] = o.Pods
	r.Parameters["workers"] = o.Workers
	r.Parameters["namespace"] = ns
	r.Parameters["scheduler"] = o.SchedulerName

	nodes := newNodeRegistrar(e)
	defer func() { r.Notes = append(r.Notes, nodes.cleanup(ctx)...) }()
	if err := nodes.register(ctx, o.Nodes, o.Workers); err != nil {
		return r, err
	}
	r.Add("nodes registered", float64(o.Nodes), report.Count)

	bound := newMilestones()
	stop, err := watchPods(ctx, e.Client, ns, run, func(p *v1alpha1.Pod, at time.Time) {
		if p.Spec.NodeName != "" {
			bound.reach(p.Name, at)
		}
	})
	if err != nil {
		return r, err
	}
	defer stop()

	cpu := schedulerCPU{pid: o.SchedulerPID}
	cpu.start()
	c := &calls{}
	start := time.Now()
	created, createElapsed := creator{client: e.Client, ns: ns, workers: o.Workers, calls: c, sent: bound.send}.
		create(ctx, e.Progress, "create pods", o.Pods, func(i int) *v1alpha1.Pod {
			p := newPod(ns, podName(scenario, run, i), scenario, run)
			p.Spec.SchedulerName = o.SchedulerName
			// Only the nodes registered here: a cluster's real or
			// simulated nodes would start the pods, and their status
			// writes are not the scheduler's work.
			p.Spec.NodeSelector = map[string]string{LabelScenario: scenario}
			return p
		})
	bar := progress.Start(e.Progress, "pods bound", created)
	bound.showProgress(bar)
	waitErr := waitFor(ctx, e.timeout(), func() bool { return bound.count() >= created })
	cpu.stop()
	bar.Finish()

	r.Add("pods created", float64(created), report.Pods)
	r.Add("pods bound", float64(bound.count()), report.Pods)
	r.Add("scheduling throughput", stats.Rate(bound.count(), bound.lastReached().Sub(start)), report.PodsPerSecond)
	r.AddLatencies("create→bound", stats.Summarize(bound.latencies()))
	r.Add("create rate", stats.Rate(created, createElapsed), report.PodsPerSecond)
	r.AddLatencies("create latency", c.latency.Summary())
	r.AddErrors(c.errorCounts())
	if o.SchedulerPID != 0 {
		if m, err := ReadProcessMemory(o.SchedulerPID); err != nil {
			r.Notef("scheduler memory not measured: %v", err)
		} else {
			r.Add("scheduler peak RSS", mib(m.PeakRSS), report.MiB)
		}
		if used, err := cpu.used(); err != nil {
			r.Notef("scheduler CPU not measured: %v", err)
		} else if n := bound.count(); n > 0 {
			r.Add("scheduler CPU per 1000 pods bound", used*1000/float64(n), report.Seconds)
		}
	}
	stop()
	r.Notes = append(r.Notes, cleanupNamespace(ctx, e, ns, false)...)
	if err := interrupted(ctx); err != nil {
		return r, err
	}
	if bound.count() < created {
		return r, fmt.Errorf("%d of %d pods were not bound within %v (is a scheduler named %q running?): %w",
			created-bound.count(), created, e.timeout(), o.SchedulerName, waitErr)
	}
	return r, nil
}

// schedulerCPU reads a scheduler process's CPU time at the start and the
// end of a span; pid 0 reads nothing.
type schedulerCPU struct {
	pid         int
	first, last float64
	err         error
}

func (c *schedulerCPU) start() { c.first = c.read() }
func (c *schedulerCPU) stop()  { c.last = c.read() }

func (c *schedulerCPU) read() float64 {
	if c.pid == 0 || c.err != nil {
		return 0
	}
	s, err := ReadProcessCPU(c.pid)
	c.err = err
	return s
}

// used is the CPU time between start and stop, in seconds.
func (c *schedulerCPU) used() (float64, error) { return c.last - c.first, c.err }

// nodeRegistrar registers bench nodes and deletes them at the end unless
// they are to be kept.
type nodeRegistrar struct {
	e     Env
	mu    sync.Mutex
	names []string
}

func newNodeRegistrar(e Env) *nodeRegistrar { return &nodeRegistrar{e: e} }

// register creates bench-node-0..n-1 (or takes over ones kept from an
// earlier run) and writes a Ready status with allocatable resources, as a
// kubelet would on its first heartbeat.
func (nr *nodeRegistrar) register(ctx context.Context, n, workers int) error {
	bar := progress.Start(nr.e.Progress, "register nodes", n)
	defer bar.Finish()
	var errs firstError
	parallel(ctx, workers, n, func(i int) {
		if err := nr.registerOne(ctx, NodeName(i)); err != nil {
			errs.add(err)
			return
		}
		bar.Add(1)
	})
	if err := errs.first(); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return interrupted(ctx)
	}
	return nil
}

func (nr *nodeRegistrar) registerOne(ctx context.Context, name string) error {
	nodes := nr.e.Client.CoreV1alpha1().Nodes()
	node, err := nodes.Create(ctx, &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   name,
		Labels: map[string]string{"kubernetes.io/hostname": name, LabelScenario: scenarioSchedule},
	}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		node, err = nodes.Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("register node %s: %w", name, err)
	}
	nr.mu.Lock()
	nr.names = append(nr.names, name)
	nr.mu.Unlock()

	now := metav1.Now()
	resources := v1alpha1.ResourceList{
		v1alpha1.ResourceCPU:    resource.MustParse(nodeCPU),
		v1alpha1.ResourceMemory: resource.MustParse(nodeMemory),
		v1alpha1.ResourcePods:   resource.MustParse(strconv.Itoa(nodePods)),
	}
	node.Status = v1alpha1.NodeStatus{
		Capacity:    resources,
		Allocatable: resources,
		Conditions: []v1alpha1.NodeCondition{{
			Type: v1alpha1.NodeReady, Status: v1alpha1.ConditionTrue,
			LastHeartbeatTime: now, LastTransitionTime: now,
			Reason: "SkiffBench", Message: "registered by skiff-bench; no kubelet runs its pods",
		}},
		NodeInfo: v1alpha1.NodeSystemInfo{KubeletVersion: "skiff-bench", OperatingSystem: "linux", Architecture: "amd64"},
	}
	if _, err := nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("write status of node %s: %w", name, err)
	}
	return nil
}

// cleanup deletes the registered nodes unless e.Keep, and returns notes.
func (nr *nodeRegistrar) cleanup(ctx context.Context) []string {
	nr.mu.Lock()
	names := nr.names
	nr.mu.Unlock()
	if len(names) == 0 {
		return nil
	}
	if nr.e.Keep {
		return []string{fmt.Sprintf("kept %d nodes %s* (--keep)", len(names), NodePrefix)}
	}
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	var errs firstError
	parallel(ctx, 16, len(names), func(i int) {
		err := nr.e.Client.CoreV1alpha1().Nodes().Delete(ctx, names[i], metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs.add(err)
		}
	})
	if errs.count > 0 {
		return []string{fmt.Sprintf("cleanup: %d nodes not deleted, first: %v", errs.count, errs.first())}
	}
	return nil
}
