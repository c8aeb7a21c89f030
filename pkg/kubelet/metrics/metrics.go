// Package metrics holds the kubelet's Prometheus metrics: pod start latency
// (creation to Running), pods by phase, and the latency and errors of runtime
// operations. Each kubelet has its own registry, so several can run in one
// process.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// Metrics are one kubelet's metrics.
type Metrics struct {
	registry         *prometheus.Registry
	podStartDuration prometheus.Histogram
	runtimeDuration  *prometheus.HistogramVec
	runtimeErrors    *prometheus.CounterVec
}

// New registers the kubelet's metrics; phases counts the pods by phase at
// each scrape.
func New(phases func() map[v1alpha1.PodPhase]int) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		podStartDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skiff_kubelet_pod_start_duration_seconds",
			Help:    "Time from a pod's creation to the kubelet first reporting it Running.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300},
		}),
		runtimeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "skiff_kubelet_runtime_operations_duration_seconds",
			Help:    "Duration of container runtime operations, by operation.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"operation"}),
		runtimeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_kubelet_runtime_operations_errors_total",
			Help: "Container runtime operations that failed, by operation.",
		}, []string{"operation"}),
	}
	m.registry.MustRegister(m.podStartDuration, m.runtimeDuration, m.runtimeErrors,
		&phaseCollector{phases: phases},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Registry is where the metrics are registered.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// PodRunning observes one pod's start latency; it implements status.Observer.
func (m *Metrics) PodRunning(sinceCreation time.Duration) {
	m.podStartDuration.Observe(sinceCreation.Seconds())
}

var podDesc = prometheus.NewDesc("skiff_kubelet_pods", "Pods on this node by the phase last reported.", []string{"phase"}, nil)

type phaseCollector struct {
	phases func() map[v1alpha1.PodPhase]int
}

func (c *phaseCollector) Describe(ch chan<- *prometheus.Desc) { ch <- podDesc }

func (c *phaseCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.phases()
	for _, p := range []v1alpha1.PodPhase{v1alpha1.PodPending, v1alpha1.PodRunning, v1alpha1.PodSucceeded, v1alpha1.PodFailed, v1alpha1.PodUnknown} {
		ch <- prometheus.MustNewConstMetric(podDesc, prometheus.GaugeValue, float64(counts[p]), string(p))
	}
}

// InstrumentRuntime returns rt with every operation timed and its errors
// counted.
func (m *Metrics) InstrumentRuntime(rt runtime.Runtime) runtime.Runtime {
	return &instrumented{rt: rt, m: m}
}

type instrumented struct {
	rt runtime.Runtime
	m  *Metrics
}

// Unwrap implements runtime.Wrapper.
func (i *instrumented) Unwrap() runtime.Runtime { return i.rt }

func (i *instrumented) observe(op string, start time.Time, err error) {
	i.m.runtimeDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		i.m.runtimeErrors.WithLabelValues(op).Inc()
	}
}

func (i *instrumented) Type() string { return i.rt.Type() }

func (i *instrumented) Version(ctx context.Context) (string, error) {
	start := time.Now()
	v, err := i.rt.Version(ctx)
	i.observe("version", start, err)
	return v, err
}

func (i *instrumented) StartContainer(ctx context.Context, pod *v1alpha1.Pod, c *v1alpha1.Container, attempt uint32) (id string, err error) {
	start := time.Now()
	id, err = i.rt.StartContainer(ctx, pod, c, attempt)
	i.observe("start_container", start, err)
	return id, err
}

func (i *instrumented) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	start := time.Now()
	err := i.rt.StopContainer(ctx, id, grace)
	i.observe("stop_container", start, err)
	return err
}

func (i *instrumented) RemoveContainer(ctx context.Context, id string) error {
	start := time.Now()
	err := i.rt.RemoveContainer(ctx, id)
	i.observe("remove_container", start, err)
	return err
}

func (i *instrumented) ListContainers(ctx context.Context) ([]runtime.Container, error) {
	start := time.Now()
	cs, err := i.rt.ListContainers(ctx)
	i.observe("list_containers", start, err)
	return cs, err
}

func (i *instrumented) RemovePod(ctx context.Context, uid types.UID) error {
	start := time.Now()
	err := i.rt.RemovePod(ctx, uid)
	i.observe("remove_pod", start, err)
	return err
}
