package interpodaffinity

import (
	"context"
	"fmt"

	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// EventsToRegister: a pod rejected here may fit once a pod it needs
// appears (or gets the labels), a pod it must avoid (or one that avoids it)
// goes, a node gets the topology labels, or a namespace's labels change.
func (pl *InterPodAffinity) EventsToRegister(context.Context) ([]framework.ClusterEventWithHint, error) {
	return []framework.ClusterEventWithHint{
		{Event: framework.ClusterEvent{Resource: framework.Pod, ActionType: framework.Add | framework.UpdatePodLabel | framework.Delete}, QueueingHintFn: pl.isSchedulableAfterPodChange},
		{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeLabel}, QueueingHintFn: pl.isSchedulableAfterNodeChange},
		{Event: framework.ClusterEvent{Resource: framework.Namespace, ActionType: framework.Add | framework.Update}},
	}, nil
}

func (pl *InterPodAffinity) isSchedulableAfterPodChange(logger klog.Logger, pod *v1alpha1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
	oldPod, _ := oldObj.(*v1alpha1.Pod)
	newPod, _ := newObj.(*v1alpha1.Pod)
	if oldPod == nil && newPod == nil {
		return framework.Queue, fmt.Errorf("expected a Pod, got %T and %T", oldObj, newObj)
	}
	info := framework.NewPodInfo(pod)
	affinity := pl.resolveNamespaces(info.RequiredAffinityTerms)
	anti := pl.resolveNamespaces(info.RequiredAntiAffinityTerms)
	nsLabels := pl.namespaceLabels(pod.Namespace)
	switch {
	case oldPod != nil && newPod != nil: // labels changed
		if len(affinity) > 0 && !podMatchesAllAffinityTerms(affinity, oldPod) && podMatchesAllAffinityTerms(affinity, newPod) {
			return framework.Queue, nil
		}
		if matchesAny(anti, oldPod) && !matchesAny(anti, newPod) {
			return framework.Queue, nil
		}
	case newPod != nil: // added
		if len(affinity) > 0 && podMatchesAllAffinityTerms(affinity, newPod) {
			return framework.Queue, nil
		}
	default: // deleted
		if matchesAny(anti, oldPod) {
			return framework.Queue, nil
		}
		for _, t := range framework.NewPodInfo(oldPod).RequiredAntiAffinityTerms {
			if t.Matches(pod, nsLabels) {
				return framework.Queue, nil
			}
		}
	}
	logger.V(5).Info("Pod change does not concern the pod's inter-pod affinity", "pod", klog.KObj(pod))
	return framework.QueueSkip, nil
}

func matchesAny(terms []framework.AffinityTerm, p *v1alpha1.Pod) bool {
	for _, t := range terms {
		if t.Matches(p, nil) {
			return true
		}
	}
	return false
}

func (pl *InterPodAffinity) isSchedulableAfterNodeChange(_ klog.Logger, pod *v1alpha1.Pod, oldObj, newObj any) (framework.QueueingHint, error) {
	newNode, ok := newObj.(*v1alpha1.Node)
	if !ok {
		return framework.Queue, fmt.Errorf("expected a Node, got %T", newObj)
	}
	oldNode, _ := oldObj.(*v1alpha1.Node)
	info := framework.NewPodInfo(pod)
	terms := append(append([]framework.AffinityTerm(nil), info.RequiredAffinityTerms...), info.RequiredAntiAffinityTerms...)
	if len(terms) == 0 {
		// Rejected by the anti-affinity of existing pods: any relabelling
		// may take the node out of their domain.
		return framework.Queue, nil
	}
	for _, t := range terms {
		nv, inNew := newNode.Labels[t.TopologyKey]
		if oldNode == nil {
			if inNew {
				return framework.Queue, nil
			}
			continue
		}
		if ov, inOld := oldNode.Labels[t.TopologyKey]; inOld != inNew || ov != nv {
			return framework.Queue, nil
		}
	}
	return framework.QueueSkip, nil
}
