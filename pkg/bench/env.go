// Package bench runs skiff-bench's scenarios against any skiff cluster
// through the generated clientset. Each scenario works in a namespace of its
// own (skiff-bench-<scenario>), measures one thing the way upstream's
// scalability tests name it, cleans up what it created, and returns a
// report.Result.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench/stats"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

const (
	// LabelScenario marks every pod skiff-bench creates with its scenario.
	LabelScenario = "bench.skiff.dev/scenario"
	// LabelRun marks the pods of one run, so a run watches only its own.
	LabelRun = "bench.skiff.dev/run"
	// NoScheduler is the spec.schedulerName of pods that no scheduler is
	// meant to touch: create, list, watch and churn measure the API server
	// alone even when a scheduler runs in the cluster.
	NoScheduler = "skiff-bench-no-scheduler"
	// NodePrefix names the nodes skiff-bench registers or binds to:
	// bench-node-0, bench-node-1, ...
	NodePrefix = "bench-node-"

	// DefaultTimeout bounds each wait for the cluster.
	DefaultTimeout = 10 * time.Minute
	// cleanupTimeout bounds the cleanup, which runs even after Ctrl-C.
	cleanupTimeout = 5 * time.Minute
)

// Env is what every scenario runs against.
type Env struct {
	Client clientset.Interface
	// Config is the client's connection, for scenarios that open streams
	// (exec); nil where none does.
	Config *rest.Config
	// Kube reaches the core/v1 API: the scenario's namespace is created
	// with it, and its events deleted. Nil skips both.
	Kube kubernetes.Interface
	// Progress receives progress bars (a terminal) or lines (anything
	// else); nil shows none.
	Progress io.Writer
	// Namespace replaces the scenario's own, skiff-bench-<scenario>.
	Namespace string
	// Keep leaves the pods and nodes a scenario made in place.
	Keep bool
	// Timeout bounds each wait for the cluster: pods bound, running,
	// events delivered. Zero means DefaultTimeout.
	Timeout time.Duration
}

func (e Env) namespace(scenario string) string {
	if e.Namespace != "" {
		return e.Namespace
	}
	return "skiff-bench-" + scenario
}

// ensureNamespace creates ns unless it exists: objects in a namespace that
// does not exist are refused.
func (e Env) ensureNamespace(ctx context.Context, ns string) error {
	if e.Kube == nil {
		return nil
	}
	_, err := e.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return nil
}

func (e Env) timeout() time.Duration {
	if e.Timeout > 0 {
		return e.Timeout
	}
	return DefaultTimeout
}

// NodeName is the name of the i-th node skiff-bench registers or binds to.
func NodeName(i int) string { return NodePrefix + strconv.Itoa(i) }

// newRunID tells this run's pods from those of an earlier run kept with
// --keep, so names never collide.
func newRunID() string { return utilrand.String(5) }

// podName is the name of a run's i-th pod.
func podName(scenario, run string, i int) string {
	return fmt.Sprintf("%s-%s-%d", scenario, run, i)
}

// newPod is the small pod every scenario creates: one container with
// modest requests, so the scheduler has resources to account, and a
// scheduler name that keeps every scheduler away unless the caller sets one.
func newPod(ns, name, scenario, run string) *v1alpha1.Pod {
	grace := int64(0)
	return &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns,
			Name:      name,
			Labels:    map[string]string{LabelScenario: scenario, LabelRun: run},
		},
		Spec: v1alpha1.PodSpec{
			SchedulerName:                 NoScheduler,
			TerminationGracePeriodSeconds: &grace,
			Containers: []v1alpha1.Container{{
				Name:  "bench",
				Image: "registry.k8s.io/pause:3.10",
				Resources: v1alpha1.ResourceRequirements{Requests: v1alpha1.ResourceList{
					v1alpha1.ResourceCPU:    resource.MustParse("100m"),
					v1alpha1.ResourceMemory: resource.MustParse("128Mi"),
				}},
			}},
		},
	}
}

// calls records the latency of successful API calls and counts the failed
// ones by HTTP status code.
type calls struct {
	latency stats.Recorder
	mu      sync.Mutex
	errors  map[string]int
}

// observe records a call sent at start that returned err, and returns err.
func (c *calls) observe(start time.Time, err error) error {
	return c.record(time.Since(start), err)
}

// record records a call that took d and returned err, and returns err.
func (c *calls) record(d time.Duration, err error) error {
	if err == nil {
		c.latency.Add(d)
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.errors == nil {
		c.errors = map[string]int{}
	}
	c.errors[ErrorCode(err)]++
	return err
}

// samples are the latencies of the successful calls.
func (c *calls) samples() []time.Duration { return c.latency.Samples() }

func (c *calls) errorCounts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.errors))
	for k, v := range c.errors {
		out[k] = v
	}
	return out
}

// ErrorCode classifies a failed call: its HTTP status code when the server
// answered, "timeout" when the call ran out of time, "transport" otherwise.
func ErrorCode(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Code != 0 {
		return strconv.Itoa(int(status.Status().Code))
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		(errors.As(err, &netErr) && netErr.Timeout()) {
		return "timeout"
	}
	return "transport"
}

// parallel calls fn(i) for every i in [0, n) from workers goroutines and
// returns when all calls have; once ctx ends no new call starts.
func parallel(ctx context.Context, workers, n int, fn func(i int)) {
	workers = max(min(workers, n), 1)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
}

// firstError keeps the first of the errors parallel workers report, and
// how many there were.
type firstError struct {
	mu    sync.Mutex
	err   error
	count int
}

func (f *firstError) add(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
	f.count++
}

func (f *firstError) first() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// sleepUntil waits until t or until ctx ends, and reports whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// cleanupContext outlives ctx, so that Ctrl-C still cleans up, but not
// forever.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}
