package validation

import (
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

// wellKnownPodConditions may be written without a domain prefix; any other
// condition type must be a qualified name.
var wellKnownPodConditions = map[core.PodConditionType]bool{
	core.PodScheduled:    true,
	core.PodInitialized:  true,
	core.ContainersReady: true,
	core.PodReady:        true,
}

// validatePodStatus checks the status a kubelet or the scheduler writes.
// oldPod gives the restart policy and the previous status, against which
// transitions are checked.
func validatePodStatus(newPod, oldPod *core.Pod, fldPath *field.Path) field.ErrorList {
	status := &newPod.Status
	var allErrs field.ErrorList

	phasePath := fldPath.Child("phase")
	switch status.Phase {
	case "", core.PodPending, core.PodRunning, core.PodSucceeded, core.PodFailed, core.PodUnknown:
	default:
		allErrs = append(allErrs, field.NotSupported(phasePath, status.Phase, podPhases))
	}
	if isTerminal(oldPod.Status.Phase) && status.Phase != oldPod.Status.Phase {
		allErrs = append(allErrs, field.Forbidden(phasePath, "may not be changed once the pod has finished (Succeeded or Failed)"))
	}

	if status.ObservedGeneration < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("observedGeneration"), status.ObservedGeneration, "must be non-negative"))
	}

	seen := map[string]bool{}
	for i, c := range status.Conditions {
		idxPath := fldPath.Child("conditions").Index(i)
		allErrs = append(allErrs, validateConditionType(string(c.Type), wellKnownPodConditions[c.Type], seen, idxPath.Child("type"))...)
		allErrs = append(allErrs, validateConditionStatus(c.Status, idxPath.Child("status"))...)
	}

	// An address may stay as it was even if it would not pass today's
	// stricter parsing; a new one must be canonical.
	if status.HostIP != "" {
		allErrs = append(allErrs, validation.IsValidIPForLegacyField(fldPath.Child("hostIP"), status.HostIP, true, []string{oldPod.Status.HostIP})...)
	}
	if status.PodIP != "" {
		allErrs = append(allErrs, validation.IsValidIPForLegacyField(fldPath.Child("podIP"), status.PodIP, true, []string{oldPod.Status.PodIP})...)
	}

	if status.NominatedNodeName != "" {
		allErrs = append(allErrs, validateNodeNameRef(status.NominatedNodeName, fldPath.Child("nominatedNodeName"))...)
	}
	allErrs = append(allErrs, validateContainerStatuses(newPod, fldPath.Child("containerStatuses"))...)
	allErrs = append(allErrs, validateContainerStateTransition(status.ContainerStatuses, oldPod.Status.ContainerStatuses,
		oldPod.Spec.RestartPolicy, fldPath.Child("containerStatuses"))...)
	return allErrs
}

func isTerminal(phase core.PodPhase) bool {
	return phase == core.PodSucceeded || phase == core.PodFailed
}

// validateContainerStatuses checks that each status belongs to a container of
// the pod, appears once, and holds a sane state.
func validateContainerStatuses(pod *core.Pod, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	inSpec := map[string]bool{}
	for _, c := range pod.Spec.Containers {
		inSpec[c.Name] = true
	}
	seen := map[string]bool{}
	for i, cs := range pod.Status.ContainerStatuses {
		idxPath := fldPath.Index(i)
		namePath := idxPath.Child("name")
		switch {
		case cs.Name == "":
			allErrs = append(allErrs, field.Required(namePath, ""))
		case seen[cs.Name]:
			allErrs = append(allErrs, field.Duplicate(namePath, cs.Name))
		case !inSpec[cs.Name]:
			allErrs = append(allErrs, field.NotFound(namePath, cs.Name))
		}
		seen[cs.Name] = true
		allErrs = append(allErrs, validateNonnegative(int64(cs.RestartCount), idxPath.Child("restartCount"))...)
		allErrs = append(allErrs, validateContainerState(cs.State, idxPath.Child("state"))...)
		allErrs = append(allErrs, validateContainerState(cs.LastTerminationState, idxPath.Child("lastTerminationState"))...)
	}
	return allErrs
}

// validateContainerState allows at most one of waiting, running, terminated.
func validateContainerState(state core.ContainerState, fldPath *field.Path) field.ErrorList {
	n := 0
	for _, set := range []bool{state.Waiting != nil, state.Running != nil, state.Terminated != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return field.ErrorList{field.Forbidden(fldPath, "may not specify more than 1 of waiting, running, terminated")}
	}
	return nil
}

// validateContainerStateTransition forbids bringing a terminated container
// back unless the restart policy would restart it: never under Never, and
// under OnFailure only after a non-zero exit.
func validateContainerStateTransition(newStatuses, oldStatuses []core.ContainerStatus, policy core.RestartPolicy, fldPath *field.Path) field.ErrorList {
	if policy == core.RestartPolicyAlways {
		return nil
	}
	// Index the new statuses by name: a pod may have very many containers.
	byName := make(map[string][]int, len(newStatuses))
	for i, cs := range newStatuses {
		byName[cs.Name] = append(byName[cs.Name], i)
	}
	var allErrs field.ErrorList
	for _, old := range oldStatuses {
		term := old.State.Terminated
		if term == nil || (term.ExitCode != 0 && policy == core.RestartPolicyOnFailure) {
			continue
		}
		for _, i := range byName[old.Name] {
			if newStatuses[i].State.Terminated == nil {
				allErrs = append(allErrs, field.Forbidden(fldPath.Index(i).Child("state"), "may not be transitioned to non-terminated state"))
			}
		}
		delete(byName, old.Name) // report each new status once
	}
	return allErrs
}
