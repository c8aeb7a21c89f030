package framework

import (
	"sync/atomic"

	"k8s.io/apimachinery/pkg/api/resource"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// Defaults the scorers assume for a container that requests no cpu or
// memory, so that nodes full of best-effort pods do not look empty
// (kube-scheduler uses the same figures).
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of the resources the scheduler accounts for.
type Resource struct {
	MilliCPU int64
	Memory   int64
}

// Add adds r2 to r.
func (r *Resource) Add(r2 Resource) {
	r.MilliCPU += r2.MilliCPU
	r.Memory += r2.Memory
}

// Sub subtracts r2 from r.
func (r *Resource) Sub(r2 Resource) {
	r.MilliCPU -= r2.MilliCPU
	r.Memory -= r2.Memory
}

// IsZero reports whether r requests nothing.
func (r Resource) IsZero() bool { return r.MilliCPU == 0 && r.Memory == 0 }

// PodRequests is what a pod asks of a node.
type PodRequests struct {
	// Requested is the sum of the containers' requests. A container with a
	// limit but no request for a resource requests its limit, as core/v1
	// defaulting would have made it.
	Requested Resource
	// NonZero is Requested with DefaultMilliCPURequest and
	// DefaultMemoryRequest for each container that asks for none; the
	// spreading scorers use it.
	NonZero Resource
}

// ComputePodRequests adds up the requests of the pod's containers.
func ComputePodRequests(pod *v1alpha1.Pod) PodRequests {
	var out PodRequests
	for i := range pod.Spec.Containers {
		res := &pod.Spec.Containers[i].Resources
		cpu, hasCPU := quantity(res, v1alpha1.ResourceCPU)
		mem, hasMem := quantity(res, v1alpha1.ResourceMemory)
		var cpuMilli, memBytes int64
		if hasCPU {
			cpuMilli = cpu.MilliValue()
		}
		if hasMem {
			memBytes = mem.Value()
		}
		out.Requested.Add(Resource{MilliCPU: cpuMilli, Memory: memBytes})
		if !hasCPU {
			cpuMilli = DefaultMilliCPURequest
		}
		if !hasMem {
			memBytes = DefaultMemoryRequest
		}
		out.NonZero.Add(Resource{MilliCPU: cpuMilli, Memory: memBytes})
	}
	return out
}

// quantity returns the container's request for name, falling back to its
// limit.
func quantity(res *v1alpha1.ResourceRequirements, name v1alpha1.ResourceName) (resource.Quantity, bool) {
	if q, ok := res.Requests[name]; ok {
		return q, true
	}
	q, ok := res.Limits[name]
	return q, ok
}

const podRequestsKey StateKey = "framework/PodRequests"

// PodRequestsFromState returns the pod's requests, computed once per cycle
// and shared by every plugin that needs them.
func PodRequestsFromState(state *CycleState, pod *v1alpha1.Pod) PodRequests {
	if state == nil {
		return ComputePodRequests(pod)
	}
	return state.ReadOrCompute(podRequestsKey, func() StateData { return ComputePodRequests(pod) }).(PodRequests)
}

// generation orders changes to NodeInfos so a snapshot can copy only the
// nodes that changed since it was last updated.
var generation atomic.Int64

// NextGeneration returns a new, higher generation number.
func NextGeneration() int64 { return generation.Add(1) }

// PodInfo is a pod placed on a node (bound or assumed) with what the
// plugins need of it computed once: its requests and its parsed pod
// affinity terms. It is never changed once built, so snapshots share it.
type PodInfo struct {
	Pod      *v1alpha1.Pod
	Requests PodRequests
	podAffinityTerms
}

// NewPodInfo computes a pod's PodInfo. Terms that do not parse are dropped
// (validation rejects them before a pod is stored).
func NewPodInfo(pod *v1alpha1.Pod) *PodInfo {
	return &PodInfo{Pod: pod, Requests: ComputePodRequests(pod), podAffinityTerms: parsePodAffinityTerms(pod)}
}

// NodeInfo is a node as the scheduler sees it: the Node object, the pods
// bound (or assumed) to it, and what they request.
type NodeInfo struct {
	node *v1alpha1.Node

	// Pods are the pods on the node; PodsWithAffinity those of them with
	// any pod affinity or anti-affinity, PodsWithRequiredAntiAffinity those
	// with required anti-affinity (which every incoming pod must respect).
	Pods                         []*PodInfo
	PodsWithAffinity             []*PodInfo
	PodsWithRequiredAntiAffinity []*PodInfo

	// Allocatable is what the node offers pods: status.allocatable cpu and
	// memory; AllowedPods is its pods allocatable.
	Allocatable Resource
	AllowedPods int64

	// Requested is the sum of the pods' requests, NonZeroRequested the same
	// with defaults for containers that request nothing.
	Requested        Resource
	NonZeroRequested Resource
	// PodCount is len(Pods), kept for the plugins that count.
	PodCount int64

	// Generation changes on every change to the NodeInfo.
	Generation int64
}

// NewNodeInfo returns the NodeInfo of a node holding the given pods.
func NewNodeInfo(node *v1alpha1.Node, pods ...*v1alpha1.Pod) *NodeInfo {
	n := &NodeInfo{}
	n.SetNode(node)
	for _, p := range pods {
		n.AddPodInfo(NewPodInfo(p))
	}
	return n
}

// Node returns the Node object, or nil when the cache knows pods bound to a
// node it has not seen (or no longer sees).
func (n *NodeInfo) Node() *v1alpha1.Node {
	if n == nil {
		return nil
	}
	return n.node
}

// SetNode replaces the node object and re-reads its allocatable resources.
func (n *NodeInfo) SetNode(node *v1alpha1.Node) {
	n.node = node
	n.Allocatable, n.AllowedPods = Resource{}, 0
	if node != nil {
		alloc := node.Status.Allocatable
		if q, ok := alloc[v1alpha1.ResourceCPU]; ok {
			n.Allocatable.MilliCPU = q.MilliValue()
		}
		if q, ok := alloc[v1alpha1.ResourceMemory]; ok {
			n.Allocatable.Memory = q.Value()
		}
		if q, ok := alloc[v1alpha1.ResourcePods]; ok {
			n.AllowedPods = q.Value()
		}
	}
	n.Generation = NextGeneration()
}

// NodeIsReady is whether node's Ready condition is True.
func NodeIsReady(node *v1alpha1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == v1alpha1.NodeReady {
			return c.Status == v1alpha1.ConditionTrue
		}
	}
	return false
}

// RemoveNode forgets the Node object but keeps the pods' accounting, for
// pods the cache still believes are bound there.
func (n *NodeInfo) RemoveNode() {
	n.node = nil
	n.Generation = NextGeneration()
}

// AddPodInfo places a pod on the node.
func (n *NodeInfo) AddPodInfo(pi *PodInfo) {
	n.Pods = append(n.Pods, pi)
	if pi.HasAffinity() {
		n.PodsWithAffinity = append(n.PodsWithAffinity, pi)
	}
	if len(pi.RequiredAntiAffinityTerms) > 0 {
		n.PodsWithRequiredAntiAffinity = append(n.PodsWithRequiredAntiAffinity, pi)
	}
	n.Requested.Add(pi.Requests.Requested)
	n.NonZeroRequested.Add(pi.Requests.NonZero)
	n.PodCount++
	n.Generation = NextGeneration()
}

// RemovePod takes the pod with the given UID off the node and reports
// whether it was there.
func (n *NodeInfo) RemovePod(pod *v1alpha1.Pod) bool {
	var pi *PodInfo
	n.Pods, pi = removeByUID(n.Pods, pod)
	if pi == nil {
		return false
	}
	n.PodsWithAffinity, _ = removeByUID(n.PodsWithAffinity, pod)
	n.PodsWithRequiredAntiAffinity, _ = removeByUID(n.PodsWithRequiredAntiAffinity, pod)
	n.Requested.Sub(pi.Requests.Requested)
	n.NonZeroRequested.Sub(pi.Requests.NonZero)
	n.PodCount--
	n.Generation = NextGeneration()
	return true
}

// removeByUID swaps the pod out with the last element: the order of a
// node's pods means nothing.
func removeByUID(list []*PodInfo, pod *v1alpha1.Pod) ([]*PodInfo, *PodInfo) {
	for i, pi := range list {
		if pi.Pod.UID == pod.UID {
			last := len(list) - 1
			list[i] = list[last]
			list[last] = nil
			return list[:last], pi
		}
	}
	return list, nil
}

// Clone returns a copy whose pod lists may be changed independently; the
// Node object and the PodInfos are shared and must not be changed.
func (n *NodeInfo) Clone() *NodeInfo {
	c := &NodeInfo{}
	n.CopyInto(c)
	return c
}

// CopyInto makes dst a copy of n, reusing dst's pod lists' storage.
func (n *NodeInfo) CopyInto(dst *NodeInfo) {
	pods, aff, anti := dst.Pods, dst.PodsWithAffinity, dst.PodsWithRequiredAntiAffinity
	*dst = *n
	dst.Pods = append(pods[:0], n.Pods...)
	dst.PodsWithAffinity = append(aff[:0], n.PodsWithAffinity...)
	dst.PodsWithRequiredAntiAffinity = append(anti[:0], n.PodsWithRequiredAntiAffinity...)
}
