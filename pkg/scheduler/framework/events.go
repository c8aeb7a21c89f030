package framework

import (
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// EventResource is the kind of object a ClusterEvent is about.
type EventResource string

const (
	// Pod events are about pods bound (or assumed) to a node; a pending
	// pod's own changes go through the queue's Update.
	Pod       EventResource = "Pod"
	Node      EventResource = "Node"
	Namespace EventResource = "Namespace"
	// WildCard matches every resource.
	WildCard EventResource = "*"
)

// ActionType is a bit set of what happened to the object, as upstream's.
type ActionType int64

const (
	Add ActionType = 1 << iota
	Delete
	UpdateNodeAllocatable
	UpdateNodeLabel
	UpdateNodeTaint
	UpdateNodeCondition
	UpdateNodeSpecUnschedulable
	UpdatePodLabel
	UpdatePodScaleDown

	updateNodeAll = UpdateNodeAllocatable | UpdateNodeLabel | UpdateNodeTaint | UpdateNodeCondition | UpdateNodeSpecUnschedulable
	updatePodAll  = UpdatePodLabel | UpdatePodScaleDown
	// Update is any update.
	Update = updateNodeAll | updatePodAll
	All    = Add | Delete | Update
)

// ClusterEvent is a change in the cluster that could make a pod some plugin
// rejected schedulable.
type ClusterEvent struct {
	Resource   EventResource
	ActionType ActionType
	// Label names the event in logs ("NodeLabelChange").
	Label string
}

// Match reports whether the registered event covers the event that happened.
func (ce ClusterEvent) Match(event ClusterEvent) bool {
	return (ce.Resource == WildCard || ce.Resource == event.Resource) && ce.ActionType&event.ActionType != 0
}

func (ce ClusterEvent) String() string {
	if ce.Label != "" {
		return ce.Label
	}
	return string(ce.Resource)
}

// The events the scheduler's informers produce.
var (
	EventNodeAdd               = ClusterEvent{Resource: Node, ActionType: Add, Label: "NodeAdd"}
	EventNodeDelete            = ClusterEvent{Resource: Node, ActionType: Delete, Label: "NodeDelete"}
	EventNodeLabelChange       = ClusterEvent{Resource: Node, ActionType: UpdateNodeLabel, Label: "NodeLabelChange"}
	EventNodeTaintChange       = ClusterEvent{Resource: Node, ActionType: UpdateNodeTaint, Label: "NodeTaintChange"}
	EventNodeAllocatableChange = ClusterEvent{Resource: Node, ActionType: UpdateNodeAllocatable, Label: "NodeAllocatableChange"}
	EventNodeConditionChange   = ClusterEvent{Resource: Node, ActionType: UpdateNodeCondition, Label: "NodeConditionChange"}
	EventNodeSpecUnschedulable = ClusterEvent{Resource: Node, ActionType: UpdateNodeSpecUnschedulable, Label: "NodeSpecUnschedulableChange"}
	EventAssignedPodAdd        = ClusterEvent{Resource: Pod, ActionType: Add, Label: "AssignedPodAdd"}
	EventAssignedPodUpdate     = ClusterEvent{Resource: Pod, ActionType: UpdatePodLabel, Label: "AssignedPodLabelChange"}
	EventAssignedPodDelete     = ClusterEvent{Resource: Pod, ActionType: Delete, Label: "AssignedPodDelete"}
	EventNamespaceAdd          = ClusterEvent{Resource: Namespace, ActionType: Add, Label: "NamespaceAdd"}
	EventNamespaceLabelChange  = ClusterEvent{Resource: Namespace, ActionType: Update, Label: "NamespaceLabelChange"}
	EventUnschedulableTimeout  = ClusterEvent{Resource: WildCard, ActionType: All, Label: "UnschedulableTimeout"}
	EventForceActivate         = ClusterEvent{Resource: WildCard, ActionType: All, Label: "ForceActivate"}
)

// QueueingHint says whether an event may make a rejected pod schedulable.
type QueueingHint int

const (
	// QueueSkip: the event cannot help this pod; it keeps waiting.
	QueueSkip QueueingHint = iota
	// Queue: the pod should be retried.
	Queue
)

// QueueingHintFn looks at an event (oldObj and newObj are nil when they do
// not apply) and decides for one pod. An error counts as Queue.
type QueueingHintFn func(logger klog.Logger, pod *v1alpha1.Pod, oldObj, newObj any) (QueueingHint, error)

// ClusterEventWithHint is an event a plugin registers; a nil hint means
// always Queue.
type ClusterEventWithHint struct {
	Event          ClusterEvent
	QueueingHintFn QueueingHintFn
}
