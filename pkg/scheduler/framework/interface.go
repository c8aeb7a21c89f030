package framework

import (
	"context"
	"time"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// MaxNodeScore is the highest score a ScorePlugin gives after normalising;
// MinNodeScore the lowest.
const (
	MaxNodeScore int64 = 100
	MinNodeScore int64 = 0
)

// Plugin is anything the framework runs.
type Plugin interface {
	// Name identifies the plugin in statuses, logs and the registry.
	Name() string
}

// PreFilterResult narrows the nodes worth filtering; nil means all.
type PreFilterResult struct {
	// NodeNames, when not nil, are the only nodes that can fit the pod.
	NodeNames map[string]struct{}
}

// PreFilterPlugin looks at the pod once per scheduling cycle, before any
// node, to compute what its Filter needs (or to reject the pod outright).
// Returning Skip means the plugin has nothing to check for this pod and its
// Filter is not called.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *v1alpha1.Pod) (*PreFilterResult, *Status)
	// PreFilterExtensions returns nil when the plugin's PreFilter state does
	// not depend on the other pods, else the hooks preemption uses to see a
	// node with victims removed (or nominated pods added).
	PreFilterExtensions() PreFilterExtensions
}

// PreFilterExtensions update a plugin's PreFilter state as if a pod were
// added to or removed from a node, as upstream's do.
type PreFilterExtensions interface {
	AddPod(ctx context.Context, state *CycleState, podToSchedule *v1alpha1.Pod, podInfoToAdd *PodInfo, nodeInfo *NodeInfo) *Status
	RemovePod(ctx context.Context, state *CycleState, podToSchedule *v1alpha1.Pod, podInfoToRemove *PodInfo, nodeInfo *NodeInfo) *Status
}

// FilterPlugin decides whether the pod may run on one node. It is called
// for many nodes in parallel and must not change anything it is given.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeInfo *NodeInfo) *Status
}

// NodeToStatus maps each node a pod was rejected on to the rejection.
type NodeToStatus map[string]*Status

// PostFilterResult is what a PostFilter plugin did: the node nominated for
// the pod once victims are gone.
type PostFilterResult struct {
	NominatedNodeName string
}

// PostFilterPlugin runs when no node fits (preemption). Success with a
// result means the pod may fit on result.NominatedNodeName later.
type PostFilterPlugin interface {
	Plugin
	PostFilter(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, filteredNodeStatusMap NodeToStatus) (*PostFilterResult, *Status)
}

// PreScorePlugin computes, once per cycle, what its Score needs from the
// feasible nodes. Skip means its Score is not called.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodes []*NodeInfo) *Status
}

// ScorePlugin ranks a node that passed every filter. Scores are normalised
// to [MinNodeScore, MaxNodeScore] by ScoreExtensions (when not nil), then
// multiplied by the plugin's weight and added up across plugins.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeInfo *NodeInfo) (int64, *Status)
	// ScoreExtensions returns nil when Score already yields [0, 100].
	ScoreExtensions() ScoreExtensions
}

// ScoreExtensions rescales one plugin's raw scores across all nodes.
type ScoreExtensions interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, scores NodeScoreList) *Status
}

// ReservePlugin is told when a node is reserved for the pod in the cache
// (Reserve) and when that reservation is undone (Unreserve, which must be
// idempotent and cannot fail).
type ReservePlugin interface {
	Plugin
	Reserve(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeName string) *Status
	Unreserve(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeName string)
}

// PermitPlugin may approve, reject or hold (Wait, up to the returned
// timeout) a pod before it is bound.
type PermitPlugin interface {
	Plugin
	Permit(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeName string) (*Status, time.Duration)
}

// PreBindPlugin runs before the pod is bound, in the binding goroutine.
type PreBindPlugin interface {
	Plugin
	PreBind(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeName string) *Status
}

// BindPlugin binds the pod to the node. A plugin that does not handle the
// pod returns Skip and the next one is asked.
type BindPlugin interface {
	Plugin
	Bind(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeName string) *Status
}

// PostBindPlugin is told the pod was bound.
type PostBindPlugin interface {
	Plugin
	PostBind(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeName string)
}

// EnqueueExtensions is implemented by plugins that can reject a pod: it
// lists the cluster events that can make such a pod schedulable, each with
// a hint that looks at the event to decide whether it does for this pod.
type EnqueueExtensions interface {
	Plugin
	EventsToRegister(ctx context.Context) ([]ClusterEventWithHint, error)
}

// NodeScore is one node's score.
type NodeScore struct {
	Name  string
	Score int64
}

// NodeScoreList is a score for each feasible node, in node order.
type NodeScoreList []NodeScore

// DefaultNormalizeScore scales scores so the highest becomes maxPriority,
// and, when reverse is true, flips them so the lowest raw score wins. It is
// what plugins that count something bad (untolerated soft taints) use.
func DefaultNormalizeScore(maxPriority int64, reverse bool, scores NodeScoreList) *Status {
	var highest int64
	for i := range scores {
		highest = max(highest, scores[i].Score)
	}
	if highest == 0 {
		if reverse {
			for i := range scores {
				scores[i].Score = maxPriority
			}
		}
		return nil
	}
	for i := range scores {
		s := maxPriority * scores[i].Score / highest
		if reverse {
			s = maxPriority - s
		}
		scores[i].Score = s
	}
	return nil
}
