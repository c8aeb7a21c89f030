package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench/progress"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
)

// creator creates pods from many workers and records every call.
type creator struct {
	client  clientset.Interface
	ns      string
	workers int
	calls   *calls
	// sent, when set, is told each pod's name just before its create is
	// sent: the start of a create→bound or create→running latency.
	sent func(name string, at time.Time)
}

// create creates n pods made by build, showing progress as what, and
// returns how many were created and the wall time from the first create
// sent to the last answer.
func (c creator) create(ctx context.Context, progressOut io.Writer, what string, n int, build func(i int) *v1alpha1.Pod) (int, time.Duration) {
	bar := progress.Start(progressOut, what, n)
	defer bar.Finish()
	var mu sync.Mutex
	created := 0
	start := time.Now()
	parallel(ctx, c.workers, n, func(i int) {
		pod := build(i)
		at := time.Now()
		if c.sent != nil {
			c.sent(pod.Name, at)
		}
		_, err := c.client.CoreV1alpha1().Pods(c.ns).Create(ctx, pod, metav1.CreateOptions{})
		if c.calls.observe(at, err) != nil {
			klog.V(2).InfoS("Create failed", "pod", pod.Name, "err", err)
			return
		}
		mu.Lock()
		created++
		mu.Unlock()
		bar.Add(1)
	})
	return created, time.Since(start)
}

// deletePods deletes every pod in ns. Pods no kubelet runs are deleted at
// once (grace 0); with graceful set, kubelets get the pods' own grace
// period to stop them, and deletePods waits until they are gone.
func deletePods(ctx context.Context, e Env, ns string, graceful bool) error {
	pods := e.Client.CoreV1alpha1().Pods(ns)
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list pods in %s to delete them: %w", ns, err)
	}
	if len(list.Items) == 0 {
		return nil
	}
	opts := metav1.DeleteOptions{}
	if !graceful {
		zero := int64(0)
		opts.GracePeriodSeconds = &zero
	}
	bar := progress.Start(e.Progress, "delete pods", len(list.Items))
	var errs firstError
	parallel(ctx, 16, len(list.Items), func(i int) {
		err := pods.Delete(ctx, list.Items[i].Name, opts)
		if err != nil && !apierrors.IsNotFound(err) {
			errs.add(fmt.Errorf("delete pod %s/%s: %w", ns, list.Items[i].Name, err))
			return
		}
		bar.Add(1)
	})
	bar.Finish()
	if err := errs.first(); err != nil {
		return err
	}
	if !graceful {
		return nil
	}
	var left int
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := pods.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		left = len(list.Items)
		return left == 0, nil
	})
	if err != nil {
		return fmt.Errorf("wait for the kubelets to stop the pods in %s (%d left): %w", ns, left, err)
	}
	return nil
}

// deleteEvents deletes the events in ns, such as the scheduler's
// Scheduled events for the run's pods.
func deleteEvents(ctx context.Context, client kubernetes.Interface, ns string) error {
	if client == nil {
		return nil
	}
	err := client.CoreV1().Events(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete events in %s: %w", ns, err)
	}
	return nil
}

// cleanupNamespace deletes a scenario's pods and events unless e.Keep, and
// reports failures as notes: the figures stand either way.
func cleanupNamespace(ctx context.Context, e Env, ns string, graceful bool) []string {
	if e.Keep {
		return []string{fmt.Sprintf("kept the pods in namespace %s (--keep)", ns)}
	}
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	var notes []string
	if err := deletePods(ctx, e, ns, graceful); err != nil {
		notes = append(notes, "cleanup: "+err.Error())
	}
	if err := deleteEvents(ctx, e.Kube, ns); err != nil {
		notes = append(notes, "cleanup: "+err.Error())
	}
	return notes
}

// milestones records when each pod's create was sent and when the bench
// first saw the pod reach a milestone (bound, running, delivered to a
// watcher).
type milestones struct {
	mu      sync.Mutex
	sent    map[string]time.Time
	reached map[string]time.Time
	last    time.Time
	bar     *progress.Bar
}

func newMilestones() *milestones {
	return &milestones{sent: map[string]time.Time{}, reached: map[string]time.Time{}}
}

func (m *milestones) send(name string, at time.Time) {
	m.mu.Lock()
	m.sent[name] = at
	m.mu.Unlock()
}

// reach records the first time name reached the milestone; later calls
// change nothing.
func (m *milestones) reach(name string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.reached[name]; ok {
		return
	}
	m.reached[name] = at
	if at.After(m.last) {
		m.last = at
	}
	if m.bar != nil {
		m.bar.Add(1)
	}
}

// showProgress counts the pods that reached the milestone on bar, from
// now on and those that already had.
func (m *milestones) showProgress(bar *progress.Bar) {
	m.mu.Lock()
	defer m.mu.Unlock()
	bar.Set(len(m.reached))
	m.bar = bar
}

func (m *milestones) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.reached)
}

// has reports whether name reached the milestone.
func (m *milestones) has(name string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.reached[name]
	return at, ok
}

// latency is sent→reached for name, when it has both.
func (m *milestones) latency(name string) (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sent, ok1 := m.sent[name]
	at, ok2 := m.reached[name]
	return at.Sub(sent), ok1 && ok2
}

// lastReached is when the last pod reached the milestone.
func (m *milestones) lastReached() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// latencies are sent→reached for every pod that has both.
func (m *milestones) latencies() []time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]time.Duration, 0, len(m.reached))
	for name, at := range m.reached {
		if sent, ok := m.sent[name]; ok {
			out = append(out, at.Sub(sent))
		}
	}
	return out
}

// waitFor waits until cond holds, ctx ends or timeout passes, checking
// often: the figures come from the recorded times, not from this wait.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	return wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
}

// watchPods calls seen with every add and update of the run's pods in ns,
// stamped with the time the bench received it, until stop is called. It
// returns once its cache has synced.
func watchPods(ctx context.Context, client clientset.Interface, ns, run string, seen func(p *v1alpha1.Pod, at time.Time)) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	factory := externalversions.NewSharedInformerFactoryWithOptions(client, 0,
		externalversions.WithNamespace(ns),
		externalversions.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = LabelRun + "=" + run
		}))
	informer := factory.Core().V1alpha1().Pods().Informer()
	_, err = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if p, ok := obj.(*v1alpha1.Pod); ok {
				seen(p, time.Now())
			}
		},
		UpdateFunc: func(_, obj any) {
			if p, ok := obj.(*v1alpha1.Pod); ok {
				seen(p, time.Now())
			}
		},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch pods in %s: %w", ns, err)
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			cancel()
			factory.Shutdown()
			return nil, fmt.Errorf("sync the %v watch in %s", typ, ns)
		}
	}
	return func() {
		cancel()
		factory.Shutdown()
	}, nil
}
