package framework

import (
	"context"
	"fmt"
	"sync/atomic"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// Registration is one plugin and, if it scores, the weight of its score.
type Registration struct {
	Plugin Plugin
	// Weight multiplies the plugin's normalised score. It must be positive
	// for a ScorePlugin and is ignored otherwise.
	Weight int64
}

// Framework runs a fixed set of plugins in the order they were registered.
type Framework struct {
	preFilters   []PreFilterPlugin
	filters      []FilterPlugin
	scorers      []ScorePlugin
	weights      []int64
	parallelizer Parallelizer
}

// NewFramework sorts the registered plugins by the extension points they
// implement. parallelism bounds the goroutines used to score nodes.
func NewFramework(registrations []Registration, parallelism int) (*Framework, error) {
	f := &Framework{parallelizer: Parallelizer{Workers: parallelism}}
	seen := map[string]bool{}
	for _, r := range registrations {
		name := r.Plugin.Name()
		if seen[name] {
			return nil, fmt.Errorf("plugin %q registered twice", name)
		}
		seen[name] = true
		if p, ok := r.Plugin.(PreFilterPlugin); ok {
			f.preFilters = append(f.preFilters, p)
		}
		if p, ok := r.Plugin.(FilterPlugin); ok {
			f.filters = append(f.filters, p)
		}
		if p, ok := r.Plugin.(ScorePlugin); ok {
			if r.Weight <= 0 {
				return nil, fmt.Errorf("score plugin %q needs a positive weight, got %d", name, r.Weight)
			}
			f.scorers = append(f.scorers, p)
			f.weights = append(f.weights, r.Weight)
		}
	}
	return f, nil
}

// Parallelizer returns the parallelizer the framework scores with, for the
// scheduler to filter with too.
func (f *Framework) Parallelizer() Parallelizer { return f.parallelizer }

const skipFilterKey StateKey = "framework/SkipFilterPlugins"

// RunPreFilterPlugins runs every PreFilter plugin. It returns the first
// rejection or error, with the plugin's name; plugins that return Skip are
// remembered so their Filter is not called in this cycle.
func (f *Framework) RunPreFilterPlugins(ctx context.Context, state *CycleState, pod *v1alpha1.Pod) *Status {
	skip := map[string]bool{}
	for _, p := range f.preFilters {
		s := p.PreFilter(ctx, state, pod)
		switch {
		case s.IsSuccess():
		case s.IsSkip():
			skip[p.Name()] = true
		case s.IsRejected():
			return s.WithPlugin(p.Name())
		default:
			return AsStatus(fmt.Errorf("prefilter plugin %s: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
	}
	state.Write(skipFilterKey, skip)
	return nil
}

// RunFilterPlugins runs the Filter plugins on one node and returns the first
// objection, so each infeasible node counts one reason (a plugin may give
// several). It is safe to call for many nodes at once.
func (f *Framework) RunFilterPlugins(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeInfo *NodeInfo) *Status {
	var skip map[string]bool
	if v, ok := state.Read(skipFilterKey); ok {
		skip = v.(map[string]bool)
	}
	for _, p := range f.filters {
		if skip[p.Name()] {
			continue
		}
		s := p.Filter(ctx, state, pod, nodeInfo)
		if s.IsSuccess() {
			continue
		}
		if !s.IsRejected() {
			return AsStatus(fmt.Errorf("filter plugin %s on node %s: %w", p.Name(), nodeInfo.Node().Name, s.AsError())).WithPlugin(p.Name())
		}
		return s.WithPlugin(p.Name())
	}
	return nil
}

// HasScorePlugins reports whether any plugin scores; without them every
// feasible node is as good as another.
func (f *Framework) HasScorePlugins() bool { return len(f.scorers) > 0 }

// RunScorePlugins scores every node with every ScorePlugin, normalises each
// plugin's scores, and returns each node's weighted sum, in node order.
func (f *Framework) RunScorePlugins(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodes []*NodeInfo) ([]int64, *Status) {
	perPlugin := make([]NodeScoreList, len(f.scorers))
	for i := range perPlugin {
		perPlugin[i] = make(NodeScoreList, len(nodes))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var failed atomic.Pointer[Status]
	f.parallelizer.Until(ctx, len(nodes), func(n int) {
		for i, p := range f.scorers {
			score, s := p.Score(ctx, state, pod, nodes[n])
			if !s.IsSuccess() {
				failed.CompareAndSwap(nil, AsStatus(fmt.Errorf("score plugin %s on node %s: %w", p.Name(), nodes[n].Node().Name, s.AsError())).WithPlugin(p.Name()))
				cancel()
				return
			}
			perPlugin[i][n] = NodeScore{Name: nodes[n].Node().Name, Score: score}
		}
	})
	if s := failed.Load(); s != nil {
		return nil, s
	}

	totals := make([]int64, len(nodes))
	for i, p := range f.scorers {
		scores := perPlugin[i]
		if ext := p.ScoreExtensions(); ext != nil {
			if s := ext.NormalizeScore(ctx, state, pod, scores); !s.IsSuccess() {
				return nil, AsStatus(fmt.Errorf("normalize scores of plugin %s: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
			}
		}
		for n := range scores {
			if scores[n].Score < MinNodeScore || scores[n].Score > MaxNodeScore {
				return nil, AsStatus(fmt.Errorf("plugin %s scored node %s %d, outside [%d, %d]",
					p.Name(), scores[n].Name, scores[n].Score, MinNodeScore, MaxNodeScore)).WithPlugin(p.Name())
			}
			totals[n] += scores[n].Score * f.weights[i]
		}
	}
	return totals, nil
}
