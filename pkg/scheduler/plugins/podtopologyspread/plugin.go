package podtopologyspread

import (
	"context"
	"fmt"

	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// PodTopologySpread is the plugin.
type PodTopologySpread struct {
	handle framework.Handle
}

var (
	_ framework.PreFilterPlugin   = &PodTopologySpread{}
	_ framework.FilterPlugin      = &PodTopologySpread{}
	_ framework.PreScorePlugin    = &PodTopologySpread{}
	_ framework.ScorePlugin       = &PodTopologySpread{}
	_ framework.EnqueueExtensions = &PodTopologySpread{}
)

// New builds the plugin on the framework's snapshot.
func New(h framework.Handle) (framework.Plugin, error) {
	if h.SnapshotSharedLister() == nil {
		return nil, fmt.Errorf("%s needs the snapshot", Name)
	}
	return &PodTopologySpread{handle: h}, nil
}

// Name returns the plugin's name.
func (*PodTopologySpread) Name() string { return Name }

// EventsToRegister: a matching pod added, relabelled or gone changes the
// counts; a node added, deleted, relabelled or (for nodeTaintsPolicy)
// retainted changes the domains.
func (pl *PodTopologySpread) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.Pod, ActionType: framework.Add | framework.UpdatePodLabel | framework.Delete}, QueueingHintFn: isSchedulableAfterPodChange},
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add | framework.Delete | framework.UpdateNodeLabel | framework.UpdateNodeTaint}, QueueingHintFn: isSchedulableAfterNodeChange},
	}, nil
}

func isSchedulableAfterPodChange(logger klog.Logger, pod *v1alpha1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
	constraints, err := filterConstraints(pod, v1alpha1.DoNotSchedule)
	if err != nil {
		return framework.Queue, err
	}
	for _, obj := range []any{oldObj, newObj} {
		p, ok := obj.(*v1alpha1.Pod)
		if !ok || p.Namespace != pod.Namespace {
			continue
		}
		for i := range constraints {
			if constraints[i].matches(p) {
				return framework.Queue, nil
			}
		}
	}
	logger.V(5).Info("Pod change does not concern the pod's spread constraints", "pod", klog.KObj(pod))
	return framework.QueueSkip, nil
}

func isSchedulableAfterNodeChange(_ klog.Logger, pod *v1alpha1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
	constraints, err := filterConstraints(pod, v1alpha1.DoNotSchedule)
	if err != nil {
		return framework.Queue, err
	}
	oldNode, _ := oldObj.(*v1alpha1.Node)
	newNode, _ := newObj.(*v1alpha1.Node)
	switch {
	case oldNode == nil && newNode != nil: // added
		if nodeLabelsMatchSpreadConstraints(newNode.Labels, constraints) {
			return framework.Queue, nil
		}
	case newNode == nil && oldNode != nil: // deleted: the minimum may rise
		if nodeLabelsMatchSpreadConstraints(oldNode.Labels, constraints) {
			return framework.Queue, nil
		}
	case oldNode != nil && newNode != nil:
		for _, c := range constraints {
			if oldNode.Labels[c.TopologyKey] != newNode.Labels[c.TopologyKey] {
				return framework.Queue, nil
			}
			if c.NodeTaintsPolicy == v1alpha1.NodeInclusionPolicyHonor {
				return framework.Queue, nil
			}
		}
	}
	return framework.QueueSkip, nil
}
