package bench

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench/progress"
	"skiff.dev/skiff/pkg/bench/report"
	"skiff.dev/skiff/pkg/bench/stats"
)

// StartOptions configures the start scenario.
type StartOptions struct {
	// Pods is how many pods to start.
	Pods int
	// Workers is how many creates are in flight at once.
	Workers int
	// NodeSelector limits the pods (and the Ready-node check) to matching
	// nodes.
	NodeSelector map[string]string
	// SchedulerName is the spec.schedulerName of the pods.
	SchedulerName string
	// Image and Command are the container's: the process runtime runs
	// Command on the host, a CRI runtime runs Image (with Command, if set).
	Image   string
	Command []string
}

// Start measures pod start-up on real kubelets (process, cri or fake
// runtime) with a scheduler running: it creates N pods and watches each
// reach status.phase Running. The figure is upstream's pod-start SLI,
// create→Running, taken from the create being sent rather than from
// metadata.creationTimestamp, so it includes the create call itself.
func Start(ctx context.Context, e Env, o StartOptions) (*report.Result, error) {
	if o.Pods <= 0 || o.Workers <= 0 {
		return nil, fmt.Errorf("start needs --pods and --workers above 0, got %d and %d", o.Pods, o.Workers)
	}
	if o.SchedulerName == "" {
		o.SchedulerName = v1alpha1.DefaultSchedulerName
	}
	const scenario = "start"
	ns, run := e.namespace(scenario), newRunID()
	if err := e.ensureNamespace(ctx, ns); err != nil {
		return nil, err
	}
	r := report.New(scenario)
	r.Parameters["pods"] = o.Pods
	r.Parameters["workers"] = o.Workers
	r.Parameters["namespace"] = ns
	if len(o.NodeSelector) > 0 {
		r.Parameters["node-selector"] = labels.SelectorFromSet(o.NodeSelector).String()
	}

	ready, err := readyNodes(ctx, e, o.NodeSelector)
	if err != nil {
		return r, err
	}
	if ready == 0 {
		return r, fmt.Errorf("no Ready node matches the node selector %q: start needs kubelets (skiff-kubelet, or --runtime fake --simulate-nodes N)",
			labels.SelectorFromSet(o.NodeSelector).String())
	}
	r.Add("ready nodes", float64(ready), report.Count)

	bound, running := newMilestones(), newMilestones()
	stop, err := watchPods(ctx, e.Client, ns, run, func(p *v1alpha1.Pod, at time.Time) {
		if p.Spec.NodeName != "" {
			bound.reach(p.Name, at)
		}
		if p.Status.Phase == v1alpha1.PodRunning {
			running.reach(p.Name, at)
		}
	})
	if err != nil {
		return r, err
	}
	defer stop()

	c := &calls{}
	sent := func(name string, at time.Time) {
		bound.send(name, at)
		running.send(name, at)
	}
	start := time.Now()
	created, _ := creator{client: e.Client, ns: ns, workers: o.Workers, calls: c, sent: sent}.
		create(ctx, e.Progress, "create pods", o.Pods, func(i int) *v1alpha1.Pod {
			return o.pod(ns, podName(scenario, run, i), run)
		})
	bar := progress.Start(e.Progress, "pods running", created)
	running.showProgress(bar)
	waitErr := waitFor(ctx, e.timeout(), func() bool { return running.count() >= created })
	bar.Finish()

	r.Add("pods created", float64(created), report.Pods)
	r.Add("pods running", float64(running.count()), report.Pods)
	r.Add("start throughput", stats.Rate(running.count(), running.lastReached().Sub(start)), report.PodsPerSecond)
	r.AddLatencies("create→running", stats.Summarize(running.latencies()))
	r.AddLatencies("create→bound", stats.Summarize(bound.latencies()))
	r.AddLatencies("create latency", c.latency.Summary())
	r.AddErrors(c.errorCounts())
	stop()
	// Kubelets stop the containers within the pods' grace period.
	r.Notes = append(r.Notes, cleanupNamespace(ctx, e, ns, true)...)
	if err := interrupted(ctx); err != nil {
		return r, err
	}
	if running.count() < created {
		return r, fmt.Errorf("%d of %d pods were not Running within %v: %w", created-running.count(), created, e.timeout(), waitErr)
	}
	return r, nil
}

// pod is the start scenario's pod: scheduled by the real scheduler, with a
// one-second grace period so that cleanup does not wait long on kubelets,
// and requests small enough that a node's pod count, not the cpu of the
// machine simulated nodes copy, limits how many fit.
func (o StartOptions) pod(ns, name, run string) *v1alpha1.Pod {
	p := newPod(ns, name, "start", run)
	p.Spec.Containers[0].Resources.Requests = v1alpha1.ResourceList{
		v1alpha1.ResourceCPU:    resource.MustParse("10m"),
		v1alpha1.ResourceMemory: resource.MustParse("16Mi"),
	}
	grace := int64(1)
	p.Spec.TerminationGracePeriodSeconds = &grace
	p.Spec.SchedulerName = o.SchedulerName
	p.Spec.NodeSelector = o.NodeSelector
	p.Spec.RestartPolicy = v1alpha1.RestartPolicyAlways
	if o.Image != "" {
		p.Spec.Containers[0].Image = o.Image
	}
	p.Spec.Containers[0].Command = o.Command
	return p
}

// readyNodes counts the Ready nodes that match selector.
func readyNodes(ctx context.Context, e Env, selector map[string]string) (int, error) {
	list, err := e.Client.CoreV1alpha1().Nodes().List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(selector).String(),
	})
	if err != nil {
		return 0, fmt.Errorf("list nodes: %w", err)
	}
	ready := 0
	for _, n := range list.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == v1alpha1.NodeReady && c.Status == v1alpha1.ConditionTrue {
				ready++
			}
		}
	}
	return ready, nil
}
