package bench

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench/progress"
	"skiff.dev/skiff/pkg/bench/report"
)

// ListOptions configures the list scenario.
type ListOptions struct {
	// Pods is how many pods must be stored; missing ones are created.
	Pods int
	// Nodes is how many node names (bench-node-0...) the pods are bound
	// across; no Node objects are needed.
	Nodes int
	// Repetitions is how many times each LIST is timed.
	Repetitions int
	// Workers is how many creates and binds are in flight at once.
	Workers int
}

// List measures LIST with N pods stored: all pods of the namespace, and one
// node's pods across all namespaces by the field selector spec.nodeName (a
// kubelet's LIST, which the watch cache serves from its index). The pods
// are bound through pods/binding, as a scheduler binds them.
func List(ctx context.Context, e Env, o ListOptions) (*report.Result, error) {
	if o.Pods <= 0 || o.Nodes <= 0 || o.Repetitions <= 0 || o.Workers <= 0 {
		return nil, fmt.Errorf("list needs --pods, --nodes, --repetitions and --workers above 0, got %d, %d, %d and %d",
			o.Pods, o.Nodes, o.Repetitions, o.Workers)
	}
	const scenario = "list"
	ns, run := e.namespace(scenario), newRunID()
	if err := e.ensureNamespace(ctx, ns); err != nil {
		return nil, err
	}
	r := report.New(scenario)
	r.Parameters["pods"] = o.Pods
	r.Parameters["nodes"] = o.Nodes
	r.Parameters["repetitions"] = o.Repetitions
	r.Parameters["namespace"] = ns
	defer func() { r.Notes = append(r.Notes, cleanupNamespace(ctx, e, ns, false)...) }()

	pods := e.Client.CoreV1alpha1().Pods(ns)
	existing, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		return r, fmt.Errorf("list pods in %s: %w", ns, err)
	}
	setup := &calls{}
	if missing := o.Pods - len(existing.Items); missing > 0 {
		creator{client: e.Client, ns: ns, workers: o.Workers, calls: setup}.
			create(ctx, e.Progress, "create pods", missing, func(i int) *v1alpha1.Pod {
				return newPod(ns, podName(scenario, run, i), scenario, run)
			})
	}
	if err := bindAll(ctx, e, ns, o.Nodes, o.Workers, setup); err != nil {
		return r, err
	}
	r.AddErrors(setup.errorCounts())
	if err := interrupted(ctx); err != nil {
		return r, err
	}

	all, one := &calls{}, &calls{}
	node := NodeName(0)
	byNode := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node).String()}
	var allItems, nodeItems int
	bar := progress.Start(e.Progress, "list pods", 2*o.Repetitions)
	for range o.Repetitions {
		if ctx.Err() != nil {
			break
		}
		start := time.Now()
		list, err := pods.List(ctx, metav1.ListOptions{})
		if all.observe(start, err) == nil {
			allItems = len(list.Items)
		}
		bar.Add(1)
		start = time.Now()
		list, err = e.Client.CoreV1alpha1().Pods(metav1.NamespaceAll).List(ctx, byNode)
		if one.observe(start, err) == nil {
			nodeItems = len(list.Items)
		}
		bar.Add(1)
	}
	bar.Finish()

	r.Add("pods stored", float64(allItems), report.Pods)
	r.Add("pods on "+node, float64(nodeItems), report.Pods)
	r.AddLatencies("LIST all pods", all.latency.Summary())
	r.AddLatencies("LIST one node's pods", one.latency.Summary())
	r.AddErrors(all.errorCounts())
	r.AddErrors(one.errorCounts())
	return r, interrupted(ctx)
}

// bindAll binds every unbound pod in ns through pods/binding, round-robin
// across the first nodes bench node names.
func bindAll(ctx context.Context, e Env, ns string, nodes, workers int, c *calls) error {
	list, err := e.Client.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", "").String(),
	})
	if err != nil {
		return fmt.Errorf("list unbound pods in %s: %w", ns, err)
	}
	bar := progress.Start(e.Progress, "bind pods", len(list.Items))
	defer bar.Finish()
	var errs firstError
	parallel(ctx, workers, len(list.Items), func(i int) {
		name := list.Items[i].Name
		start := time.Now()
		err := bind(ctx, e, ns, name, NodeName(i%nodes))
		if c.observe(start, err) != nil {
			errs.add(err)
			return
		}
		bar.Add(1)
	})
	return errs.first()
}

// bind binds pod ns/name to node, as a scheduler does.
func bind(ctx context.Context, e Env, ns, name, node string) error {
	_, err := e.Client.CoreV1alpha1().Pods(ns).Bind(ctx, name, &v1alpha1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Target:     v1alpha1.ObjectReference{Kind: "Node", Name: node},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("bind pod %s/%s to %s: %w", ns, name, node, err)
	}
	return nil
}
