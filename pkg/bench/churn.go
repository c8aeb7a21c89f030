package bench

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench/progress"
	"skiff.dev/skiff/pkg/bench/report"
	"skiff.dev/skiff/pkg/bench/stats"
)

// ChurnOptions configures the churn scenario.
type ChurnOptions struct {
	// Rate is how many pods are created per second; each is then given a
	// status and deleted, so the API sees three writes per pod.
	Rate float64
	// Duration is how long new pods are created.
	Duration time.Duration
	// Window is the width of each row of the latency-over-time series.
	Window time.Duration
	// Lifetime is how long each pod lives: its status is written halfway,
	// it is deleted at the end.
	Lifetime time.Duration
	// APIServerPID, when not 0, is the API server's process on this
	// machine; otherwise its memory is read from /metrics.
	APIServerPID int
}

// The churn operations, in the order each pod goes through them.
const (
	opCreate = "create"
	opStatus = "status"
	opDelete = "delete"
)

var churnOps = []string{opCreate, opStatus, opDelete}

// Churn writes at a steady rate for a while, the load of a busy cluster:
// pods created, given a Running status, and deleted. Figures: latency
// percentiles of each write overall and per window, so a server that
// slows as it runs shows it, and the API server's memory at the end.
func Churn(ctx context.Context, e Env, o ChurnOptions) (*report.Result, error) {
	if o.Rate <= 0 || o.Duration <= 0 || o.Window <= 0 || o.Lifetime <= 0 {
		return nil, fmt.Errorf("churn needs --rate, --duration, --window and --pod-lifetime above 0, got %v, %v, %v and %v",
			o.Rate, o.Duration, o.Window, o.Lifetime)
	}
	const scenario = "churn"
	ns, run := e.namespace(scenario), newRunID()
	if err := e.ensureNamespace(ctx, ns); err != nil {
		return nil, err
	}
	r := report.New(scenario)
	r.Parameters["rate"] = o.Rate
	r.Parameters["duration"] = o.Duration.String()
	r.Parameters["pod-lifetime"] = o.Lifetime.String()
	r.Parameters["namespace"] = ns
	defer func() { r.Notes = append(r.Notes, cleanupNamespace(ctx, e, ns, false)...) }()

	start := time.Now()
	rec := newChurnRecorder(start, o.Window)
	total := int(math.Ceil(o.Rate * o.Duration.Seconds()))
	bar := progress.Start(e.Progress, "churn pods", total)
	period := time.Duration(float64(time.Second) / o.Rate)
	var wg sync.WaitGroup
	// Pods are started on a fixed timetable; a late start is made up at
	// once, so the average rate holds even when the client falls behind.
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * period)
		if !at.Before(start.Add(o.Duration)) || !sleepUntil(ctx, at) {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			churnPod(ctx, e, rec, newPod(ns, podName(scenario, run, i), scenario, run), o.Lifetime)
			bar.Add(1)
		}()
	}
	wg.Wait()
	bar.Finish()

	left, err := e.Client.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelRun + "=" + run})
	if err != nil {
		r.Notef("pods left not counted: %v", err)
	}

	counts := map[string]float64{}
	var allSamples []time.Duration
	for _, op := range churnOps {
		c := rec.overall[op]
		counts[op] = float64(c.latency.Count())
		allSamples = append(allSamples, c.samples()...)
		r.AddErrors(c.errorCounts())
	}
	r.Add("pods created", counts[opCreate], report.Pods)
	r.Add("status updates", counts[opStatus], report.Count)
	r.Add("pods deleted", counts[opDelete], report.Pods)
	if left != nil {
		r.Add("pods left", float64(len(left.Items)), report.Pods)
	}
	r.Add("create rate", counts[opCreate]/o.Duration.Seconds(), report.PodsPerSecond)
	r.AddLatencies("write latency", stats.Summarize(allSamples))
	r.AddLatencies("create latency", rec.overall[opCreate].latency.Summary())
	r.AddLatencies("status latency", rec.overall[opStatus].latency.Summary())
	r.AddLatencies("delete latency", rec.overall[opDelete].latency.Summary())
	addAPIServerMemory(ctx, e, r, o.APIServerPID)
	r.Series = append(r.Series, rec.series())
	return r, interrupted(ctx)
}

// churnPod takes one pod through create, a Running status halfway through
// its lifetime, and delete at the end.
func churnPod(ctx context.Context, e Env, rec *churnRecorder, pod *v1alpha1.Pod, lifetime time.Duration) {
	pods := e.Client.CoreV1alpha1().Pods(pod.Namespace)
	born := time.Now()
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if rec.observe(opCreate, born, err) != nil {
		return
	}
	if !sleepUntil(ctx, born.Add(lifetime/2)) {
		return
	}
	now := metav1.Now()
	created.Status.Phase = v1alpha1.PodRunning
	created.Status.StartTime = &now
	created.Status.Conditions = []v1alpha1.PodCondition{{
		Type: v1alpha1.PodReady, Status: v1alpha1.ConditionTrue, LastTransitionTime: now,
	}}
	at := time.Now()
	_, err = pods.UpdateStatus(ctx, created, metav1.UpdateOptions{})
	_ = rec.observe(opStatus, at, err)
	if !sleepUntil(ctx, born.Add(lifetime)) {
		return
	}
	zero := int64(0)
	at = time.Now()
	err = pods.Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	_ = rec.observe(opDelete, at, err)
}

// churnRecorder keeps every call overall and in the window it was sent in.
type churnRecorder struct {
	start   time.Time
	width   time.Duration
	overall map[string]*calls

	mu      sync.Mutex
	windows []map[string]*calls
}

func newChurnRecorder(start time.Time, width time.Duration) *churnRecorder {
	rec := &churnRecorder{start: start, width: width, overall: map[string]*calls{}}
	for _, op := range churnOps {
		rec.overall[op] = &calls{}
	}
	return rec
}

func (rec *churnRecorder) observe(op string, at time.Time, err error) error {
	d := time.Since(at)
	rec.window(at)[op].record(d, err)
	return rec.overall[op].record(d, err)
}

// window returns the calls of the window at falls in, growing the list.
func (rec *churnRecorder) window(at time.Time) map[string]*calls {
	i := max(int(at.Sub(rec.start)/rec.width), 0)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for len(rec.windows) <= i {
		w := map[string]*calls{}
		for _, op := range churnOps {
			w[op] = &calls{}
		}
		rec.windows = append(rec.windows, w)
	}
	return rec.windows[i]
}

// series is one row per window: writes, their p50 and p99 by kind, and
// failures.
func (rec *churnRecorder) series() report.Series {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	s := report.Series{Name: fmt.Sprintf("per %v window (by when the call was sent)", rec.width)}
	for i, w := range rec.windows {
		from, to := time.Duration(i)*rec.width, time.Duration(i+1)*rec.width
		p := report.Point{Label: fmt.Sprintf("%v-%v", from, to)}
		writes, failed := 0, 0
		for _, op := range churnOps {
			writes += w[op].latency.Count()
			for _, n := range w[op].errorCounts() {
				failed += n
			}
		}
		p.Figures = append(p.Figures, report.Figure{Name: "writes", Value: float64(writes), Unit: report.Count})
		for _, op := range churnOps {
			// A window with no calls of a kind has no percentiles: the
			// table shows "-" rather than a misleading 0.
			sum := w[op].latency.Summary()
			if sum.Count == 0 {
				continue
			}
			p.Figures = append(p.Figures,
				report.Figure{Name: op + " p50", Value: report.Millis(sum.P50), Unit: report.Milliseconds},
				report.Figure{Name: op + " p99", Value: report.Millis(sum.P99), Unit: report.Milliseconds})
		}
		p.Figures = append(p.Figures, report.Figure{Name: "errors", Value: float64(failed), Unit: report.Count})
		s.Points = append(s.Points, p)
	}
	return s
}

// addAPIServerMemory adds the API server's resident memory: from /proc
// when its pid is known, else from its /metrics.
func addAPIServerMemory(ctx context.Context, e Env, r *report.Result, pid int) {
	if pid != 0 {
		m, err := ReadProcessMemory(pid)
		if err != nil {
			r.Notef("API server memory not measured: %v", err)
			return
		}
		r.Add("API server RSS", mib(m.RSS), report.MiB)
		if m.AnonRSS > 0 {
			r.Add("API server RSS, anonymous", mib(m.AnonRSS), report.MiB)
		}
		r.Add("API server peak RSS", mib(m.PeakRSS), report.MiB)
		return
	}
	rss, err := apiServerRSSFromMetrics(ctx, e.Client)
	if err != nil {
		r.Notef("API server memory not measured (give --apiserver-pid, or a kubeconfig allowed to read /metrics): %v", err)
		return
	}
	r.Add("API server RSS", mib(rss), report.MiB)
}
