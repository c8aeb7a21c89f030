package framework

import (
	"context"

	"k8s.io/client-go/tools/record"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// NodeInfoLister reads the snapshot of one scheduling cycle.
type NodeInfoLister interface {
	// List returns every node with a Node object, by name.
	List() []*NodeInfo
	// HavePodsWithAffinityList returns the nodes holding at least one pod
	// with pod affinity or anti-affinity.
	HavePodsWithAffinityList() []*NodeInfo
	// HavePodsWithRequiredAntiAffinityList returns the nodes holding at
	// least one pod with required anti-affinity.
	HavePodsWithRequiredAntiAffinityList() []*NodeInfo
	Get(name string) (*NodeInfo, bool)
}

// PodNominator knows the pods nominated to nodes by preemption.
type PodNominator interface {
	NominatedPodsForNode(nodeName string) []*PodInfo
}

// Handle is what plugins get from the framework that runs them.
type Handle interface {
	SnapshotSharedLister() NodeInfoLister
	Parallelizer() Parallelizer
	ClientSet() clientset.Interface
	EventRecorder() record.EventRecorder
	PodNominator() PodNominator
	// Extra returns what the scheduler registered under name for plugins
	// (the namespace lister, say), or nil.
	Extra(name string) any
	// RunFilterPluginsWithNominatedPods filters one node as the scheduling
	// cycle does, for preemption.
	RunFilterPluginsWithNominatedPods(ctx context.Context, state *CycleState, pod *v1alpha1.Pod, info *NodeInfo) *Status
	RunPreFilterExtensionAddPod(ctx context.Context, state *CycleState, podToSchedule *v1alpha1.Pod, podInfoToAdd *PodInfo, nodeInfo *NodeInfo) *Status
	RunPreFilterExtensionRemovePod(ctx context.Context, state *CycleState, podToSchedule *v1alpha1.Pod, podInfoToRemove *PodInfo, nodeInfo *NodeInfo) *Status
}
