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

	// Priority orders pods in the scheduling queue (higher goes first) and
	// decides which pods preemption may evict. The Priority admission plugin
	// sets it from priorityClassName; a client that sets it must set the
	// class's value.
	// +optional
	Priority *int32 `json:"priority,omitempty" protobuf:"varint,9,opt,name=priority"`

	// PriorityClassName names the PriorityClass whose value becomes the
	// pod's priority. Empty means the globalDefault class, or priority 0 when
	// there is none. system-node-critical and system-cluster-critical always
	// exist.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty" protobuf:"bytes,10,opt,name=priorityClassName"`

	// PreemptionPolicy is PreemptLowerPriority or Never; the Priority
	// admission plugin sets it from the pod's PriorityClass. Defaults to
	// PreemptLowerPriority.
	// +optional
	PreemptionPolicy *PreemptionPolicy `json:"preemptionPolicy,omitempty" protobuf:"bytes,11,opt,name=preemptionPolicy,casttype=PreemptionPolicy"`

	// TopologySpreadConstraints say how the pod's group is spread over
	// topology domains (nodes, zones). All of them must hold.
	// +optional
	// +patchMergeKey=topologyKey
	// +patchStrategy=merge
	// +listType=map
	// +listMapKey=topologyKey
	// +listMapKey=whenUnsatisfiable
	TopologySpreadConstraints []TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty" patchStrategy:"merge" patchMergeKey:"topologyKey" protobuf:"bytes,12,rep,name=topologySpreadConstraints"`
}

// PreemptionPolicy says whether a pod may preempt lower-priority pods.
// +enum
type PreemptionPolicy string

const (
	// PreemptLowerPriority lets the pod evict lower-priority pods to fit.
	PreemptLowerPriority PreemptionPolicy = "PreemptLowerPriority"
	// PreemptNever keeps the pod from evicting others; it waits in the queue.
	PreemptNever PreemptionPolicy = "Never"
)

// UnsatisfiableConstraintAction is what the scheduler does with a pod whose
// topology spread constraint cannot be met.
// +enum
type UnsatisfiableConstraintAction string

const (
	// DoNotSchedule keeps the pod pending until the constraint can be met.
	DoNotSchedule UnsatisfiableConstraintAction = "DoNotSchedule"
	// ScheduleAnyway schedules the pod, preferring nodes that reduce the skew.
	ScheduleAnyway UnsatisfiableConstraintAction = "ScheduleAnyway"
)

// NodeInclusionPolicy says whether a node's affinity or taints count when a
// topology spread constraint counts its domains.
// +enum
type NodeInclusionPolicy string

const (
	// NodeInclusionPolicyIgnore counts every node regardless.
	NodeInclusionPolicyIgnore NodeInclusionPolicy = "Ignore"
	// NodeInclusionPolicyHonor counts only the nodes that pass.
	NodeInclusionPolicyHonor NodeInclusionPolicy = "Honor"
)

// TopologySpreadConstraint spreads matching pods over the domains of one
// topology key, as core/v1's does.
type TopologySpreadConstraint struct {
	// MaxSkew is the most the number of matching pods in one domain may
	// exceed the global minimum; at least 1.
	MaxSkew int32 `json:"maxSkew" protobuf:"varint,1,opt,name=maxSkew"`
	// TopologyKey is the node label whose values are the domains.
	TopologyKey string `json:"topologyKey" protobuf:"bytes,2,opt,name=topologyKey"`
	// WhenUnsatisfiable is DoNotSchedule or ScheduleAnyway.
	WhenUnsatisfiable UnsatisfiableConstraintAction `json:"whenUnsatisfiable" protobuf:"bytes,3,opt,name=whenUnsatisfiable,casttype=UnsatisfiableConstraintAction"`
	// LabelSelector finds the pods that are counted in each domain.
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty" protobuf:"bytes,4,opt,name=labelSelector"`
	// MinDomains is the fewest eligible domains; with fewer, the global
	// minimum counts as 0. Only with DoNotSchedule; at least 1.
	// +optional
	MinDomains *int32 `json:"minDomains,omitempty" protobuf:"varint,5,opt,name=minDomains"`
	// NodeAffinityPolicy is Honor or Ignore: whether the pod's nodeSelector
	// and node affinity limit the nodes counted. Nil means Honor.
	// +optional
	NodeAffinityPolicy *NodeInclusionPolicy `json:"nodeAffinityPolicy,omitempty" protobuf:"bytes,6,opt,name=nodeAffinityPolicy,casttype=NodeInclusionPolicy"`
	// NodeTaintsPolicy is Honor or Ignore: whether nodes with taints the pod
	// does not tolerate are counted. Nil means Ignore.
	// +optional
	NodeTaintsPolicy *NodeInclusionPolicy `json:"nodeTaintsPolicy,omitempty" protobuf:"bytes,7,opt,name=nodeTaintsPolicy,casttype=NodeInclusionPolicy"`
	// MatchLabelKeys are pod label keys whose values, taken from the incoming
	// pod, are ANDed with labelSelector.
	// +listType=atomic
	// +optional
	MatchLabelKeys []string `json:"matchLabelKeys,omitempty" protobuf:"bytes,8,rep,name=matchLabelKeys"`
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

	// Stdin keeps a stdin open for the container, which `kubectl skiff
	// attach -i` writes to; without it the container reads EOF.
	// +optional
	Stdin bool `json:"stdin,omitempty" protobuf:"varint,13,opt,name=stdin"`
	// StdinOnce closes the container's stdin after the first attach that
	// used it has ended, as core/v1's.
	// +optional
	StdinOnce bool `json:"stdinOnce,omitempty" protobuf:"varint,14,opt,name=stdinOnce"`
	// TTY gives the container a terminal (needs stdin): its output comes
	// as one stream, and attach can resize it.
	// +optional
	TTY bool `json:"tty,omitempty" protobuf:"varint,15,opt,name=tty"`
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
	// PodAffinity places the pod in the same topology domain as other pods.
	// +optional
	PodAffinity *PodAffinity `json:"podAffinity,omitempty" protobuf:"bytes,2,opt,name=podAffinity"`
	// PodAntiAffinity keeps the pod out of the topology domains of other pods.
	// +optional
	PodAntiAffinity *PodAntiAffinity `json:"podAntiAffinity,omitempty" protobuf:"bytes,3,opt,name=podAntiAffinity"`
}

// PodAffinity places a pod near pods that match its terms.
type PodAffinity struct {
	// RequiredDuringSchedulingIgnoredDuringExecution terms must all hold for
	// a node to be chosen.
	// +optional
	// +listType=atomic
	RequiredDuringSchedulingIgnoredDuringExecution []PodAffinityTerm `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty" protobuf:"bytes,1,rep,name=requiredDuringSchedulingIgnoredDuringExecution"`
	// PreferredDuringSchedulingIgnoredDuringExecution terms add their weight
	// to the score of nodes where they hold.
	// +optional
	// +listType=atomic
	PreferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty" protobuf:"bytes,2,rep,name=preferredDuringSchedulingIgnoredDuringExecution"`
}

// PodAntiAffinity keeps a pod away from pods that match its terms.
type PodAntiAffinity struct {
	// RequiredDuringSchedulingIgnoredDuringExecution terms must all hold for
	// a node to be chosen.
	// +optional
	// +listType=atomic
	RequiredDuringSchedulingIgnoredDuringExecution []PodAffinityTerm `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty" protobuf:"bytes,1,rep,name=requiredDuringSchedulingIgnoredDuringExecution"`
	// PreferredDuringSchedulingIgnoredDuringExecution terms add their weight
	// to the score of nodes where they hold.
	// +optional
	// +listType=atomic
	PreferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty" protobuf:"bytes,2,rep,name=preferredDuringSchedulingIgnoredDuringExecution"`
}

// WeightedPodAffinityTerm is a pod affinity term with a weight, 1-100.
type WeightedPodAffinityTerm struct {
	// Weight, 1-100.
	Weight int32 `json:"weight" protobuf:"varint,1,opt,name=weight"`
	// PodAffinityTerm is the term.
	PodAffinityTerm PodAffinityTerm `json:"podAffinityTerm" protobuf:"bytes,2,opt,name=podAffinityTerm"`
}

// PodAffinityTerm matches a set of pods (by labelSelector, in namespaces and
// namespaceSelector) that share a topology domain (topologyKey) with a node.
type PodAffinityTerm struct {
	// LabelSelector selects the pods the term is about. Nil matches none.
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty" protobuf:"bytes,1,opt,name=labelSelector"`
	// Namespaces the pods are looked for in, together with the ones
	// namespaceSelector selects. Both empty means the pod's own namespace.
	// +optional
	// +listType=atomic
	Namespaces []string `json:"namespaces,omitempty" protobuf:"bytes,2,rep,name=namespaces"`
	// TopologyKey is the node label whose value is the domain; not empty.
	TopologyKey string `json:"topologyKey" protobuf:"bytes,3,opt,name=topologyKey"`
	// NamespaceSelector selects namespaces by their labels; {} selects every
	// namespace. In standalone mode it selects over the Namespace objects
	// served at /api/v1.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty" protobuf:"bytes,4,opt,name=namespaceSelector"`
	// MatchLabelKeys are pod label keys whose values, taken from the incoming
	// pod, are added to labelSelector as key in (value).
	// +listType=atomic
	// +optional
	MatchLabelKeys []string `json:"matchLabelKeys,omitempty" protobuf:"bytes,5,rep,name=matchLabelKeys"`
	// MismatchLabelKeys are pod label keys whose values, taken from the
	// incoming pod, are added to labelSelector as key notin (value).
	// +listType=atomic
	// +optional
	MismatchLabelKeys []string `json:"mismatchLabelKeys,omitempty" protobuf:"bytes,6,rep,name=mismatchLabelKeys"`
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
	// NominatedNodeName is the node the scheduler's preemption freed room on
	// for this pod; the pod is not bound there yet and may land elsewhere.
	// +optional
	NominatedNodeName string `json:"nominatedNodeName,omitempty" protobuf:"bytes,10,opt,name=nominatedNodeName"`
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

// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PriorityClass maps a priority class name to a priority value, as
// scheduling.k8s.io/v1's PriorityClass does.
//
// It is a kind of core.skiff.dev rather than a scheduling.k8s.io group of
// skiff's own: in aggregated mode the host kube-apiserver already serves
// scheduling.k8s.io (with its own PriorityClasses, which a host's pods use),
// and an APIService can only claim a whole group version, so skiff could not
// serve it there without taking it from the host. Keeping it in
// core.skiff.dev serves the same kind in both modes, beside the pods that
// name it.
type PriorityClass struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Value is the priority of pods of this class; at most 1000000000 for
	// user classes (larger values are reserved for system classes).
	Value int32 `json:"value" protobuf:"varint,2,opt,name=value"`

	// GlobalDefault makes this the class of pods that name none. At most
	// one class may set it.
	// +optional
	GlobalDefault bool `json:"globalDefault,omitempty" protobuf:"varint,3,opt,name=globalDefault"`

	// Description says when to use this class.
	// +optional
	Description string `json:"description,omitempty" protobuf:"bytes,4,opt,name=description"`

	// PreemptionPolicy of pods of this class: PreemptLowerPriority or Never.
	// Defaults to PreemptLowerPriority.
	// +optional
	PreemptionPolicy *PreemptionPolicy `json:"preemptionPolicy,omitempty" protobuf:"bytes,5,opt,name=preemptionPolicy,casttype=PreemptionPolicy"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PriorityClassList is a list of priority classes.
type PriorityClassList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Items is the list of priority classes.
	Items []PriorityClass `json:"items" protobuf:"bytes,2,rep,name=items"`
}

// +k8s:conversion-gen:explicit-from=net/url.Values
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodExecOptions are the query parameters of pods/exec, as core/v1's.
type PodExecOptions struct {
	metav1.TypeMeta `json:",inline"`

	// Stdin passes the client's standard input to the command.
	// +optional
	Stdin bool `json:"stdin,omitempty" protobuf:"varint,1,opt,name=stdin"`
	// Stdout returns the command's standard output.
	// +optional
	Stdout bool `json:"stdout,omitempty" protobuf:"varint,2,opt,name=stdout"`
	// Stderr returns the command's standard error.
	// +optional
	Stderr bool `json:"stderr,omitempty" protobuf:"varint,3,opt,name=stderr"`
	// TTY runs the command on a terminal.
	// +optional
	TTY bool `json:"tty,omitempty" protobuf:"varint,4,opt,name=tty"`
	// Container to run the command in; may be left out when the pod has one.
	// +optional
	Container string `json:"container,omitempty" protobuf:"bytes,5,opt,name=container"`
	// Command and its arguments, one query parameter each.
	// +listType=atomic
	Command []string `json:"command" protobuf:"bytes,6,rep,name=command"`
}

// +k8s:conversion-gen:explicit-from=net/url.Values
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodAttachOptions are the query parameters of pods/attach, as core/v1's.
type PodAttachOptions struct {
	metav1.TypeMeta `json:",inline"`

	// Stdin passes the client's standard input to the container.
	// +optional
	Stdin bool `json:"stdin,omitempty" protobuf:"varint,1,opt,name=stdin"`
	// Stdout returns the container's standard output.
	// +optional
	Stdout bool `json:"stdout,omitempty" protobuf:"varint,2,opt,name=stdout"`
	// Stderr returns the container's standard error.
	// +optional
	Stderr bool `json:"stderr,omitempty" protobuf:"varint,3,opt,name=stderr"`
	// TTY says the client expects the container's terminal.
	// +optional
	TTY bool `json:"tty,omitempty" protobuf:"varint,4,opt,name=tty"`
	// Container to attach to; may be left out when the pod has one.
	// +optional
	Container string `json:"container,omitempty" protobuf:"bytes,5,opt,name=container"`
}

// +k8s:conversion-gen:explicit-from=net/url.Values
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodPortForwardOptions are the query parameters of pods/portforward, as
// core/v1's.
type PodPortForwardOptions struct {
	metav1.TypeMeta `json:",inline"`

	// Ports to forward; required by a WebSocket client, which opens one
	// pair of channels per port at once.
	// +optional
	// +listType=atomic
	Ports []int32 `json:"ports,omitempty" protobuf:"varint,1,rep,name=ports"`
}
