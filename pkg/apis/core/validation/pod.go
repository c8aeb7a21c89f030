package validation

import (
	"fmt"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

// ValidatePodName checks a pod name (a DNS-1123 subdomain).
var ValidatePodName = apimachineryvalidation.NameIsDNSSubdomain

var (
	restartPolicies = []core.RestartPolicy{core.RestartPolicyAlways, core.RestartPolicyOnFailure, core.RestartPolicyNever}
	pullPolicies    = []core.PullPolicy{core.PullAlways, core.PullIfNotPresent, core.PullNever}
	portProtocols   = []core.Protocol{core.ProtocolTCP, core.ProtocolUDP, core.ProtocolSCTP}
	podPhases       = []core.PodPhase{core.PodPending, core.PodRunning, core.PodSucceeded, core.PodFailed, core.PodUnknown}
)

// updatablePodSpecFields is what the Forbidden error of a pod update lists.
var updatablePodSpecFields = []string{
	"`spec.containers[*].image`",
	"`spec.tolerations` (only additions to existing tolerations)",
}

// MaxContainers is how many containers a pod may have. Upstream sets no
// number, but its storage sets the bound all the same: a pod and its
// status are one etcd value, at most 1.5 MiB (etcd's --max-request-bytes
// default), and every container adds a containerStatuses entry of up to a
// few KiB (name, image, image and container IDs, a state whose message
// the kubelet copies from the runtime). A pod with more containers than
// fit can be created and bound, and then its kubelet's status writes are
// refused with 413 for ever. 250 entries of 4 KiB is 1 MiB, which leaves
// the spec room; real pods have a handful.
const MaxContainers = 250

// ValidatePod checks a pod on creation.
func ValidatePod(pod *core.Pod) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&pod.ObjectMeta, true, ValidatePodName, field.NewPath("metadata"))
	allErrs = append(allErrs, validatePodSpec(&pod.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidatePodUpdate checks an update through the main pods endpoint. The new
// pod must be valid, and its spec may differ from the old one only in
// container images and added tolerations. spec.nodeName is set once, by
// pods/binding, never by an update.
func ValidatePodUpdate(newPod, oldPod *core.Pod) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newPod.ObjectMeta, &oldPod.ObjectMeta, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validatePodSpec(&newPod.Spec, specPath)...)

	if len(newPod.Spec.Containers) != len(oldPod.Spec.Containers) {
		// Containers cannot be matched up, so nothing more can be compared.
		return append(allErrs, field.Forbidden(specPath.Child("containers"), "pod updates may not add or remove containers"))
	}

	// Compare a copy of the new spec in which every field that may change
	// carries its old value: any difference left is a forbidden change.
	munged := newPod.Spec.DeepCopy()
	for i := range munged.Containers {
		munged.Containers[i].Image = oldPod.Spec.Containers[i].Image
	}

	allErrs = append(allErrs, validateOnlyAddedTolerations(newPod.Spec.Tolerations, oldPod.Spec.Tolerations, specPath.Child("tolerations"))...)
	munged.Tolerations = oldPod.Spec.Tolerations

	if newPod.Spec.NodeName != oldPod.Spec.NodeName {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("nodeName"),
			"may not be changed through an update; a pod is bound to a node through the pods/binding subresource"))
	}
	munged.NodeName = oldPod.Spec.NodeName

	// An absurd quantity is already reported, and comparing it would be slow.
	if !hasQuantityOutOfRange(newPod.Spec.Containers) && !hasQuantityOutOfRange(oldPod.Spec.Containers) &&
		!apiequality.Semantic.DeepEqual(*munged, oldPod.Spec) {
		allErrs = append(allErrs, field.Forbidden(specPath, fmt.Sprintf("pod updates may not change fields other than %s; changed: %s",
			strings.Join(updatablePodSpecFields, ","), describeSpecChanges(&oldPod.Spec, munged, specPath))))
	}
	return allErrs
}

// validateOnlyAddedTolerations lets an update append tolerations and change
// an existing toleration's tolerationSeconds, nothing else: every old
// toleration must still be there. Tolerations are matched through a set, as a
// pod may carry very many.
func validateOnlyAddedTolerations(newTolerations, oldTolerations []core.Toleration, fldPath *field.Path) field.ErrorList {
	type tolerationKey struct {
		key      string
		operator core.TolerationOperator
		value    string
		effect   core.TaintEffect
	}
	present := make(map[tolerationKey]bool, len(newTolerations))
	for _, t := range newTolerations {
		present[tolerationKey{t.Key, t.Operator, t.Value, t.Effect}] = true
	}
	for _, t := range oldTolerations {
		if !present[tolerationKey{t.Key, t.Operator, t.Value, t.Effect}] {
			return field.ErrorList{field.Forbidden(fldPath, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return nil
}

// ValidatePodStatusUpdate checks an update through pods/status: metadata
// update rules and a sane status. The spec is not the status writer's to
// change.
func ValidatePodStatusUpdate(newPod, oldPod *core.Pod) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newPod.ObjectMeta, &oldPod.ObjectMeta, field.NewPath("metadata"))
	if newPod.Spec.NodeName != oldPod.Spec.NodeName {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "nodeName"), "may not be changed directly"))
	}
	allErrs = append(allErrs, validatePodStatus(newPod, oldPod, field.NewPath("status"))...)
	return allErrs
}

// ValidatePodBinding checks a Binding posted to pods/binding: it names the
// pod, its target is a node, and its annotations, which are copied onto the
// pod, are valid annotations.
func ValidatePodBinding(binding *core.Binding) field.ErrorList {
	var allErrs field.ErrorList
	metaPath := field.NewPath("metadata")
	allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(binding.Annotations, metaPath.Child("annotations"))...)
	if binding.Name == "" {
		allErrs = append(allErrs, field.Required(metaPath.Child("name"), ""))
	} else {
		for _, msg := range ValidatePodName(binding.Name, false) {
			allErrs = append(allErrs, field.Invalid(metaPath.Child("name"), binding.Name, msg))
		}
	}
	// The request's namespace fills an empty one; a set one must be valid.
	if binding.Namespace != "" {
		for _, msg := range apimachineryvalidation.ValidateNamespaceName(binding.Namespace, false) {
			allErrs = append(allErrs, field.Invalid(metaPath.Child("namespace"), binding.Namespace, msg))
		}
	}

	targetPath := field.NewPath("target")
	if binding.Target.Kind != "" && binding.Target.Kind != "Node" {
		allErrs = append(allErrs, field.NotSupported(targetPath.Child("kind"), binding.Target.Kind, []string{"Node", "<empty>"}))
	}
	if binding.Target.Name == "" {
		allErrs = append(allErrs, field.Required(targetPath.Child("name"), ""))
	} else {
		allErrs = append(allErrs, validateNodeNameRef(binding.Target.Name, targetPath.Child("name"))...)
	}
	return allErrs
}

// validatePodSpec checks everything in a pod's spec, reporting every problem.
func validatePodSpec(spec *core.PodSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateContainers(spec.Containers, fldPath.Child("containers"))
	allErrs = append(allErrs, validateRestartPolicy(spec.RestartPolicy, fldPath.Child("restartPolicy"))...)
	if spec.TerminationGracePeriodSeconds != nil {
		allErrs = append(allErrs, validateNonnegative(*spec.TerminationGracePeriodSeconds, fldPath.Child("terminationGracePeriodSeconds"))...)
	}
	if spec.NodeName != "" {
		allErrs = append(allErrs, validateNodeNameRef(spec.NodeName, fldPath.Child("nodeName"))...)
	}
	allErrs = append(allErrs, metav1validation.ValidateLabels(spec.NodeSelector, fldPath.Child("nodeSelector"))...)
	allErrs = append(allErrs, validateAffinity(spec.Affinity, fldPath.Child("affinity"))...)
	allErrs = append(allErrs, validateTolerations(spec.Tolerations, fldPath.Child("tolerations"))...)
	allErrs = append(allErrs, validateTopologySpreadConstraints(spec.TopologySpreadConstraints, fldPath.Child("topologySpreadConstraints"))...)
	allErrs = append(allErrs, validatePriorityFields(spec, fldPath)...)
	if spec.SchedulerName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(spec.SchedulerName) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("schedulerName"), spec.SchedulerName, msg))
		}
	}
	return allErrs
}

func validateRestartPolicy(policy core.RestartPolicy, fldPath *field.Path) field.ErrorList {
	switch policy {
	case core.RestartPolicyAlways, core.RestartPolicyOnFailure, core.RestartPolicyNever:
		return nil
	case "":
		return field.ErrorList{field.Required(fldPath, "")}
	default:
		return field.ErrorList{field.NotSupported(fldPath, policy, restartPolicies)}
	}
}

func validatePullPolicy(policy core.PullPolicy, fldPath *field.Path) field.ErrorList {
	switch policy {
	case core.PullAlways, core.PullIfNotPresent, core.PullNever:
		return nil
	case "":
		return field.ErrorList{field.Required(fldPath, "")}
	default:
		return field.ErrorList{field.NotSupported(fldPath, policy, pullPolicies)}
	}
}

// validateContainers checks a pod's containers. Ports are checked across the
// pod because its containers share one network namespace: two containers
// cannot both listen on 8080/TCP.
func validateContainers(containers []core.Container, fldPath *field.Path) field.ErrorList {
	if len(containers) == 0 {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	if len(containers) > MaxContainers {
		// Checking each of thousands of containers would say little more.
		return field.ErrorList{field.TooMany(fldPath, len(containers), MaxContainers)}
	}
	var allErrs field.ErrorList
	names := map[string]bool{}
	ports := &portSet{containerPorts: map[string]bool{}, hostPorts: map[string]bool{}}
	for i := range containers {
		ctr := &containers[i]
		idxPath := fldPath.Index(i)
		namePath := idxPath.Child("name")
		switch {
		case ctr.Name == "":
			allErrs = append(allErrs, field.Required(namePath, ""))
		case names[ctr.Name]:
			allErrs = append(allErrs, field.Duplicate(namePath, ctr.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(ctr.Name) {
				allErrs = append(allErrs, field.Invalid(namePath, ctr.Name, msg))
			}
		}
		names[ctr.Name] = true

		imagePath := idxPath.Child("image")
		if ctr.Image == "" {
			allErrs = append(allErrs, field.Required(imagePath, ""))
		} else if strings.TrimSpace(ctr.Image) != ctr.Image {
			allErrs = append(allErrs, field.Invalid(imagePath, ctr.Image, "must not have leading or trailing whitespace"))
		}
		allErrs = append(allErrs, validatePullPolicy(ctr.ImagePullPolicy, idxPath.Child("imagePullPolicy"))...)
		allErrs = append(allErrs, validateEnv(ctr.Env, idxPath.Child("env"))...)
		allErrs = append(allErrs, ports.validate(ctr.Ports, idxPath.Child("ports"))...)
		allErrs = append(allErrs, validateResourceRequirements(&ctr.Resources, idxPath.Child("resources"))...)
		allErrs = append(allErrs, validateContainerProbes(ctr, idxPath)...)
	}
	return allErrs
}

// validateEnv checks environment variable names. Like kube-apiserver since
// RelaxedEnvironmentVariableValidation went GA, any printable ASCII name
// without '=' is accepted: a process can be given any such name.
func validateEnv(env []core.EnvVar, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, ev := range env {
		namePath := fldPath.Index(i).Child("name")
		if ev.Name == "" {
			allErrs = append(allErrs, field.Required(namePath, ""))
			continue
		}
		for _, msg := range validation.IsRelaxedEnvVarName(ev.Name) {
			allErrs = append(allErrs, field.Invalid(namePath, ev.Name, msg))
		}
	}
	return allErrs
}

// portSet remembers the ports already declared in a pod.
type portSet struct {
	containerPorts map[string]bool // "8080/TCP"
	hostPorts      map[string]bool
}

// validate checks one container's ports: valid numbers and names, a known
// protocol, and no port/protocol pair declared twice in the pod.
func (s *portSet) validate(ports []core.ContainerPort, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	names := map[string]bool{}
	for i, port := range ports {
		idxPath := fldPath.Index(i)
		if port.Name != "" {
			namePath := idxPath.Child("name")
			msgs := validation.IsValidPortName(port.Name)
			for _, msg := range msgs {
				allErrs = append(allErrs, field.Invalid(namePath, port.Name, msg))
			}
			if len(msgs) == 0 && names[port.Name] {
				allErrs = append(allErrs, field.Duplicate(namePath, port.Name))
			}
			names[port.Name] = true
		}

		cpPath := idxPath.Child("containerPort")
		cpValid := false
		if port.ContainerPort == 0 {
			allErrs = append(allErrs, field.Required(cpPath, ""))
		} else if msgs := validation.IsValidPortNum(int(port.ContainerPort)); len(msgs) > 0 {
			for _, msg := range msgs {
				allErrs = append(allErrs, field.Invalid(cpPath, port.ContainerPort, msg))
			}
		} else {
			cpValid = true
		}

		hpPath := idxPath.Child("hostPort")
		hpValid := false
		if port.HostPort != 0 {
			msgs := validation.IsValidPortNum(int(port.HostPort))
			for _, msg := range msgs {
				allErrs = append(allErrs, field.Invalid(hpPath, port.HostPort, msg))
			}
			hpValid = len(msgs) == 0
		}

		protoPath := idxPath.Child("protocol")
		switch port.Protocol {
		case core.ProtocolTCP, core.ProtocolUDP, core.ProtocolSCTP:
		case "":
			allErrs = append(allErrs, field.Required(protoPath, ""))
		default:
			allErrs = append(allErrs, field.NotSupported(protoPath, port.Protocol, portProtocols))
		}

		if cpValid {
			key := fmt.Sprintf("%d/%s", port.ContainerPort, port.Protocol)
			if s.containerPorts[key] {
				dup := field.Duplicate(cpPath, key)
				dup.Detail = "a port and protocol may be declared only once in a pod"
				allErrs = append(allErrs, dup)
			}
			s.containerPorts[key] = true
		}
		if hpValid {
			key := fmt.Sprintf("%d/%s", port.HostPort, port.Protocol)
			if s.hostPorts[key] {
				allErrs = append(allErrs, field.Duplicate(hpPath, key))
			}
			s.hostPorts[key] = true
		}
	}
	return allErrs
}
