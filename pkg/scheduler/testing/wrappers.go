// Package testing builds pods and nodes for scheduler tests in one line
// each, and fakes the API server's pods/binding for the fake clientset.
package testing

import (
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// PodWrapper builds a pod.
type PodWrapper struct{ v1alpha1.Pod }

// MakePod starts a pod in namespace "default" with one container that
// requests nothing, for the default scheduler.
func MakePod(name string) *PodWrapper {
	return &PodWrapper{v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
		Spec: v1alpha1.PodSpec{
			Containers:    []v1alpha1.Container{{Name: "c", Image: "busybox"}},
			SchedulerName: v1alpha1.DefaultSchedulerName,
		},
	}}
}

// Obj returns the pod.
func (p *PodWrapper) Obj() *v1alpha1.Pod { return &p.Pod }

// Req sets the first container's cpu and memory requests ("" leaves one out).
func (p *PodWrapper) Req(cpu, memory string) *PodWrapper {
	p.Spec.Containers[0].Resources.Requests = resourceList(cpu, memory, "")
	return p
}

// Container adds a container requesting cpu and memory ("" leaves one out).
func (p *PodWrapper) Container(cpu, memory string) *PodWrapper {
	p.Spec.Containers = append(p.Spec.Containers, v1alpha1.Container{
		Name: "c" + string(rune('0'+len(p.Spec.Containers))), Image: "busybox",
		Resources: v1alpha1.ResourceRequirements{Requests: resourceList(cpu, memory, "")},
	})
	return p
}

// Limits sets the first container's cpu and memory limits.
func (p *PodWrapper) Limits(cpu, memory string) *PodWrapper {
	p.Spec.Containers[0].Resources.Limits = resourceList(cpu, memory, "")
	return p
}

// Node binds the pod to a node.
func (p *PodWrapper) Node(name string) *PodWrapper { p.Spec.NodeName = name; return p }

// SchedulerName sets spec.schedulerName.
func (p *PodWrapper) SchedulerName(name string) *PodWrapper { p.Spec.SchedulerName = name; return p }

// NodeSelector sets spec.nodeSelector.
func (p *PodWrapper) NodeSelector(sel map[string]string) *PodWrapper {
	p.Spec.NodeSelector = sel
	return p
}

// RequiredAffinity sets required node affinity terms (ORed).
func (p *PodWrapper) RequiredAffinity(terms ...v1alpha1.NodeSelectorTerm) *PodWrapper {
	p.affinity().RequiredDuringSchedulingIgnoredDuringExecution = &v1alpha1.NodeSelector{NodeSelectorTerms: terms}
	return p
}

// PreferredAffinity adds a preferred node affinity term.
func (p *PodWrapper) PreferredAffinity(weight int32, term v1alpha1.NodeSelectorTerm) *PodWrapper {
	a := p.affinity()
	a.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PreferredDuringSchedulingIgnoredDuringExecution,
		v1alpha1.PreferredSchedulingTerm{Weight: weight, Preference: term})
	return p
}

func (p *PodWrapper) affinity() *v1alpha1.NodeAffinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1alpha1.Affinity{}
	}
	if p.Spec.Affinity.NodeAffinity == nil {
		p.Spec.Affinity.NodeAffinity = &v1alpha1.NodeAffinity{}
	}
	return p.Spec.Affinity.NodeAffinity
}

// Toleration adds a toleration.
func (p *PodWrapper) Toleration(key string, op v1alpha1.TolerationOperator, value string, effect v1alpha1.TaintEffect) *PodWrapper {
	p.Spec.Tolerations = append(p.Spec.Tolerations, v1alpha1.Toleration{Key: key, Operator: op, Value: value, Effect: effect})
	return p
}

// Label sets a label on the pod.
func (p *PodWrapper) Label(k, v string) *PodWrapper {
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[k] = v
	return p
}

// Namespace sets the pod's namespace.
func (p *PodWrapper) Namespace(ns string) *PodWrapper { p.ObjectMeta.Namespace = ns; return p }

// UID sets the pod's UID.
func (p *PodWrapper) UID(uid string) *PodWrapper { p.ObjectMeta.UID = types.UID(uid); return p }

// Priority sets spec.priority.
func (p *PodWrapper) Priority(v int32) *PodWrapper { p.Spec.Priority = &v; return p }

// Created sets the creation timestamp.
func (p *PodWrapper) Created(t time.Time) *PodWrapper {
	p.CreationTimestamp = metav1.NewTime(t)
	return p
}

// Phase sets status.phase.
func (p *PodWrapper) Phase(phase v1alpha1.PodPhase) *PodWrapper { p.Status.Phase = phase; return p }

// Term is a node selector term of one requirement.
func Term(key string, op v1alpha1.NodeSelectorOperator, values ...string) v1alpha1.NodeSelectorTerm {
	return v1alpha1.NodeSelectorTerm{MatchExpressions: []v1alpha1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

// NodeWrapper builds a node.
type NodeWrapper struct{ v1alpha1.Node }

// MakeNode starts a Ready node with 4 cpu, 8Gi memory and room for 110 pods.
func MakeNode(name string) *NodeWrapper {
	return &NodeWrapper{v1alpha1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-node-" + name), Labels: map[string]string{}},
		Status: v1alpha1.NodeStatus{
			Allocatable: resourceList("4", "8Gi", "110"),
			Capacity:    resourceList("4", "8Gi", "110"),
			Conditions:  []v1alpha1.NodeCondition{{Type: v1alpha1.NodeReady, Status: v1alpha1.ConditionTrue}},
		},
	}}
}

// Obj returns the node.
func (n *NodeWrapper) Obj() *v1alpha1.Node { return &n.Node }

// Capacity sets allocatable (and capacity) cpu, memory and pods ("" leaves one out).
func (n *NodeWrapper) Capacity(cpu, memory, pods string) *NodeWrapper {
	n.Status.Allocatable = resourceList(cpu, memory, pods)
	n.Status.Capacity = resourceList(cpu, memory, pods)
	return n
}

// Label adds a label.
func (n *NodeWrapper) Label(k, v string) *NodeWrapper { n.Node.Labels[k] = v; return n }

// Taint adds a taint.
func (n *NodeWrapper) Taint(key, value string, effect v1alpha1.TaintEffect) *NodeWrapper {
	n.Spec.Taints = append(n.Spec.Taints, v1alpha1.Taint{Key: key, Value: value, Effect: effect})
	return n
}

// Unschedulable sets spec.unschedulable.
func (n *NodeWrapper) Unschedulable() *NodeWrapper { n.Spec.Unschedulable = true; return n }

// Ready sets the Ready condition's status.
func (n *NodeWrapper) Ready(status v1alpha1.ConditionStatus) *NodeWrapper {
	n.Status.Conditions = []v1alpha1.NodeCondition{{Type: v1alpha1.NodeReady, Status: status}}
	return n
}

// NoConditions removes every condition, as for a node whose kubelet never reported.
func (n *NodeWrapper) NoConditions() *NodeWrapper { n.Status.Conditions = nil; return n }

func resourceList(cpu, memory, pods string) v1alpha1.ResourceList {
	rl := v1alpha1.ResourceList{}
	if cpu != "" {
		rl[v1alpha1.ResourceCPU] = resource.MustParse(cpu)
	}
	if memory != "" {
		rl[v1alpha1.ResourceMemory] = resource.MustParse(memory)
	}
	if pods != "" {
		rl[v1alpha1.ResourcePods] = resource.MustParse(pods)
	}
	return rl
}

// NodeInfo returns the scheduler's view of node with pods already on it.
func NodeInfo(node *v1alpha1.Node, pods ...*v1alpha1.Pod) *framework.NodeInfo {
	return framework.NewNodeInfo(node, pods...)
}

// PodAffinityTerm is a term selecting pods with label key=value over
// topologyKey, in the pod's own namespace.
func PodAffinityTerm(topologyKey, key, value string) v1alpha1.PodAffinityTerm {
	return v1alpha1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: value}},
		TopologyKey:   topologyKey,
	}
}

func (p *PodWrapper) podAffinity() *v1alpha1.PodAffinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1alpha1.Affinity{}
	}
	if p.Spec.Affinity.PodAffinity == nil {
		p.Spec.Affinity.PodAffinity = &v1alpha1.PodAffinity{}
	}
	return p.Spec.Affinity.PodAffinity
}

func (p *PodWrapper) podAntiAffinity() *v1alpha1.PodAntiAffinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1alpha1.Affinity{}
	}
	if p.Spec.Affinity.PodAntiAffinity == nil {
		p.Spec.Affinity.PodAntiAffinity = &v1alpha1.PodAntiAffinity{}
	}
	return p.Spec.Affinity.PodAntiAffinity
}

// PodAffinity adds a required pod affinity term.
func (p *PodWrapper) PodAffinity(term v1alpha1.PodAffinityTerm) *PodWrapper {
	a := p.podAffinity()
	a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution, term)
	return p
}

// PodAntiAffinity adds a required pod anti-affinity term.
func (p *PodWrapper) PodAntiAffinity(term v1alpha1.PodAffinityTerm) *PodWrapper {
	a := p.podAntiAffinity()
	a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution, term)
	return p
}

// PreferredPodAffinity adds a preferred pod affinity term.
func (p *PodWrapper) PreferredPodAffinity(weight int32, term v1alpha1.PodAffinityTerm) *PodWrapper {
	a := p.podAffinity()
	a.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PreferredDuringSchedulingIgnoredDuringExecution, v1alpha1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: term})
	return p
}

// PreferredPodAntiAffinity adds a preferred pod anti-affinity term.
func (p *PodWrapper) PreferredPodAntiAffinity(weight int32, term v1alpha1.PodAffinityTerm) *PodWrapper {
	a := p.podAntiAffinity()
	a.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PreferredDuringSchedulingIgnoredDuringExecution, v1alpha1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: term})
	return p
}

// SpreadConstraint adds a topology spread constraint counting pods with
// label key=value.
func (p *PodWrapper) SpreadConstraint(maxSkew int32, topologyKey string, action v1alpha1.UnsatisfiableConstraintAction, key, value string) *PodWrapper {
	p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, v1alpha1.TopologySpreadConstraint{
		MaxSkew: maxSkew, TopologyKey: topologyKey, WhenUnsatisfiable: action,
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: value}},
	})
	return p
}

// LastSpreadConstraint returns the constraint added last, to adjust.
func (p *PodWrapper) LastSpreadConstraint() *v1alpha1.TopologySpreadConstraint {
	return &p.Spec.TopologySpreadConstraints[len(p.Spec.TopologySpreadConstraints)-1]
}

// ControlledBy makes the pod's controller the ReplicaSet with the given UID.
func (p *PodWrapper) ControlledBy(uid string) *PodWrapper {
	yes := true
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps.skiff.dev/v1alpha1", Kind: "ReplicaSet", Name: "rs-" + uid, UID: types.UID(uid), Controller: &yes}}
	return p
}

// PreemptionPolicy sets spec.preemptionPolicy.
func (p *PodWrapper) PreemptionPolicy(policy v1alpha1.PreemptionPolicy) *PodWrapper {
	p.Spec.PreemptionPolicy = &policy
	return p
}

// Terminating marks the pod as being deleted.
func (p *PodWrapper) Terminating() *PodWrapper {
	now := metav1.Now()
	p.DeletionTimestamp = &now
	return p
}

// Zone sets the node's zone and hostname labels.
func (n *NodeWrapper) Zone(zone string) *NodeWrapper {
	n.Node.Labels["topology.kubernetes.io/zone"] = zone
	n.Node.Labels["kubernetes.io/hostname"] = n.Name
	return n
}

// Lister is a fixed NodeInfoLister for plugin tests.
type Lister []*framework.NodeInfo

var _ framework.NodeInfoLister = Lister{}

// List returns the nodes.
func (l Lister) List() []*framework.NodeInfo { return l }

// HavePodsWithAffinityList returns the nodes with pods with pod affinity.
func (l Lister) HavePodsWithAffinityList() []*framework.NodeInfo {
	var out []*framework.NodeInfo
	for _, n := range l {
		if len(n.PodsWithAffinity) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// HavePodsWithRequiredAntiAffinityList returns the nodes with pods with
// required anti-affinity.
func (l Lister) HavePodsWithRequiredAntiAffinityList() []*framework.NodeInfo {
	var out []*framework.NodeInfo
	for _, n := range l {
		if len(n.PodsWithRequiredAntiAffinity) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// Get returns the named node.
func (l Lister) Get(name string) (*framework.NodeInfo, bool) {
	for _, n := range l {
		if n.Node().Name == name {
			return n, true
		}
	}
	return nil, false
}

// Snapshot returns the nodes with the pods (each on its spec.nodeName).
func Snapshot(nodes []*v1alpha1.Node, pods []*v1alpha1.Pod) Lister {
	byName := map[string]*framework.NodeInfo{}
	var out []*framework.NodeInfo
	for _, n := range nodes {
		ni := framework.NewNodeInfo(n)
		byName[n.Name] = ni
		out = append(out, ni)
	}
	for _, p := range pods {
		if ni, ok := byName[p.Spec.NodeName]; ok {
			ni.AddPodInfo(framework.NewPodInfo(p))
		}
	}
	return out
}
