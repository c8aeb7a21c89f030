package queue

import (
	"reflect"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// ClusterEvent is a change in the cluster that could make an unschedulable
// pod fit. Only these move pods out of the unschedulable set.
type ClusterEvent string

const (
	NodeAdd ClusterEvent = "NodeAdd"
	// NodeLabelChange: a node's labels changed (node selector, affinity).
	NodeLabelChange ClusterEvent = "NodeLabelChange"
	// NodeTaintChange: a node's taints changed.
	NodeTaintChange ClusterEvent = "NodeTaintChange"
	// NodeAllocatableChange: a node offers different resources.
	NodeAllocatableChange ClusterEvent = "NodeAllocatableChange"
	// NodeSchedulable: a cordoned node was uncordoned.
	NodeSchedulable ClusterEvent = "NodeSchedulable"
	// NodeBecameReady: a node's Ready condition turned True.
	NodeBecameReady ClusterEvent = "NodeBecameReady"
	// AssignedPodDelete: a pod that held resources on a node was deleted,
	// finished, or its assumption was forgotten.
	AssignedPodDelete ClusterEvent = "AssignedPodDelete"
	// UnschedulableTimeout: a pod waited in the unschedulable set for
	// too long without any event; it is retried in case one was missed.
	UnschedulableTimeout ClusterEvent = "UnschedulableTimeout"
)

// NodeSchedulingPropertiesChange returns the events a node update amounts
// to. Changes that cannot make a pod fit, such as a heartbeat or a node
// being cordoned, return none.
func NodeSchedulingPropertiesChange(oldNode, newNode *v1alpha1.Node) []ClusterEvent {
	var events []ClusterEvent
	if !reflect.DeepEqual(oldNode.Labels, newNode.Labels) {
		events = append(events, NodeLabelChange)
	}
	if !reflect.DeepEqual(oldNode.Spec.Taints, newNode.Spec.Taints) {
		events = append(events, NodeTaintChange)
	}
	if !sameResources(oldNode.Status.Allocatable, newNode.Status.Allocatable) {
		events = append(events, NodeAllocatableChange)
	}
	if oldNode.Spec.Unschedulable && !newNode.Spec.Unschedulable {
		events = append(events, NodeSchedulable)
	}
	if !isReady(oldNode) && isReady(newNode) {
		events = append(events, NodeBecameReady)
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

func isReady(n *v1alpha1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == v1alpha1.NodeReady {
			return c.Status == v1alpha1.ConditionTrue
		}
	}
	return false
}
