package framework

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// Registration is one plugin and, if it scores, the weight of its score.
// Either Plugin is set, or Factory builds the plugin from the framework's
// Handle (for plugins that read the snapshot or call the API).
type Registration struct {
	Plugin  Plugin
	Factory func(Handle) (Plugin, error)
	// Weight multiplies the plugin's normalised score. It must be positive
	// for a ScorePlugin and is ignored otherwise.
	Weight int64
}

// Options are what a Framework offers its plugins through Handle.
type Options struct {
	Snapshot      NodeInfoLister
	ClientSet     clientset.Interface
	EventRecorder record.EventRecorder
	Nominator     PodNominator
	// Extra holds scheduler-specific things plugins look up by name.
	Extra map[string]any
}

// Framework runs a fixed set of plugins in the order they were registered.
type Framework struct {
	opts         Options
	plugins      []Plugin
	preFilters   []PreFilterPlugin
	filters      []FilterPlugin
	postFilters  []PostFilterPlugin
	preScores    []PreScorePlugin
	scorers      []ScorePlugin
	weights      []int64
	reserves     []ReservePlugin
	permits      []PermitPlugin
	preBinds     []PreBindPlugin
	binds        []BindPlugin
	postBinds    []PostBindPlugin
	parallelizer Parallelizer

	waitingPods sync.Map // UID -> *WaitingPod
}

var _ Handle = &Framework{}

// NewFramework builds the plugins and sorts them by the extension points
// they implement. parallelism bounds the goroutines used to filter and
// score nodes.
func NewFramework(registrations []Registration, parallelism int, opts ...Options) (*Framework, error) {
	f := &Framework{parallelizer: Parallelizer{Workers: parallelism}}
	if len(opts) > 0 {
		f.opts = opts[0]
	}
	seen := map[string]bool{}
	for _, r := range registrations {
		p := r.Plugin
		if p == nil {
			if r.Factory == nil {
				return nil, fmt.Errorf("registration with neither a plugin nor a factory")
			}
			var err error
			if p, err = r.Factory(f); err != nil {
				return nil, fmt.Errorf("build plugin: %w", err)
			}
		}
		name := p.Name()
		if seen[name] {
			return nil, fmt.Errorf("plugin %q registered twice", name)
		}
		seen[name] = true
		f.plugins = append(f.plugins, p)
		if p, ok := p.(PreFilterPlugin); ok {
			f.preFilters = append(f.preFilters, p)
		}
		if p, ok := p.(FilterPlugin); ok {
			f.filters = append(f.filters, p)
		}
		if p, ok := p.(PostFilterPlugin); ok {
			f.postFilters = append(f.postFilters, p)
		}
		if p, ok := p.(PreScorePlugin); ok {
			f.preScores = append(f.preScores, p)
		}
		if p, ok := p.(ScorePlugin); ok {
			if r.Weight <= 0 {
				return nil, fmt.Errorf("score plugin %q needs a positive weight, got %d", name, r.Weight)
			}
			f.scorers = append(f.scorers, p)
			f.weights = append(f.weights, r.Weight)
		}
		if p, ok := p.(ReservePlugin); ok {
			f.reserves = append(f.reserves, p)
		}
		if p, ok := p.(PermitPlugin); ok {
			f.permits = append(f.permits, p)
		}
		if p, ok := p.(PreBindPlugin); ok {
			f.preBinds = append(f.preBinds, p)
		}
		if p, ok := p.(BindPlugin); ok {
			f.binds = append(f.binds, p)
		}
		if p, ok := p.(PostBindPlugin); ok {
			f.postBinds = append(f.postBinds, p)
		}
	}
	return f, nil
}

// Parallelizer returns the parallelizer the framework filters and scores with.
func (f *Framework) Parallelizer() Parallelizer { return f.parallelizer }

// SnapshotSharedLister returns the snapshot of the current cycle.
func (f *Framework) SnapshotSharedLister() NodeInfoLister { return f.opts.Snapshot }

// ClientSet returns the scheduler's client.
func (f *Framework) ClientSet() clientset.Interface { return f.opts.ClientSet }

// EventRecorder returns the scheduler's event recorder.
func (f *Framework) EventRecorder() record.EventRecorder { return f.opts.EventRecorder }

// PodNominator returns the queue's record of nominated pods.
func (f *Framework) PodNominator() PodNominator { return f.opts.Nominator }

// Extra returns what was registered under name.
func (f *Framework) Extra(name string) any { return f.opts.Extra[name] }

// HasBindPlugins reports whether a Bind plugin is registered.
func (f *Framework) HasBindPlugins() bool { return len(f.binds) > 0 }

// HasPostFilterPlugins reports whether a PostFilter plugin is registered.
func (f *Framework) HasPostFilterPlugins() bool { return len(f.postFilters) > 0 }

// EnqueueExtensions returns, per plugin name, the events each plugin that
// can reject a pod registered.
func (f *Framework) EnqueueExtensions(ctx context.Context) (map[string][]ClusterEventWithHint, error) {
	out := map[string][]ClusterEventWithHint{}
	for _, p := range f.plugins {
		ext, ok := p.(EnqueueExtensions)
		if !ok {
			continue
		}
		events, err := ext.EventsToRegister(ctx)
		if err != nil {
			return nil, fmt.Errorf("events of plugin %s: %w", p.Name(), err)
		}
		out[p.Name()] = events
	}
	return out, nil
}

// RunPreFilterPlugins runs every PreFilter plugin. It returns the
// intersection of their results and the first rejection or error, with the
// plugin's name; plugins that return Skip are remembered so their Filter is
// not called in this cycle.
func (f *Framework) RunPreFilterPlugins(ctx context.Context, state *CycleState, pod *v1alpha1.Pod) (*PreFilterResult, *Status) {
	skip := map[string]bool{}
	var result *PreFilterResult
	for _, p := range f.preFilters {
		r, s := p.PreFilter(ctx, state, pod)
		switch {
		case s.IsSuccess():
		case s.IsSkip():
			skip[p.Name()] = true
			continue
		case s.IsRejected():
			return nil, s.WithPlugin(p.Name())
		default:
			return nil, AsStatus(fmt.Errorf("prefilter plugin %s: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
		if r != nil && r.NodeNames != nil {
			if result == nil {
				result = &PreFilterResult{NodeNames: r.NodeNames}
			} else {
				merged := map[string]struct{}{}
				for n := range r.NodeNames {
					if _, ok := result.NodeNames[n]; ok {
						merged[n] = struct{}{}
					}
				}
				result.NodeNames = merged
			}
			if len(result.NodeNames) == 0 {
				return nil, NewStatus(UnschedulableAndUnresolvable, "node(s) didn't satisfy plugin(s) ["+p.Name()+"] simultaneously").WithPlugin(p.Name())
			}
		}
	}
	state.skipFilter = skip
	state.filters = make([]FilterPlugin, 0, len(f.filters))
	for _, p := range f.filters {
		if !skip[p.Name()] {
			state.filters = append(state.filters, p)
		}
	}
	return result, nil
}

// RunPreFilterExtensionAddPod tells every PreFilter plugin's state that
// podInfoToAdd is on nodeInfo.
func (f *Framework) RunPreFilterExtensionAddPod(ctx context.Context, state *CycleState, podToSchedule *v1alpha1.Pod, podInfoToAdd *PodInfo, nodeInfo *NodeInfo) *Status {
	skip := state.skipFilter
	for _, p := range f.preFilters {
		ext := p.PreFilterExtensions()
		if ext == nil || skip[p.Name()] {
			continue
		}
		if s := ext.AddPod(ctx, state, podToSchedule, podInfoToAdd, nodeInfo); !s.IsSuccess() {
			return AsStatus(fmt.Errorf("prefilter extension AddPod of %s: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
	}
	return nil
}

// RunPreFilterExtensionRemovePod tells every PreFilter plugin's state that
// podInfoToRemove left nodeInfo.
func (f *Framework) RunPreFilterExtensionRemovePod(ctx context.Context, state *CycleState, podToSchedule *v1alpha1.Pod, podInfoToRemove *PodInfo, nodeInfo *NodeInfo) *Status {
	skip := state.skipFilter
	for _, p := range f.preFilters {
		ext := p.PreFilterExtensions()
		if ext == nil || skip[p.Name()] {
			continue
		}
		if s := ext.RemovePod(ctx, state, podToSchedule, podInfoToRemove, nodeInfo); !s.IsSuccess() {
			return AsStatus(fmt.Errorf("prefilter extension RemovePod of %s: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
	}
	return nil
}

// RunFilterPlugins runs the Filter plugins on one node and returns the first
// objection, so each infeasible node counts one reason (a plugin may give
// several). It is safe to call for many nodes at once.
func (f *Framework) RunFilterPlugins(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeInfo *NodeInfo) *Status {
	filters := state.filters
	if filters == nil {
		filters = f.filters
	}
	for _, p := range filters {
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

// RunFilterPluginsWithNominatedPods filters the node as upstream does when
// preemption has nominated pods to it: the pod must fit both with the
// nominated pods of at least its priority (as if they were already there)
// and without them (they may never come, and anti-affinity to them must
// not be what lets the pod fit).
func (f *Framework) RunFilterPluginsWithNominatedPods(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, info *NodeInfo) *Status {
	if f.opts.Nominator != nil && info.Node() != nil {
		nominated := f.opts.Nominator.NominatedPodsForNode(info.Node().Name)
		var added bool
		var stateWith *CycleState
		var infoWith *NodeInfo
		for _, pi := range nominated {
			if pi.Pod.UID == pod.UID || PodPriority(pi.Pod) < PodPriority(pod) {
				continue
			}
			if !added {
				stateWith, infoWith, added = state.Clone(), info.Clone(), true
			}
			infoWith.AddPodInfo(pi)
			if s := f.RunPreFilterExtensionAddPod(ctx, stateWith, pod, pi, infoWith); !s.IsSuccess() {
				return s
			}
		}
		if added {
			if s := f.RunFilterPlugins(ctx, stateWith, pod, infoWith); !s.IsSuccess() {
				return s
			}
		}
	}
	return f.RunFilterPlugins(ctx, state, pod, info)
}

// PodPriority is spec.priority, 0 when unset.
func PodPriority(pod *v1alpha1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}

// RunPostFilterPlugins runs the PostFilter plugins until one succeeds (or
// fails with an error).
func (f *Framework) RunPostFilterPlugins(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, m NodeToStatus) (*PostFilterResult, *Status) {
	var reasons []string
	for _, p := range f.postFilters {
		r, s := p.PostFilter(ctx, state, pod, m)
		switch {
		case s.IsSuccess():
			return r, nil
		case s.Code() == Error:
			return nil, AsStatus(fmt.Errorf("postfilter plugin %s: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		default:
			reasons = append(reasons, s.Reasons()...)
		}
	}
	return nil, NewStatus(Unschedulable, reasons...)
}

// HasScorePlugins reports whether any plugin scores; without them every
// feasible node is as good as another.
func (f *Framework) HasScorePlugins() bool { return len(f.scorers) > 0 }

// RunPreScorePlugins runs the PreScore plugins; those returning Skip are
// not asked to Score in this cycle.
func (f *Framework) RunPreScorePlugins(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodes []*NodeInfo) *Status {
	skip := map[string]bool{}
	for _, p := range f.preScores {
		s := p.PreScore(ctx, state, pod, nodes)
		switch {
		case s.IsSuccess():
		case s.IsSkip():
			skip[p.Name()] = true
		default:
			return AsStatus(fmt.Errorf("prescore plugin %s: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
	}
	state.skipScore = skip
	return nil
}

// RunScorePlugins scores every node with every ScorePlugin, normalises each
// plugin's scores, and returns each node's weighted sum, in node order.
func (f *Framework) RunScorePlugins(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodes []*NodeInfo) ([]int64, *Status) {
	skip := state.skipScore
	scorers := make([]int, 0, len(f.scorers))
	for i, p := range f.scorers {
		if !skip[p.Name()] {
			scorers = append(scorers, i)
		}
	}
	perPlugin := make([]NodeScoreList, len(f.scorers))
	for _, i := range scorers {
		perPlugin[i] = make(NodeScoreList, len(nodes))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var failed atomic.Pointer[Status]
	f.parallelizer.Until(ctx, len(nodes), func(n int) {
		for _, i := range scorers {
			p := f.scorers[i]
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
	for _, i := range scorers {
		p, scores := f.scorers[i], perPlugin[i]
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

// RunReservePluginsReserve runs Reserve on every plugin, stopping at the
// first failure (the caller then runs Unreserve).
func (f *Framework) RunReservePluginsReserve(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeName string) *Status {
	for _, p := range f.reserves {
		if s := p.Reserve(ctx, state, pod, nodeName); !s.IsSuccess() {
			if s.IsRejected() {
				return s.WithPlugin(p.Name())
			}
			return AsStatus(fmt.Errorf("reserve plugin %s: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
	}
	return nil
}

// RunReservePluginsUnreserve runs Unreserve on every plugin, in reverse.
func (f *Framework) RunReservePluginsUnreserve(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeName string) {
	for _, p := range slices.Backward(f.reserves) {
		p.Unreserve(ctx, state, pod, nodeName)
	}
}

// maxPermitTimeout caps how long a Permit plugin may hold a pod, as upstream.
const maxPermitTimeout = 15 * time.Minute

// RunPermitPlugins asks every Permit plugin. A rejection or error is
// returned at once; when some plugins ask to wait, the pod is recorded as
// waiting and Wait is returned: WaitOnPermit then blocks for the verdict.
func (f *Framework) RunPermitPlugins(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeName string) *Status {
	waitFor := map[string]time.Duration{}
	for _, p := range f.permits {
		s, timeout := p.Permit(ctx, state, pod, nodeName)
		switch {
		case s.IsSuccess():
		case s.Code() == Wait:
			waitFor[p.Name()] = min(timeout, maxPermitTimeout)
		case s.IsRejected():
			return s.WithPlugin(p.Name())
		default:
			return AsStatus(fmt.Errorf("permit plugin %s: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
	}
	if len(waitFor) > 0 {
		f.waitingPods.Store(pod.UID, newWaitingPod(pod, waitFor))
		return NewStatus(Wait)
	}
	return nil
}

// WaitOnPermit blocks until every plugin that asked the pod to wait has
// allowed it, one rejected it, or a wait timed out.
func (f *Framework) WaitOnPermit(ctx context.Context, pod *v1alpha1.Pod) *Status {
	v, ok := f.waitingPods.Load(pod.UID)
	if !ok {
		return nil
	}
	wp := v.(*WaitingPod)
	defer f.waitingPods.Delete(pod.UID)
	select {
	case s := <-wp.done:
		return s
	case <-ctx.Done():
		return AsStatus(ctx.Err())
	}
}

// GetWaitingPod returns the pod held by Permit plugins, for a plugin to
// Allow or Reject it.
func (f *Framework) GetWaitingPod(uid types.UID) *WaitingPod {
	if v, ok := f.waitingPods.Load(uid); ok {
		return v.(*WaitingPod)
	}
	return nil
}

// RunPreBindPlugins runs every PreBind plugin until one fails.
func (f *Framework) RunPreBindPlugins(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeName string) *Status {
	for _, p := range f.preBinds {
		if s := p.PreBind(ctx, state, pod, nodeName); !s.IsSuccess() {
			if s.IsRejected() {
				return s.WithPlugin(p.Name())
			}
			return AsStatus(fmt.Errorf("prebind plugin %s: %w", p.Name(), s.AsError())).WithPlugin(p.Name())
		}
	}
	return nil
}

// RunBindPlugins asks the Bind plugins in turn until one does not Skip.
func (f *Framework) RunBindPlugins(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeName string) *Status {
	for _, p := range f.binds {
		s := p.Bind(ctx, state, pod, nodeName)
		if s.IsSkip() {
			continue
		}
		if !s.IsSuccess() {
			return s.WithPlugin(p.Name())
		}
		return nil
	}
	return NewStatus(Skip, "no bind plugin bound the pod")
}

// RunPostBindPlugins tells every PostBind plugin the pod was bound.
func (f *Framework) RunPostBindPlugins(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeName string) {
	for _, p := range f.postBinds {
		p.PostBind(ctx, state, pod, nodeName)
	}
}

// WaitingPod is a pod some Permit plugins hold.
type WaitingPod struct {
	pod     *v1alpha1.Pod
	mu      sync.Mutex
	pending map[string]*time.Timer
	done    chan *Status
}

func newWaitingPod(pod *v1alpha1.Pod, waitFor map[string]time.Duration) *WaitingPod {
	wp := &WaitingPod{pod: pod, pending: map[string]*time.Timer{}, done: make(chan *Status, 1)}
	wp.mu.Lock()
	defer wp.mu.Unlock()
	for name, d := range waitFor {
		wp.pending[name] = time.AfterFunc(d, func() {
			wp.Reject(name, "rejected due to timeout after waiting "+d.String()+" at plugin "+name)
		})
	}
	return wp
}

// Allow records plugin's approval; the pod goes on once all approved.
func (wp *WaitingPod) Allow(plugin string) {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	if t, ok := wp.pending[plugin]; ok {
		t.Stop()
		delete(wp.pending, plugin)
	}
	if len(wp.pending) == 0 {
		select {
		case wp.done <- nil:
		default:
		}
	}
}

// Reject ends the wait with plugin's rejection.
func (wp *WaitingPod) Reject(plugin, msg string) {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	for _, t := range wp.pending {
		t.Stop()
	}
	klog.V(4).InfoS("Waiting pod rejected", "pod", klog.KObj(wp.pod), "plugin", plugin)
	select {
	case wp.done <- NewStatus(Unschedulable, msg).WithPlugin(plugin):
	default:
	}
}
