package framework

import (
	"context"

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

// PreFilterPlugin looks at the pod once per scheduling cycle, before any
// node, to compute what its Filter needs (or to reject the pod outright).
// Returning Skip means the plugin has nothing to check for this pod and its
// Filter is not called.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *v1alpha1.Pod) *Status
}

// FilterPlugin decides whether the pod may run on one node. It is called
// for many nodes in parallel and must not change anything it is given.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, nodeInfo *NodeInfo) *Status
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
