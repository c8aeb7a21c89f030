package core

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The internal types mirror v1alpha1 field for field; see v1alpha1/types.go for
// the user-facing documentation of every field.

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Pod is a group of containers that run together on one node.
type Pod struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   PodSpec
	Status PodStatus
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodList is a list of pods.
type PodList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []Pod
}

// RestartPolicy says when the kubelet restarts a pod's containers.
type RestartPolicy string

const (
	RestartPolicyAlways    RestartPolicy = "Always"
	RestartPolicyOnFailure RestartPolicy = "OnFailure"
	RestartPolicyNever     RestartPolicy = "Never"
)

// PullPolicy says when the runtime pulls a container's image.
type PullPolicy string

const (
	PullAlways       PullPolicy = "Always"
	PullNever        PullPolicy = "Never"
	PullIfNotPresent PullPolicy = "IfNotPresent"
)

// PodTemplateSpec is the pod a controller (ReplicaSet, Deployment) creates.
type PodTemplateSpec struct {
	metav1.ObjectMeta
	Spec PodSpec
}

// PodSpec is the desired state of a pod.
type PodSpec struct {
	Containers                    []Container
	RestartPolicy                 RestartPolicy
	TerminationGracePeriodSeconds *int64
	NodeName                      string
	NodeSelector                  map[string]string
	Affinity                      *Affinity
	Tolerations                   []Toleration
	SchedulerName                 string
	Priority                      *int32
	PriorityClassName             string
	PreemptionPolicy              *PreemptionPolicy
	TopologySpreadConstraints     []TopologySpreadConstraint
}

// PreemptionPolicy says whether a pod may preempt lower-priority pods.
type PreemptionPolicy string

const (
	PreemptLowerPriority PreemptionPolicy = "PreemptLowerPriority"
	PreemptNever         PreemptionPolicy = "Never"
)

// UnsatisfiableConstraintAction is what the scheduler does with a pod whose
// topology spread constraint cannot be met.
type UnsatisfiableConstraintAction string

const (
	DoNotSchedule  UnsatisfiableConstraintAction = "DoNotSchedule"
	ScheduleAnyway UnsatisfiableConstraintAction = "ScheduleAnyway"
)

// NodeInclusionPolicy says whether a node's affinity or taints count when a
// topology spread constraint counts its domains.
type NodeInclusionPolicy string

const (
	NodeInclusionPolicyIgnore NodeInclusionPolicy = "Ignore"
	NodeInclusionPolicyHonor  NodeInclusionPolicy = "Honor"
)

// TopologySpreadConstraint spreads matching pods over the domains of one
// topology key.
type TopologySpreadConstraint struct {
	MaxSkew            int32
	TopologyKey        string
	WhenUnsatisfiable  UnsatisfiableConstraintAction
	LabelSelector      *metav1.LabelSelector
	MinDomains         *int32
	NodeAffinityPolicy *NodeInclusionPolicy
	NodeTaintsPolicy   *NodeInclusionPolicy
	MatchLabelKeys     []string
}

// Container is one process (or image) of a pod.
type Container struct {
	Name            string
	Image           string
	ImagePullPolicy PullPolicy
	Command         []string
	Args            []string
	WorkingDir      string
	Env             []EnvVar
	Ports           []ContainerPort
	Resources       ResourceRequirements
	LivenessProbe   *Probe
	ReadinessProbe  *Probe
	StartupProbe    *Probe

	Stdin     bool
	StdinOnce bool
	TTY       bool
}

// Probe is a health check the kubelet runs against a container.
type Probe struct {
	ProbeHandler
	InitialDelaySeconds           int32
	TimeoutSeconds                int32
	PeriodSeconds                 int32
	SuccessThreshold              int32
	FailureThreshold              int32
	TerminationGracePeriodSeconds *int64
}

// ProbeHandler is the one action a probe takes.
type ProbeHandler struct {
	Exec      *ExecAction
	HTTPGet   *HTTPGetAction
	TCPSocket *TCPSocketAction
	GRPC      *GRPCAction
}

// ExecAction runs a command in the container.
type ExecAction struct {
	Command []string
}

// URIScheme is the scheme of an HTTP probe.
type URIScheme string

const (
	URISchemeHTTP  URIScheme = "HTTP"
	URISchemeHTTPS URIScheme = "HTTPS"
)

// HTTPGetAction is an HTTP GET request.
type HTTPGetAction struct {
	Path        string
	Port        intstr.IntOrString
	Host        string
	Scheme      URIScheme
	HTTPHeaders []HTTPHeader
}

// HTTPHeader is one header of an HTTP probe.
type HTTPHeader struct {
	Name  string
	Value string
}

// TCPSocketAction opens a TCP connection.
type TCPSocketAction struct {
	Port intstr.IntOrString
	Host string
}

// GRPCAction calls the gRPC health service.
type GRPCAction struct {
	Port    int32
	Service *string
}

// EnvVar is one environment variable of a container.
type EnvVar struct {
	Name  string
	Value string
}

// Protocol is a network protocol.
type Protocol string

const (
	ProtocolTCP  Protocol = "TCP"
	ProtocolUDP  Protocol = "UDP"
	ProtocolSCTP Protocol = "SCTP"
)

// ContainerPort is a port a container listens on.
type ContainerPort struct {
	Name          string
	HostPort      int32
	ContainerPort int32
	Protocol      Protocol
}

// ResourceName names a resource: cpu, memory, pods.
type ResourceName string

const (
	ResourceCPU    ResourceName = "cpu"
	ResourceMemory ResourceName = "memory"
	ResourcePods   ResourceName = "pods"
)

// ResourceList maps a resource to a quantity.
type ResourceList map[ResourceName]resource.Quantity

// ResourceRequirements are a container's requests and limits.
type ResourceRequirements struct {
	Limits   ResourceList
	Requests ResourceList
}

// Affinity holds a pod's scheduling constraints beyond the node selector.
type Affinity struct {
	NodeAffinity    *NodeAffinity
	PodAffinity     *PodAffinity
	PodAntiAffinity *PodAntiAffinity
}

// PodAffinity places a pod near pods that match its terms.
type PodAffinity struct {
	RequiredDuringSchedulingIgnoredDuringExecution  []PodAffinityTerm
	PreferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm
}

// PodAntiAffinity keeps a pod away from pods that match its terms.
type PodAntiAffinity struct {
	RequiredDuringSchedulingIgnoredDuringExecution  []PodAffinityTerm
	PreferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm
}

// WeightedPodAffinityTerm is a pod affinity term with a weight, 1-100.
type WeightedPodAffinityTerm struct {
	Weight          int32
	PodAffinityTerm PodAffinityTerm
}

// PodAffinityTerm matches the pods that share a topology domain with a node.
type PodAffinityTerm struct {
	LabelSelector     *metav1.LabelSelector
	Namespaces        []string
	TopologyKey       string
	NamespaceSelector *metav1.LabelSelector
	MatchLabelKeys    []string
	MismatchLabelKeys []string
}

// NodeAffinity constrains the nodes a pod may be scheduled on.
type NodeAffinity struct {
	RequiredDuringSchedulingIgnoredDuringExecution  *NodeSelector
	PreferredDuringSchedulingIgnoredDuringExecution []PreferredSchedulingTerm
}

// NodeSelector is an OR of node selector terms.
type NodeSelector struct {
	NodeSelectorTerms []NodeSelectorTerm
}

// NodeSelectorTerm is an AND of requirements on a node's labels.
type NodeSelectorTerm struct {
	MatchExpressions []NodeSelectorRequirement
}

// NodeSelectorOperator relates a label key to its values.
type NodeSelectorOperator string

const (
	NodeSelectorOpIn           NodeSelectorOperator = "In"
	NodeSelectorOpNotIn        NodeSelectorOperator = "NotIn"
	NodeSelectorOpExists       NodeSelectorOperator = "Exists"
	NodeSelectorOpDoesNotExist NodeSelectorOperator = "DoesNotExist"
	NodeSelectorOpGt           NodeSelectorOperator = "Gt"
	NodeSelectorOpLt           NodeSelectorOperator = "Lt"
)

// NodeSelectorRequirement is one requirement on a node label.
type NodeSelectorRequirement struct {
	Key      string
	Operator NodeSelectorOperator
	Values   []string
}

// PreferredSchedulingTerm is a weighted preference for nodes matching a term.
type PreferredSchedulingTerm struct {
	Weight     int32
	Preference NodeSelectorTerm
}

// TolerationOperator relates a toleration's key to its value.
type TolerationOperator string

const (
	TolerationOpExists TolerationOperator = "Exists"
	TolerationOpEqual  TolerationOperator = "Equal"
)

// Toleration lets a pod be scheduled onto (or stay on) a node with a matching taint.
type Toleration struct {
	Key               string
	Operator          TolerationOperator
	Value             string
	Effect            TaintEffect
	TolerationSeconds *int64
}

// PodPhase is the coarse state of a pod.
type PodPhase string

const (
	PodPending   PodPhase = "Pending"
	PodRunning   PodPhase = "Running"
	PodSucceeded PodPhase = "Succeeded"
	PodFailed    PodPhase = "Failed"
	PodUnknown   PodPhase = "Unknown"
)

// PodConditionType names a pod condition.
type PodConditionType string

const (
	PodScheduled    PodConditionType = "PodScheduled"
	PodInitialized  PodConditionType = "Initialized"
	ContainersReady PodConditionType = "ContainersReady"
	PodReady        PodConditionType = "Ready"
)

// ConditionStatus is True, False or Unknown.
type ConditionStatus string

const (
	ConditionTrue    ConditionStatus = "True"
	ConditionFalse   ConditionStatus = "False"
	ConditionUnknown ConditionStatus = "Unknown"
)

// PodReasonUnschedulable is the PodScheduled=False reason when no node fits.
const PodReasonUnschedulable = "Unschedulable"

// PodCondition is one observed condition of a pod.
type PodCondition struct {
	Type               PodConditionType
	Status             ConditionStatus
	LastProbeTime      metav1.Time
	LastTransitionTime metav1.Time
	Reason             string
	Message            string
}

// PodStatus is the observed state of a pod, written by the scheduler and kubelet.
type PodStatus struct {
	ObservedGeneration int64
	Phase              PodPhase
	Conditions         []PodCondition
	Message            string
	Reason             string
	HostIP             string
	PodIP              string
	StartTime          *metav1.Time
	ContainerStatuses  []ContainerStatus
	NominatedNodeName  string
}

// ContainerStatus is the observed state of one container.
type ContainerStatus struct {
	Name                 string
	State                ContainerState
	LastTerminationState ContainerState
	Ready                bool
	RestartCount         int32
	Image                string
	ImageID              string
	ContainerID          string
	Started              *bool
}

// ContainerState holds exactly one of its members.
type ContainerState struct {
	Waiting    *ContainerStateWaiting
	Running    *ContainerStateRunning
	Terminated *ContainerStateTerminated
}

// ContainerStateWaiting is a container not yet (or not again) running.
type ContainerStateWaiting struct {
	Reason  string
	Message string
}

// ContainerStateRunning is a running container.
type ContainerStateRunning struct {
	StartedAt metav1.Time
}

// ContainerStateTerminated is a container that exited.
type ContainerStateTerminated struct {
	ExitCode    int32
	Signal      int32
	Reason      string
	Message     string
	StartedAt   metav1.Time
	FinishedAt  metav1.Time
	ContainerID string
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Node is a machine that runs pods, registered by its kubelet.
type Node struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   NodeSpec
	Status NodeStatus
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NodeList is a list of nodes.
type NodeList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []Node
}

// NodeSpec is the desired state of a node.
type NodeSpec struct {
	Unschedulable bool
	Taints        []Taint
}

// TaintEffect is what a taint does to pods that do not tolerate it.
type TaintEffect string

const (
	TaintEffectNoSchedule       TaintEffect = "NoSchedule"
	TaintEffectPreferNoSchedule TaintEffect = "PreferNoSchedule"
	TaintEffectNoExecute        TaintEffect = "NoExecute"
)

// Taint repels pods that do not tolerate it.
type Taint struct {
	Key       string
	Value     string
	Effect    TaintEffect
	TimeAdded *metav1.Time
}

// NodeConditionType names a node condition.
type NodeConditionType string

const (
	NodeReady NodeConditionType = "Ready"
)

// NodeCondition is one observed condition of a node.
type NodeCondition struct {
	Type               NodeConditionType
	Status             ConditionStatus
	LastHeartbeatTime  metav1.Time
	LastTransitionTime metav1.Time
	Reason             string
	Message            string
}

// NodeAddressType is the kind of a node address.
type NodeAddressType string

const (
	NodeHostName    NodeAddressType = "Hostname"
	NodeInternalIP  NodeAddressType = "InternalIP"
	NodeExternalIP  NodeAddressType = "ExternalIP"
	NodeInternalDNS NodeAddressType = "InternalDNS"
	NodeExternalDNS NodeAddressType = "ExternalDNS"
)

// NodeAddress is one address of a node.
type NodeAddress struct {
	Type    NodeAddressType
	Address string
}

// DaemonEndpoint is a port a node daemon listens on.
type DaemonEndpoint struct {
	Port int32
}

// NodeDaemonEndpoints are the ports of a node's daemons.
type NodeDaemonEndpoints struct {
	KubeletEndpoint DaemonEndpoint
}

// NodeSystemInfo describes the node's software.
type NodeSystemInfo struct {
	MachineID               string
	KernelVersion           string
	OSImage                 string
	ContainerRuntimeVersion string
	KubeletVersion          string
	OperatingSystem         string
	Architecture            string
}

// NodeStatus is the observed state of a node, written by its kubelet.
type NodeStatus struct {
	Capacity        ResourceList
	Allocatable     ResourceList
	Conditions      []NodeCondition
	Addresses       []NodeAddress
	DaemonEndpoints NodeDaemonEndpoints
	NodeInfo        NodeSystemInfo
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Binding ties a pod to a node; it is created through pods/binding.
type Binding struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Target ObjectReference
}

// ObjectReference points at another object.
type ObjectReference struct {
	Kind            string
	Namespace       string
	Name            string
	UID             types.UID
	APIVersion      string
	ResourceVersion string
	FieldPath       string
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Lease is a heartbeat or a leader-election lock.
type Lease struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec LeaseSpec
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// LeaseList is a list of leases.
type LeaseList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []Lease
}

// LeaseSpec is the state of a lease.
type LeaseSpec struct {
	HolderIdentity       *string
	LeaseDurationSeconds *int32
	AcquireTime          *metav1.MicroTime
	RenewTime            *metav1.MicroTime
	LeaseTransitions     *int32
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodLogOptions are the query parameters of pods/log.
type PodLogOptions struct {
	metav1.TypeMeta

	Container    string
	Follow       bool
	Previous     bool
	SinceSeconds *int64
	SinceTime    *metav1.Time
	Timestamps   bool
	TailLines    *int64
	LimitBytes   *int64
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PriorityClass maps a priority class name to a priority value. Why it is a
// core.skiff.dev kind: see v1alpha1.PriorityClass.
type PriorityClass struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Value            int32
	GlobalDefault    bool
	Description      string
	PreemptionPolicy *PreemptionPolicy
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PriorityClassList is a list of priority classes.
type PriorityClassList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []PriorityClass
}

const (
	// HighestUserDefinablePriority is the largest value a user's
	// PriorityClass may have; larger ones are the system classes'.
	HighestUserDefinablePriority = int32(1000000000)
	// SystemCriticalPriority is the lowest value of the system classes.
	SystemCriticalPriority = 2 * HighestUserDefinablePriority
	// SystemPriorityClassPrefix starts the names reserved for system classes.
	SystemPriorityClassPrefix = "system-"
	// SystemClusterCritical is the class of cluster-critical add-ons.
	SystemClusterCritical = SystemPriorityClassPrefix + "cluster-critical"
	// SystemNodeCritical is the class of node-critical pods.
	SystemNodeCritical = SystemPriorityClassPrefix + "node-critical"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodExecOptions are the query parameters of pods/exec.
type PodExecOptions struct {
	metav1.TypeMeta

	Stdin     bool
	Stdout    bool
	Stderr    bool
	TTY       bool
	Container string
	Command   []string
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodAttachOptions are the query parameters of pods/attach.
type PodAttachOptions struct {
	metav1.TypeMeta

	Stdin     bool
	Stdout    bool
	Stderr    bool
	TTY       bool
	Container string
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodPortForwardOptions are the query parameters of pods/portforward.
type PodPortForwardOptions struct {
	metav1.TypeMeta

	Ports []int32
}
