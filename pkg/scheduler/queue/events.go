package queue

import (
	"reflect"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// NodeSchedulingPropertiesChange returns every event a node update amounts
// to. Changes that cannot make a pod fit, such as a heartbeat or a node
// being cordoned, return none.
func NodeSchedulingPropertiesChange(oldNode, newNode *v1alpha1.Node) []framework.ClusterEvent {
	var events []framework.ClusterEvent
	if !reflect.DeepEqual(oldNode.Labels, newNode.Labels) {
		events = append(events, framework.EventNodeLabelChange)
	}
	if !reflect.DeepEqual(oldNode.Spec.Taints, newNode.Spec.Taints) {
		events = append(events, framework.EventNodeTaintChange)
	}
	if !sameResources(oldNode.Status.Allocatable, newNode.Status.Allocatable) {
		events = append(events, framework.EventNodeAllocatableChange)
	}
	if oldNode.Spec.Unschedulable && !newNode.Spec.Unschedulable {
		events = append(events, framework.EventNodeSpecUnschedulable)
	}
	if !framework.NodeIsReady(oldNode) && framework.NodeIsReady(newNode) {
		events = append(events, framework.EventNodeConditionChange)
	}
	return events
}

func sameResources(a, b v1alpha1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for name, qa := range a {
		qb, ok := b[name]
		if !ok || qa.Cmp(qb) != 0 {
			return false
		}
	}
	return true
}
