package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench/progress"
	"skiff.dev/skiff/pkg/bench/report"
	"skiff.dev/skiff/pkg/bench/stats"
)

// WatchOptions configures the watch scenario.
type WatchOptions struct {
	// Watchers is how many watches are open at once, one per simulated
	// node bench-node-<i>.
	Watchers int
	// Rounds is how many rounds of events are sent; even rounds create
	// pods already bound, odd rounds bind pods created unbound.
	Rounds int
	// Workers is how many creates or binds of a round are in flight at
	// once.
	Workers int
}

// watchTimeout keeps the server from ending a watch mid-run.
const watchTimeout = int64(time.Hour / time.Second)

// Watch measures event delivery to many kubelet-like watchers: K watches
// across all namespaces, each with the field selector
// spec.nodeName=bench-node-<i>. Each round sends one event per watcher at
// once (a pod created on, or bound to, its node) and times each event from
// its request being sent to its watcher receiving it, and the round from
// its first request to the last watcher receiving its event: the time for
// a burst to reach all K watchers.
func Watch(ctx context.Context, e Env, o WatchOptions) (*report.Result, error) {
	if o.Watchers <= 0 || o.Rounds <= 0 || o.Workers <= 0 {
		return nil, fmt.Errorf("watch needs --watchers, --rounds and --workers above 0, got %d, %d and %d", o.Watchers, o.Rounds, o.Workers)
	}
	const scenario = "watch"
	ns, run := e.namespace(scenario), newRunID()
	if err := e.ensureNamespace(ctx, ns); err != nil {
		return nil, err
	}
	r := report.New(scenario)
	r.Parameters["watchers"] = o.Watchers
	r.Parameters["rounds"] = o.Rounds
	r.Parameters["workers"] = o.Workers
	r.Parameters["namespace"] = ns
	defer func() { r.Notes = append(r.Notes, cleanupNamespace(ctx, e, ns, false)...) }()

	// Every watch starts at the same resource version, so none misses an
	// event sent while the others were still opening.
	start, err := e.Client.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return r, fmt.Errorf("get a resource version to watch from: %w", err)
	}
	delivered := newMilestones()
	watchCtx, stopWatches := context.WithCancel(ctx)
	ws, opens, err := openWatches(watchCtx, e, o, start.ResourceVersion, run, delivered)
	defer func() {
		stopWatches()
		ws.wait()
	}()
	if err != nil {
		return r, err
	}

	creates, binds, setup := &calls{}, &calls{}, &calls{}
	var createDelivery, bindDelivery, fanout stats.Recorder
	bar := progress.Start(e.Progress, "event rounds", o.Rounds)
	var waitErr error
	for round := 0; round < o.Rounds && ctx.Err() == nil; round++ {
		names := make([]string, o.Watchers)
		for i := range names {
			names[i] = fmt.Sprintf("%s-%s-r%d-%d", scenario, run, round, i)
		}
		bindRound := round%2 == 1
		if bindRound {
			creator{client: e.Client, ns: ns, workers: o.Workers, calls: setup}.
				create(ctx, nil, "", o.Watchers, func(i int) *v1alpha1.Pod {
					return newPod(ns, names[i], scenario, run)
				})
		}
		var mu sync.Mutex
		var sent []string
		roundStart := time.Now()
		parallel(ctx, o.Workers, o.Watchers, func(i int) {
			node, at := NodeName(i), time.Now()
			delivered.send(names[i], at)
			var err error
			if bindRound {
				err = binds.observe(at, bind(ctx, e, ns, names[i], node))
			} else {
				p := newPod(ns, names[i], scenario, run)
				p.Spec.NodeName = node
				_, err = e.Client.CoreV1alpha1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
				err = creates.observe(at, err)
			}
			if err == nil {
				mu.Lock()
				sent = append(sent, names[i])
				mu.Unlock()
			}
		})
		waitErr = waitFor(ctx, e.timeout(), func() bool {
			for _, name := range sent {
				if _, ok := delivered.has(name); !ok {
					return false
				}
			}
			return true
		})
		var last time.Time
		for _, name := range sent {
			at, ok := delivered.has(name)
			if !ok {
				continue
			}
			last = maxTime(last, at)
			delivery, _ := delivered.latency(name)
			if bindRound {
				bindDelivery.Add(delivery)
			} else {
				createDelivery.Add(delivery)
			}
		}
		if len(sent) == o.Watchers && waitErr == nil {
			fanout.Add(last.Sub(roundStart))
		}
		bar.Add(1)
	}
	bar.Finish()
	stopWatches()
	ws.wait()

	expected := creates.latency.Count() + binds.latency.Count()
	r.Add("watches open", float64(o.Watchers), report.Count)
	r.Add("events sent", float64(expected), report.Count)
	r.Add("events delivered", float64(delivered.count()), report.Count)
	r.Add("watches closed early", float64(ws.closedEarly.Load()), report.Count)
	r.AddLatencies("burst to all watchers", fanout.Summary())
	r.AddLatencies("create event delivery", createDelivery.Summary())
	r.AddLatencies("bind event delivery", bindDelivery.Summary())
	r.AddLatencies("watch open latency", opens.latency.Summary())
	for _, c := range []*calls{opens, setup, creates, binds} {
		r.AddErrors(c.errorCounts())
	}
	if err := interrupted(ctx); err != nil {
		return r, err
	}
	if delivered.count() < expected {
		return r, fmt.Errorf("%d of %d events did not reach their watcher within %v: %w", expected-delivered.count(), expected, e.timeout(), waitErr)
	}
	return r, nil
}

// watchers are the open watches and the goroutines reading them.
type watchers struct {
	wg          sync.WaitGroup
	closedEarly atomic.Int32
}

// wait returns once every watch has been read to its end.
func (ws *watchers) wait() { ws.wg.Wait() }

// openWatches opens one watch per node from rv and records, for each of the
// run's pods a watcher sees on its node, when it first arrived. The watches
// end with ctx.
func openWatches(ctx context.Context, e Env, o WatchOptions, rv, run string, delivered *milestones) (*watchers, *calls, error) {
	ws := &watchers{}
	opens := &calls{}
	bar := progress.Start(e.Progress, "open watches", o.Watchers)
	defer bar.Finish()
	var errs firstError
	parallel(ctx, o.Workers, o.Watchers, func(i int) {
		node := NodeName(i)
		at := time.Now()
		timeout := watchTimeout
		w, err := e.Client.CoreV1alpha1().Pods(metav1.NamespaceAll).Watch(ctx, metav1.ListOptions{
			FieldSelector:   fields.OneTermEqualSelector("spec.nodeName", node).String(),
			ResourceVersion: rv,
			TimeoutSeconds:  &timeout,
		})
		if opens.observe(at, err) != nil {
			errs.add(fmt.Errorf("watch the pods of %s: %w", node, err))
			return
		}
		bar.Add(1)
		ws.wg.Add(1)
		go func() {
			defer ws.wg.Done()
			defer w.Stop()
			readWatch(ctx, w, node, run, delivered, &ws.closedEarly)
		}()
	})
	return ws, opens, errs.first()
}

// readWatch records the run's pods as they arrive on node's watch, until
// the watch ends; an end before ctx does is counted as closed early.
func readWatch(ctx context.Context, w watch.Interface, node, run string, delivered *milestones, closedEarly *atomic.Int32) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				if ctx.Err() == nil {
					closedEarly.Add(1)
					klog.InfoS("Watch closed before the run ended", "node", node)
				}
				return
			}
			at := time.Now()
			switch ev.Type {
			case watch.Added, watch.Modified:
				p, ok := ev.Object.(*v1alpha1.Pod)
				if ok && p.Labels[LabelRun] == run && p.Spec.NodeName == node {
					delivered.reach(p.Name, at)
				}
			case watch.Error:
				klog.InfoS("Watch error event", "node", node, "object", ev.Object)
			}
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
