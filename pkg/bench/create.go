package bench

import (
	"context"
	"fmt"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench/report"
	"skiff.dev/skiff/pkg/bench/stats"
)

// CreateOptions configures the create scenario.
type CreateOptions struct {
	// Pods is how many pods to create.
	Pods int
	// Workers is how many creates are in flight at once.
	Workers int
}

// Create measures pod creation: N pods from W workers, no scheduler
// involved. Figures: creates per second over the whole phase, create
// latency percentiles, failures by HTTP code.
func Create(ctx context.Context, e Env, o CreateOptions) (*report.Result, error) {
	if o.Pods <= 0 || o.Workers <= 0 {
		return nil, fmt.Errorf("create needs --pods and --workers above 0, got %d and %d", o.Pods, o.Workers)
	}
	const scenario = "create"
	ns, run := e.namespace(scenario), newRunID()
	if err := e.ensureNamespace(ctx, ns); err != nil {
		return nil, err
	}
	r := report.New(scenario)
	r.Parameters["pods"] = o.Pods
	r.Parameters["workers"] = o.Workers
	r.Parameters["namespace"] = ns

	c := &calls{}
	created, elapsed := creator{client: e.Client, ns: ns, workers: o.Workers, calls: c}.
		create(ctx, e.Progress, "create pods", o.Pods, func(i int) *v1alpha1.Pod {
			return newPod(ns, podName(scenario, run, i), scenario, run)
		})
	r.Add("pods created", float64(created), report.Pods)
	r.Add("create rate", stats.Rate(created, elapsed), report.PodsPerSecond)
	r.Add("elapsed", elapsed.Seconds(), report.Seconds)
	r.AddLatencies("create latency", c.latency.Summary())
	r.AddErrors(c.errorCounts())

	r.Notes = append(r.Notes, cleanupNamespace(ctx, e, ns, false)...)
	return r, interrupted(ctx)
}

// interrupted is the error a scenario returns, with its partial figures,
// when it was stopped (Ctrl-C) before it finished.
func interrupted(ctx context.Context) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted; the figures are partial: %w", context.Cause(ctx))
	}
	return nil
}
