package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// +genclient
// +genclient:method=Bind,verb=create,subresource=binding,input=Binding,result=k8s.io/apimachinery/pkg/apis/meta/v1.Status
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Pod is a group of containers that run together on one node. The scheduler
// binds it to a node and that node's kubelet runs it.
type Pod struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Spec is the desired state of the pod.
	// +optional
	Spec PodSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`

	// Status is the most recently observed state of the pod, written by the
	// scheduler and the kubelet through pods/status.
	// +optional
	Status PodStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodList is a list of pods.
type PodList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Items is the list of pods.
	Items []Pod `json:"items" protobuf:"bytes,2,rep,name=items"`
}

// RestartPolicy says when the kubelet restarts a pod's containers.
// +enum
type RestartPolicy string

const (
	// RestartPolicyAlways restarts containers whenever they exit.
	RestartPolicyAlways RestartPolicy = "Always"
	// RestartPolicyOnFailure restarts containers that exit non-zero.
	RestartPolicyOnFailure RestartPolicy = "OnFailure"
	// RestartPolicyNever never restarts containers.
	RestartPolicyNever RestartPolicy = "Never"
)

// PullPolicy says when the runtime pulls a container's image.
// +enum
type PullPolicy string

const (
	// PullAlways pulls the image on every start.
	PullAlways PullPolicy = "Always"
	// PullNever uses only an image already present on the node.
	PullNever PullPolicy = "Never"
	// PullIfNotPresent pulls the image only when it is not on the node.
	PullIfNotPresent PullPolicy = "IfNotPresent"
)

// PodTemplateSpec describes the pods a controller creates, as core/v1's
// PodTemplateSpec does: the metadata (labels, annotations) and spec every
// such pod starts with.
type PodTemplateSpec struct {
	// Metadata of the pods created from this template. Its labels must match
	// the selector of the controller that owns the template.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Spec of the pods created from this template.
	// +optional
	Spec PodSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
}

// PodSpec is the desired state of a pod.
type PodSpec struct {
	// Containers are the pod's containers. There must be at least one, and
	// their names must be unique within the pod.
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Containers []Container `json:"containers" patchStrategy:"merge" patchMergeKey:"name" protobuf:"bytes,1,rep,name=containers"`

	// RestartPolicy is when the kubelet restarts the pod's containers: Always,
	// OnFailure or Never. Defaults to Always.
	// +optional
	RestartPolicy RestartPolicy `json:"restartPolicy,omitempty" protobuf:"bytes,2,opt,name=restartPolicy,casttype=RestartPolicy"`

	// TerminationGracePeriodSeconds is how long the kubelet waits after
	// SIGTERM before it kills the containers. Defaults to 30.
	// +optional
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty" protobuf:"varint,3,opt,name=terminationGracePeriodSeconds"`

	// NodeName is the node the pod is bound to. The scheduler sets it through
	// pods/binding; a pod created with it set skips the scheduler.
	// +optional
	NodeName string `json:"nodeName,omitempty" protobuf:"bytes,4,opt,name=nodeName"`

	// NodeSelector must match a node's labels for the pod to be scheduled there.
	// +optional
	// +mapType=atomic
	NodeSelector map[string]string `json:"nodeSelector,omitempty" protobuf:"bytes,5,rep,name=nodeSelector"`

	// Affinity holds the pod's node affinity.
	// +optional
	Affinity *Affinity `json:"affinity,omitempty" protobuf:"bytes,6,opt,name=affinity"`

	// Tolerations let the pod be scheduled onto nodes with matching taints.
	// +optional
	// +listType=atomic
	Tolerations []Toleration `json:"tolerations,omitempty" protobuf:"bytes,7,rep,name=tolerations"`

	// SchedulerName is the scheduler that places this pod. Defaults to
	// skiff-scheduler.
	// +optional
	SchedulerName string `json:"schedulerName,omitempty" protobuf:"bytes,8,opt,name=schedulerName"`

	// Priority orders pods in the scheduling queue: higher goes first.
	// +optional
	Priority *int32 `json:"priority,omitempty" protobuf:"varint,9,opt,name=priority"`
}

// Container is one process (or image) of a pod.
type Container struct {
	// Name is the container's name, a DNS-1123 label unique within the pod.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`

	// Image is the container image (cri runtime) or a label for the process
	// (process runtime).
	Image string `json:"image" protobuf:"bytes,2,opt,name=image"`

	// ImagePullPolicy is Always, Never or IfNotPresent. Defaults to Always for
	// a :latest or untagged image, IfNotPresent otherwise.
	// +optional
	ImagePullPolicy PullPolicy `json:"imagePullPolicy,omitempty" protobuf:"bytes,3,opt,name=imagePullPolicy,casttype=PullPolicy"`

	// Command is the entrypoint. The process runtime runs it directly.
	// +optional
	// +listType=atomic
	Command []string `json:"command,omitempty" protobuf:"bytes,4,rep,name=command"`

	// Args are the arguments to the entrypoint.
	// +optional
	// +listType=atomic
	Args []string `json:"args,omitempty" protobuf:"bytes,5,rep,name=args"`

	// WorkingDir is the container's working directory.
	// +optional
	WorkingDir string `json:"workingDir,omitempty" protobuf:"bytes,6,opt,name=workingDir"`

	// Env is the environment of the container.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Env []EnvVar `json:"env,omitempty" patchStrategy:"merge" patchMergeKey:"name" protobuf:"bytes,7,rep,name=env"`

	// Ports the container listens on; informational.
	// +optional
	// +listType=map
	// +listMapKey=containerPort
	// +listMapKey=protocol
	// +patchMergeKey=containerPort
	// +patchStrategy=merge
	Ports []ContainerPort `json:"ports,omitempty" patchStrategy:"merge" patchMergeKey:"containerPort" protobuf:"bytes,8,rep,name=ports"`

	// Resources are the compute resources the container requests and may use
	// at most.
	// +optional
	Resources ResourceRequirements `json:"resources,omitempty" protobuf:"bytes,9,opt,name=resources"`

	// LivenessProbe is checked periodically while the container runs; when
	// it fails failureThreshold times in a row the kubelet restarts the
	// container, under the pod's restart policy.
	// +optional
	LivenessProbe *Probe `json:"livenessProbe,omitempty" protobuf:"bytes,10,opt,name=livenessProbe"`

	// ReadinessProbe is checked periodically while the container runs; the
	// container is ready, and takes part in the pod's Ready condition, only
	// while it succeeds. Without one a running container is ready.
	// +optional
	ReadinessProbe *Probe `json:"readinessProbe,omitempty" protobuf:"bytes,11,opt,name=readinessProbe"`

	// StartupProbe holds the liveness and readiness probes off until it
	// succeeds once; when it fails failureThreshold times in a row the
	// container is restarted, as for a failed liveness probe.
	// +optional
	StartupProbe *Probe `json:"startupProbe,omitempty" protobuf:"bytes,12,opt,name=startupProbe"`
}

// Probe is a health check the kubelet runs against a container, as core/v1's.
type Probe struct {
	// The action the probe takes: exactly one of exec, httpGet, tcpSocket
	// and grpc.
	ProbeHandler `json:",inline" protobuf:"bytes,1,opt,name=probeHandler"`

	// InitialDelaySeconds is how long after the container started the first
	// probe runs.
	// +optional
	InitialDelaySeconds int32 `json:"initialDelaySeconds,omitempty" protobuf:"varint,2,opt,name=initialDelaySeconds"`

	// TimeoutSeconds is how long one probe may take before it counts as a
	// failure. Defaults to 1; at least 1.
	// +optional
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty" protobuf:"varint,3,opt,name=timeoutSeconds"`

	// PeriodSeconds is how often the probe runs. Defaults to 10; at least 1.
	// +optional
	PeriodSeconds int32 `json:"periodSeconds,omitempty" protobuf:"varint,4,opt,name=periodSeconds"`

	// SuccessThreshold is how many successes in a row, after a failure,
	// make the probe succeed. Defaults to 1; must be 1 for liveness and
	// startup probes.
	// +optional
	SuccessThreshold int32 `json:"successThreshold,omitempty" protobuf:"varint,5,opt,name=successThreshold"`

	// FailureThreshold is how many failures in a row make the probe fail.
	// Defaults to 3; at least 1.
	// +optional
	FailureThreshold int32 `json:"failureThreshold,omitempty" protobuf:"varint,6,opt,name=failureThreshold"`

	// TerminationGracePeriodSeconds, for a liveness or startup probe, is the
	// grace the container gets when the probe's failure restarts it, in
	// place of the pod's terminationGracePeriodSeconds. Not allowed on a
	// readiness probe.
	// +optional
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty" protobuf:"varint,7,opt,name=terminationGracePeriodSeconds"`
}

// ProbeHandler is the action a probe takes; exactly one of its fields is set.
type ProbeHandler struct {
	// Exec runs a command in the container; exit code 0 is success.
	// +optional
	Exec *ExecAction `json:"exec,omitempty" protobuf:"bytes,1,opt,name=exec"`
	// HTTPGet sends an HTTP GET request; a status from 200 to 399 is success.
	// +optional
	HTTPGet *HTTPGetAction `json:"httpGet,omitempty" protobuf:"bytes,2,opt,name=httpGet"`
	// TCPSocket opens a TCP connection; connecting is success.
	// +optional
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty" protobuf:"bytes,3,opt,name=tcpSocket"`
	// GRPC calls the gRPC health checking service (grpc.health.v1); SERVING
	// is success.
	// +optional
	GRPC *GRPCAction `json:"grpc,omitempty" protobuf:"bytes,4,opt,name=grpc"`
}

// ExecAction runs a command in the container.
type ExecAction struct {
	// Command is the command line, run directly, not in a shell.
	// +optional
	// +listType=atomic
	Command []string `json:"command,omitempty" protobuf:"bytes,1,rep,name=command"`
}

// URIScheme is the scheme of an HTTP probe.
// +enum
type URIScheme string

const (
	// URISchemeHTTP: plain HTTP.
	URISchemeHTTP URIScheme = "HTTP"
	// URISchemeHTTPS: HTTPS, without verifying the server's certificate.
	URISchemeHTTPS URIScheme = "HTTPS"
)

// HTTPGetAction is the HTTP GET request of a probe.
type HTTPGetAction struct {
	// Path of the request. Defaults to "/".
	// +optional
	Path string `json:"path,omitempty" protobuf:"bytes,1,opt,name=path"`
	// Port is the port number, or the name of one of the container's ports.
	Port intstr.IntOrString `json:"port" protobuf:"bytes,2,opt,name=port"`
	// Host to connect to; defaults to the pod's IP.
	// +optional
	Host string `json:"host,omitempty" protobuf:"bytes,3,opt,name=host"`
	// Scheme is HTTP or HTTPS. Defaults to HTTP.
	// +optional
	Scheme URIScheme `json:"scheme,omitempty" protobuf:"bytes,4,opt,name=scheme,casttype=URIScheme"`
	// HTTPHeaders are extra request headers.
	// +optional
	// +listType=atomic
	HTTPHeaders []HTTPHeader `json:"httpHeaders,omitempty" protobuf:"bytes,5,rep,name=httpHeaders"`
}

// HTTPHeader is one header of an HTTP probe's request.
type HTTPHeader struct {
	// Name of the header.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// Value of the header.
	Value string `json:"value" protobuf:"bytes,2,opt,name=value"`
}

// TCPSocketAction is the TCP connection of a probe.
type TCPSocketAction struct {
	// Port is the port number, or the name of one of the container's ports.
	Port intstr.IntOrString `json:"port" protobuf:"bytes,1,opt,name=port"`
	// Host to connect to; defaults to the pod's IP.
	// +optional
	Host string `json:"host,omitempty" protobuf:"bytes,2,opt,name=host"`
}

// GRPCAction is the gRPC health check of a probe.
type GRPCAction struct {
	// Port is the port number of the gRPC server.
	Port int32 `json:"port" protobuf:"varint,1,opt,name=port"`
	// Service is the service name sent in the health check request; empty
	// asks about the server as a whole.
	// +optional
	// +default=""
	Service *string `json:"service" protobuf:"bytes,2,opt,name=service"`
}

// EnvVar is one environment variable of a container.
type EnvVar struct {
	// Name of the variable; a C identifier.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// Value of the variable.
	// +optional
	Value string `json:"value,omitempty" protobuf:"bytes,2,opt,name=value"`
}

// Protocol is a network protocol.
// +enum
type Protocol string

const (
	// ProtocolTCP is TCP.
	ProtocolTCP Protocol = "TCP"
	// ProtocolUDP is UDP.
	ProtocolUDP Protocol = "UDP"
	// ProtocolSCTP is SCTP.
	ProtocolSCTP Protocol = "SCTP"
)

// ContainerPort is a port a container listens on.
type ContainerPort struct {
	// Name of the port, an IANA service name.
	// +optional
	Name string `json:"name,omitempty" protobuf:"bytes,1,opt,name=name"`
	// HostPort exposes the port on the node.
	// +optional
	HostPort int32 `json:"hostPort,omitempty" protobuf:"varint,2,opt,name=hostPort"`
	// ContainerPort is the port number, 1-65535.
	ContainerPort int32 `json:"containerPort" protobuf:"varint,3,opt,name=containerPort"`
	// Protocol is TCP, UDP or SCTP. Defaults to TCP.
	// +optional
	Protocol Protocol `json:"protocol,omitempty" protobuf:"bytes,4,opt,name=protocol,casttype=Protocol"`
}

// ResourceName names a resource: cpu, memory, pods.
type ResourceName string

const (
	// ResourceCPU is CPU, in cores.
	ResourceCPU ResourceName = "cpu"
	// ResourceMemory is memory, in bytes.
	ResourceMemory ResourceName = "memory"
	// ResourcePods is the number of pods a node can hold.
	ResourcePods ResourceName = "pods"
)

// ResourceList maps a resource to a quantity.
type ResourceList map[ResourceName]resource.Quantity

// ResourceRequirements are a container's requests and limits.
type ResourceRequirements struct {
	// Limits are the most the container may use.
	// +optional
	Limits ResourceList `json:"limits,omitempty" protobuf:"bytes,1,rep,name=limits,casttype=ResourceList,castkey=ResourceName"`
	// Requests are what the scheduler reserves for the container. A request
	// may not exceed its limit.
	// +optional
	Requests ResourceList `json:"requests,omitempty" protobuf:"bytes,2,rep,name=requests,casttype=ResourceList,castkey=ResourceName"`
}

// Affinity holds a pod's scheduling constraints beyond the node selector.
type Affinity struct {
	// NodeAffinity constrains the nodes the pod may be scheduled on.
	// +optional
	NodeAffinity *NodeAffinity `json:"nodeAffinity,omitempty" protobuf:"bytes,1,opt,name=nodeAffinity"`
}

// NodeAffinity constrains the nodes a pod may be scheduled on.
type NodeAffinity struct {
	// RequiredDuringSchedulingIgnoredDuringExecution must match for the pod
	// to be scheduled on a node.
	// +optional
	RequiredDuringSchedulingIgnoredDuringExecution *NodeSelector `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty" protobuf:"bytes,1,opt,name=requiredDuringSchedulingIgnoredDuringExecution"`
	// PreferredDuringSchedulingIgnoredDuringExecution adds its weight to the
	// score of nodes that match.
	// +optional
	// +listType=atomic
	PreferredDuringSchedulingIgnoredDuringExecution []PreferredSchedulingTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty" protobuf:"bytes,2,rep,name=preferredDuringSchedulingIgnoredDuringExecution"`
}

// NodeSelector is an OR of node selector terms.
// +structType=atomic
type NodeSelector struct {
	// NodeSelectorTerms are ORed.
	// +listType=atomic
	NodeSelectorTerms []NodeSelectorTerm `json:"nodeSelectorTerms" protobuf:"bytes,1,rep,name=nodeSelectorTerms"`
}

// NodeSelectorTerm is an AND of requirements on a node's labels.
// +structType=atomic
type NodeSelectorTerm struct {
	// MatchExpressions are ANDed.
	// +optional
	// +listType=atomic
	MatchExpressions []NodeSelectorRequirement `json:"matchExpressions,omitempty" protobuf:"bytes,1,rep,name=matchExpressions"`
}

// NodeSelectorOperator relates a label key to its values.
// +enum
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
	// Key is the label key.
	Key string `json:"key" protobuf:"bytes,1,opt,name=key"`
	// Operator is In, NotIn, Exists, DoesNotExist, Gt or Lt.
	Operator NodeSelectorOperator `json:"operator" protobuf:"bytes,2,opt,name=operator,casttype=NodeSelectorOperator"`
	// Values for In and NotIn (one or more), Gt and Lt (exactly one integer);
	// empty for Exists and DoesNotExist.
	// +optional
	// +listType=atomic
	Values []string `json:"values,omitempty" protobuf:"bytes,3,rep,name=values"`
}

// PreferredSchedulingTerm is a weighted preference for nodes matching a term.
type PreferredSchedulingTerm struct {
	// Weight, 1-100.
	Weight int32 `json:"weight" protobuf:"varint,1,opt,name=weight"`
	// Preference is the term a node should match.
	Preference NodeSelectorTerm `json:"preference" protobuf:"bytes,2,opt,name=preference"`
}

// TolerationOperator relates a toleration's key to its value.
// +enum
type TolerationOperator string

const (
	// TolerationOpExists matches any value.
	TolerationOpExists TolerationOperator = "Exists"
	// TolerationOpEqual matches the value exactly.
	TolerationOpEqual TolerationOperator = "Equal"
)

// Toleration lets a pod be scheduled onto (or stay on) a node with a matching taint.
type Toleration struct {
	// Key is the taint key; empty with operator Exists matches every taint.
	// +optional
	Key string `json:"key,omitempty" protobuf:"bytes,1,opt,name=key"`
	// Operator is Exists or Equal. Defaults to Equal.
	// +optional
	Operator TolerationOperator `json:"operator,omitempty" protobuf:"bytes,2,opt,name=operator,casttype=TolerationOperator"`
	// Value must equal the taint's value with operator Equal; empty with Exists.
	// +optional
	Value string `json:"value,omitempty" protobuf:"bytes,3,opt,name=value"`
	// Effect to match: NoSchedule, PreferNoSchedule or NoExecute; empty
	// matches every effect.
	// +optional
	Effect TaintEffect `json:"effect,omitempty" protobuf:"bytes,4,opt,name=effect,casttype=TaintEffect"`
	// TolerationSeconds is how long a NoExecute taint is tolerated.
	// +optional
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty" protobuf:"varint,5,opt,name=tolerationSeconds"`
}

// PodPhase is the coarse state of a pod.
// +enum
type PodPhase string

const (
	// PodPending: accepted, but not every container has started.
	PodPending PodPhase = "Pending"
	// PodRunning: bound, and at least one container is running.
	PodRunning PodPhase = "Running"
	// PodSucceeded: every container exited 0 and none will restart.
	PodSucceeded PodPhase = "Succeeded"
	// PodFailed: every container has exited and at least one failed.
	PodFailed PodPhase = "Failed"
	// PodUnknown: the pod's state could not be obtained.
	PodUnknown PodPhase = "Unknown"
)

// PodConditionType names a pod condition.
type PodConditionType string

const (
	// PodScheduled: the pod is bound to a node.
	PodScheduled PodConditionType = "PodScheduled"
	// PodInitialized: the pod's initialization finished.
	PodInitialized PodConditionType = "Initialized"
	// ContainersReady: every container is ready.
	ContainersReady PodConditionType = "ContainersReady"
	// PodReady: the pod can serve.
	PodReady PodConditionType = "Ready"
)

// ConditionStatus is True, False or Unknown.
// +enum
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
	// Type of the condition.
	Type PodConditionType `json:"type" protobuf:"bytes,1,opt,name=type,casttype=PodConditionType"`
	// Status is True, False or Unknown.
	Status ConditionStatus `json:"status" protobuf:"bytes,2,opt,name=status,casttype=ConditionStatus"`
	// LastProbeTime is when the condition was last probed.
	// +optional
	LastProbeTime metav1.Time `json:"lastProbeTime,omitempty" protobuf:"bytes,3,opt,name=lastProbeTime"`
	// LastTransitionTime is when the status last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty" protobuf:"bytes,4,opt,name=lastTransitionTime"`
	// Reason is a CamelCase word for the last transition.
	// +optional
	Reason string `json:"reason,omitempty" protobuf:"bytes,5,opt,name=reason"`
	// Message is a human-readable account of the last transition.
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,6,opt,name=message"`
}

// PodStatus is the observed state of a pod, written by the scheduler and kubelet.
type PodStatus struct {
	// ObservedGeneration is the pod's metadata.generation the kubelet last
	// acted on: once it equals metadata.generation, a spec change (a new
	// image) has reached the node.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty" protobuf:"varint,1,opt,name=observedGeneration"`
	// Phase is Pending, Running, Succeeded, Failed or Unknown.
	// +optional
	Phase PodPhase `json:"phase,omitempty" protobuf:"bytes,2,opt,name=phase,casttype=PodPhase"`
	// Conditions of the pod.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchMergeKey=type
	// +patchStrategy=merge
	Conditions []PodCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type" protobuf:"bytes,3,rep,name=conditions"`
	// Message tells why the pod is in this state.
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,4,opt,name=message"`
	// Reason is a CamelCase word for why the pod is in this state.
	// +optional
	Reason string `json:"reason,omitempty" protobuf:"bytes,5,opt,name=reason"`
	// HostIP is the IP of the node the pod runs on.
	// +optional
	HostIP string `json:"hostIP,omitempty" protobuf:"bytes,6,opt,name=hostIP"`
	// PodIP is the IP of the pod.
	// +optional
	PodIP string `json:"podIP,omitempty" protobuf:"bytes,7,opt,name=podIP"`
	// StartTime is when the kubelet accepted the pod.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty" protobuf:"bytes,8,opt,name=startTime"`
	// ContainerStatuses, one per container.
	// +optional
	// +listType=atomic
	ContainerStatuses []ContainerStatus `json:"containerStatuses,omitempty" protobuf:"bytes,9,rep,name=containerStatuses"`
}

// ContainerStatus is the observed state of one container.
type ContainerStatus struct {
	// Name of the container.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// State is the container's current state.
	// +optional
	State ContainerState `json:"state,omitempty" protobuf:"bytes,2,opt,name=state"`
	// LastTerminationState is the state of its last exit.
	// +optional
	LastTerminationState ContainerState `json:"lastState,omitempty" protobuf:"bytes,3,opt,name=lastState"`
	// Ready is true when the container is running and ready.
	Ready bool `json:"ready" protobuf:"varint,4,opt,name=ready"`
	// RestartCount is how often the container has restarted.
	RestartCount int32 `json:"restartCount" protobuf:"varint,5,opt,name=restartCount"`
	// Image the container runs.
	Image string `json:"image" protobuf:"bytes,6,opt,name=image"`
	// ImageID is the runtime's ID of the image.
	// +optional
	ImageID string `json:"imageID,omitempty" protobuf:"bytes,7,opt,name=imageID"`
	// ContainerID is <runtime>://<id>.
	// +optional
	ContainerID string `json:"containerID,omitempty" protobuf:"bytes,8,opt,name=containerID"`
	// Started is true once the container has started.
	// +optional
	Started *bool `json:"started,omitempty" protobuf:"varint,9,opt,name=started"`
}

// ContainerState holds exactly one of its members; none means waiting.
type ContainerState struct {
	// Waiting: not yet (or not again) running.
	// +optional
	Waiting *ContainerStateWaiting `json:"waiting,omitempty" protobuf:"bytes,1,opt,name=waiting"`
	// Running: running.
	// +optional
	Running *ContainerStateRunning `json:"running,omitempty" protobuf:"bytes,2,opt,name=running"`
	// Terminated: exited.
	// +optional
	Terminated *ContainerStateTerminated `json:"terminated,omitempty" protobuf:"bytes,3,opt,name=terminated"`
}

// ContainerStateWaiting is a container not yet (or not again) running.
type ContainerStateWaiting struct {
	// Reason, such as ContainerCreating, CrashLoopBackOff or ErrImagePull.
	// +optional
	Reason string `json:"reason,omitempty" protobuf:"bytes,1,opt,name=reason"`
	// Message with details.
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,2,opt,name=message"`
}

// ContainerStateRunning is a running container.
type ContainerStateRunning struct {
	// StartedAt is when the container last started.
	// +optional
	StartedAt metav1.Time `json:"startedAt,omitempty" protobuf:"bytes,1,opt,name=startedAt"`
}

// ContainerStateTerminated is a container that exited.
type ContainerStateTerminated struct {
	// ExitCode of the container's process.
	ExitCode int32 `json:"exitCode" protobuf:"varint,1,opt,name=exitCode"`
	// Signal that ended the process, if any.
	// +optional
	Signal int32 `json:"signal,omitempty" protobuf:"varint,2,opt,name=signal"`
	// Reason, such as Completed or Error.
	// +optional
	Reason string `json:"reason,omitempty" protobuf:"bytes,3,opt,name=reason"`
	// Message with details.
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,4,opt,name=message"`
	// StartedAt is when the container started.
	// +optional
	StartedAt metav1.Time `json:"startedAt,omitempty" protobuf:"bytes,5,opt,name=startedAt"`
	// FinishedAt is when the container exited.
	// +optional
	FinishedAt metav1.Time `json:"finishedAt,omitempty" protobuf:"bytes,6,opt,name=finishedAt"`
	// ContainerID is <runtime>://<id>.
	// +optional
	ContainerID string `json:"containerID,omitempty" protobuf:"bytes,7,opt,name=containerID"`
}

// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Node is a machine that runs pods, registered by its kubelet.
type Node struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Spec is the desired state of the node.
	// +optional
	Spec NodeSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`

	// Status is the most recently observed state of the node, written by its
	// kubelet through nodes/status.
	// +optional
	Status NodeStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NodeList is a list of nodes.
type NodeList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Items is the list of nodes.
	Items []Node `json:"items" protobuf:"bytes,2,rep,name=items"`
}

// NodeSpec is the desired state of a node.
type NodeSpec struct {
	// Unschedulable keeps new pods off the node.
	// +optional
	Unschedulable bool `json:"unschedulable,omitempty" protobuf:"varint,1,opt,name=unschedulable"`
	// Taints repel pods that do not tolerate them.
	// +optional
	// +listType=atomic
	Taints []Taint `json:"taints,omitempty" protobuf:"bytes,2,rep,name=taints"`
}

// TaintEffect is what a taint does to pods that do not tolerate it.
// +enum
type TaintEffect string

const (
	// TaintEffectNoSchedule keeps new pods off the node.
	TaintEffectNoSchedule TaintEffect = "NoSchedule"
	// TaintEffectPreferNoSchedule makes the scheduler avoid the node.
	TaintEffectPreferNoSchedule TaintEffect = "PreferNoSchedule"
	// TaintEffectNoExecute keeps new pods off and evicts running ones.
	TaintEffectNoExecute TaintEffect = "NoExecute"
)

// Taint repels pods that do not tolerate it.
type Taint struct {
	// Key of the taint, a qualified name.
	Key string `json:"key" protobuf:"bytes,1,opt,name=key"`
	// Value of the taint, a label value.
	// +optional
	Value string `json:"value,omitempty" protobuf:"bytes,2,opt,name=value"`
	// Effect is NoSchedule, PreferNoSchedule or NoExecute.
	Effect TaintEffect `json:"effect" protobuf:"bytes,3,opt,name=effect,casttype=TaintEffect"`
	// TimeAdded is when a NoExecute taint was added.
	// +optional
	TimeAdded *metav1.Time `json:"timeAdded,omitempty" protobuf:"bytes,4,opt,name=timeAdded"`
}

// NodeConditionType names a node condition.
type NodeConditionType string

const (
	// NodeReady: the kubelet is healthy and ready to run pods.
	NodeReady NodeConditionType = "Ready"
)

// NodeCondition is one observed condition of a node.
type NodeCondition struct {
	// Type of the condition.
	Type NodeConditionType `json:"type" protobuf:"bytes,1,opt,name=type,casttype=NodeConditionType"`
	// Status is True, False or Unknown.
	Status ConditionStatus `json:"status" protobuf:"bytes,2,opt,name=status,casttype=ConditionStatus"`
	// LastHeartbeatTime is when the kubelet last reported the condition.
	// +optional
	LastHeartbeatTime metav1.Time `json:"lastHeartbeatTime,omitempty" protobuf:"bytes,3,opt,name=lastHeartbeatTime"`
	// LastTransitionTime is when the status last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty" protobuf:"bytes,4,opt,name=lastTransitionTime"`
	// Reason is a CamelCase word for the last transition.
	// +optional
	Reason string `json:"reason,omitempty" protobuf:"bytes,5,opt,name=reason"`
	// Message is a human-readable account of the last transition.
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,6,opt,name=message"`
}

// NodeAddressType is the kind of a node address.
// +enum
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
	// Type is Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.
	Type NodeAddressType `json:"type" protobuf:"bytes,1,opt,name=type,casttype=NodeAddressType"`
	// Address is the address.
	Address string `json:"address" protobuf:"bytes,2,opt,name=address"`
}

// DaemonEndpoint is a port a node daemon listens on.
type DaemonEndpoint struct {
	// Port number.
	Port int32 `json:"Port" protobuf:"varint,1,opt,name=Port"`
}

// NodeDaemonEndpoints are the ports of a node's daemons.
type NodeDaemonEndpoints struct {
	// KubeletEndpoint is where the kubelet serves logs.
	// +optional
	KubeletEndpoint DaemonEndpoint `json:"kubeletEndpoint,omitempty" protobuf:"bytes,1,opt,name=kubeletEndpoint"`
}

// NodeSystemInfo describes the node's software.
type NodeSystemInfo struct {
	// MachineID of the node.
	MachineID string `json:"machineID" protobuf:"bytes,1,opt,name=machineID"`
	// KernelVersion from uname -r.
	KernelVersion string `json:"kernelVersion" protobuf:"bytes,2,opt,name=kernelVersion"`
	// OSImage, from /etc/os-release.
	OSImage string `json:"osImage" protobuf:"bytes,3,opt,name=osImage"`
	// ContainerRuntimeVersion is <runtime>://<version>.
	ContainerRuntimeVersion string `json:"containerRuntimeVersion" protobuf:"bytes,4,opt,name=containerRuntimeVersion"`
	// KubeletVersion is the skiff-kubelet version.
	KubeletVersion string `json:"kubeletVersion" protobuf:"bytes,5,opt,name=kubeletVersion"`
	// OperatingSystem, as GOOS.
	OperatingSystem string `json:"operatingSystem" protobuf:"bytes,6,opt,name=operatingSystem"`
	// Architecture, as GOARCH.
	Architecture string `json:"architecture" protobuf:"bytes,7,opt,name=architecture"`
}

// NodeStatus is the observed state of a node, written by its kubelet.
type NodeStatus struct {
	// Capacity is the node's total resources.
	// +optional
	Capacity ResourceList `json:"capacity,omitempty" protobuf:"bytes,1,rep,name=capacity,casttype=ResourceList,castkey=ResourceName"`
	// Allocatable is what is left for pods after reservations.
	// +optional
	Allocatable ResourceList `json:"allocatable,omitempty" protobuf:"bytes,2,rep,name=allocatable,casttype=ResourceList,castkey=ResourceName"`
	// Conditions of the node.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchMergeKey=type
	// +patchStrategy=merge
	Conditions []NodeCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type" protobuf:"bytes,3,rep,name=conditions"`
	// Addresses of the node.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchMergeKey=type
	// +patchStrategy=merge
	Addresses []NodeAddress `json:"addresses,omitempty" patchStrategy:"merge" patchMergeKey:"type" protobuf:"bytes,4,rep,name=addresses"`
	// DaemonEndpoints are the ports of the node's daemons.
	// +optional
	DaemonEndpoints NodeDaemonEndpoints `json:"daemonEndpoints,omitempty" protobuf:"bytes,5,opt,name=daemonEndpoints"`
	// NodeInfo describes the node's software.
	// +optional
	NodeInfo NodeSystemInfo `json:"nodeInfo,omitempty" protobuf:"bytes,6,opt,name=nodeInfo"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Binding ties a pod to a node. It is created through pods/binding (or
// bindings) and never stored on its own.
type Binding struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata; the name is the pod's.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Target is the node to bind to: kind Node and its name.
	Target ObjectReference `json:"target" protobuf:"bytes,2,opt,name=target"`
}

// ObjectReference points at another object.
// +structType=atomic
type ObjectReference struct {
	// Kind of the referent.
	// +optional
	Kind string `json:"kind,omitempty" protobuf:"bytes,1,opt,name=kind"`
	// Namespace of the referent.
	// +optional
	Namespace string `json:"namespace,omitempty" protobuf:"bytes,2,opt,name=namespace"`
	// Name of the referent.
	// +optional
	Name string `json:"name,omitempty" protobuf:"bytes,3,opt,name=name"`
	// UID of the referent.
	// +optional
	UID types.UID `json:"uid,omitempty" protobuf:"bytes,4,opt,name=uid,casttype=k8s.io/apimachinery/pkg/types.UID"`
	// APIVersion of the referent.
	// +optional
	APIVersion string `json:"apiVersion,omitempty" protobuf:"bytes,5,opt,name=apiVersion"`
	// ResourceVersion of the referent.
	// +optional
	ResourceVersion string `json:"resourceVersion,omitempty" protobuf:"bytes,6,opt,name=resourceVersion"`
	// FieldPath within the referent, such as spec.containers{name}.
	// +optional
	FieldPath string `json:"fieldPath,omitempty" protobuf:"bytes,7,opt,name=fieldPath"`
}

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Lease is a heartbeat (a kubelet's, in namespace skiff-node-lease) or a
// leader-election lock.
type Lease struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Spec is the state of the lease.
	// +optional
	Spec LeaseSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// LeaseList is a list of leases.
type LeaseList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Items is the list of leases.
	Items []Lease `json:"items" protobuf:"bytes,2,rep,name=items"`
}

// LeaseSpec is the state of a lease.
type LeaseSpec struct {
	// HolderIdentity is who holds the lease.
	// +optional
	HolderIdentity *string `json:"holderIdentity,omitempty" protobuf:"bytes,1,opt,name=holderIdentity"`
	// LeaseDurationSeconds is how long the holder may go without renewing.
	// +optional
	LeaseDurationSeconds *int32 `json:"leaseDurationSeconds,omitempty" protobuf:"varint,2,opt,name=leaseDurationSeconds"`
	// AcquireTime is when the current holder took the lease.
	// +optional
	AcquireTime *metav1.MicroTime `json:"acquireTime,omitempty" protobuf:"bytes,3,opt,name=acquireTime"`
	// RenewTime is when the holder last renewed the lease.
	// +optional
	RenewTime *metav1.MicroTime `json:"renewTime,omitempty" protobuf:"bytes,4,opt,name=renewTime"`
	// LeaseTransitions counts changes of holder.
	// +optional
	LeaseTransitions *int32 `json:"leaseTransitions,omitempty" protobuf:"varint,5,opt,name=leaseTransitions"`
}

// +k8s:conversion-gen:explicit-from=net/url.Values
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodLogOptions are the query parameters of pods/log.
type PodLogOptions struct {
	metav1.TypeMeta `json:",inline"`

	// Container whose log to read; may be left out when the pod has one.
	// +optional
	Container string `json:"container,omitempty" protobuf:"bytes,1,opt,name=container"`
	// Follow streams the log as it grows.
	// +optional
	Follow bool `json:"follow,omitempty" protobuf:"varint,2,opt,name=follow"`
	// Previous reads the log of the container's last terminated run.
	// +optional
	Previous bool `json:"previous,omitempty" protobuf:"varint,3,opt,name=previous"`
	// SinceSeconds shows only lines newer than this many seconds.
	// +optional
	SinceSeconds *int64 `json:"sinceSeconds,omitempty" protobuf:"varint,4,opt,name=sinceSeconds"`
	// SinceTime shows only lines at or after this time.
	// +optional
	SinceTime *metav1.Time `json:"sinceTime,omitempty" protobuf:"bytes,5,opt,name=sinceTime"`
	// Timestamps prefixes every line with its RFC3339 timestamp.
	// +optional
	Timestamps bool `json:"timestamps,omitempty" protobuf:"varint,6,opt,name=timestamps"`
	// TailLines shows only this many lines from the end.
	// +optional
	TailLines *int64 `json:"tailLines,omitempty" protobuf:"varint,7,opt,name=tailLines"`
	// LimitBytes stops after this many bytes.
	// +optional
	LimitBytes *int64 `json:"limitBytes,omitempty" protobuf:"varint,8,opt,name=limitBytes"`
}
