// Package metrics defines the scheduler's Prometheus metrics, named as
// kube-scheduler names them, in component-base's legacy registry (served
// on /metrics).
package metrics

import (
	"sync"
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

const subsystem = "scheduler"

// Results of a scheduling attempt.
const (
	ResultScheduled     = "scheduled"
	ResultUnschedulable = "unschedulable"
	ResultError         = "error"
)

var (
	// ScheduleAttempts counts scheduling attempts by result.
	ScheduleAttempts = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      subsystem,
		Name:           "schedule_attempts_total",
		Help:           "Number of attempts to schedule pods, by the result: 'unschedulable' means a pod could not be scheduled, 'error' means an internal or API error.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"result"})

	// SchedulingAttemptDuration is the time from popping a pod to its
	// binding returning (or the attempt failing).
	SchedulingAttemptDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Subsystem:      subsystem,
		Name:           "scheduling_attempt_duration_seconds",
		Help:           "Scheduling attempt latency in seconds (scheduling algorithm + binding), by result.",
		Buckets:        metrics.ExponentialBuckets(0.0005, 2, 16),
		StabilityLevel: metrics.ALPHA,
	}, []string{"result"})

	// E2ESchedulingDuration is the time from a pod entering the queue to its
	// binding, over all its attempts.
	E2ESchedulingDuration = metrics.NewHistogram(&metrics.HistogramOpts{
		Subsystem:      subsystem,
		Name:           "e2e_scheduling_duration_seconds",
		Help:           "End-to-end scheduling latency in seconds: from the pod entering the scheduling queue to its binding, across all attempts.",
		Buckets:        metrics.ExponentialBuckets(0.001, 2, 20),
		StabilityLevel: metrics.ALPHA,
	})

	// PendingPods is the number of pods in each part of the queue.
	PendingPods = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Subsystem:      subsystem,
		Name:           "pending_pods",
		Help:           "Number of pending pods, by the queue type: 'active' means the active queue, 'backoff' the back-off queue, 'unschedulable' the unschedulable set.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"queue"})
)

var registerOnce sync.Once

// Register adds the metrics to the legacy registry; safe to call more than
// once (several schedulers in one test process).
func Register() {
	registerOnce.Do(func() {
		legacyregistry.MustRegister(ScheduleAttempts, SchedulingAttemptDuration, E2ESchedulingDuration, PendingPods)
	})
}

// ObserveAttempt records the result and duration of one attempt.
func ObserveAttempt(result string, start time.Time) {
	ScheduleAttempts.WithLabelValues(result).Inc()
	SchedulingAttemptDuration.WithLabelValues(result).Observe(time.Since(start).Seconds())
}

// SetPendingPods records the queue's lengths.
func SetPendingPods(active, backoff, unschedulable int) {
	PendingPods.WithLabelValues("active").Set(float64(active))
	PendingPods.WithLabelValues("backoff").Set(float64(backoff))
	PendingPods.WithLabelValues("unschedulable").Set(float64(unschedulable))
}
