// Package status computes a pod's status from what its runtime reports, and
// writes it to pods/status only when it changed, as upstream's status
// manager does.
package status

import (
	"fmt"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// Waiting reasons the kubelet itself gives.
const (
	ReasonContainerCreating = "ContainerCreating"
	ReasonCrashLoopBackOff  = "CrashLoopBackOff"
	ReasonImagePullBackOff  = "ImagePullBackOff"
	// ReasonContainerStatusUnknown: a container of a finished pod the
	// runtime no longer knows.
	ReasonContainerStatusUnknown = "ContainerStatusUnknown"
	reasonContainersNotReady     = "ContainersNotReady"
	reasonPodCompleted           = "PodCompleted"
)

// Input is everything a pod's status is computed from.
type Input struct {
	Pod *v1alpha1.Pod
	// Containers are the pod's containers in the runtime, every attempt.
	Containers []runtime.Container
	// Waiting holds, by container name, why a container that is not running
	// waits (CrashLoopBackOff, ErrImagePull, ...), as the pod worker decided.
	// A container that exited and is not in Waiting will not restart.
	Waiting map[string]v1alpha1.ContainerStateWaiting
	// RuntimeType prefixes container IDs.
	RuntimeType string
	HostIP      string
	PodIP       string
	// Old is the status this one follows: the times of unchanged conditions
	// and the start time carry over from it.
	Old v1alpha1.PodStatus
	// Terminating is set once the pod is being deleted: its containers will
	// not run again, so the phase is final (Succeeded or Failed).
	Terminating bool
	Now         time.Time
	// Probes, if set, says whether a running container (by name and
	// runtime ID) has started and is ready, from its startup and readiness
	// probes. Without it a running container is started and ready.
	Probes func(name, containerID string) (started, ready bool)
}

// Compute returns the pod's status. It is a pure function of its input.
func Compute(in Input) v1alpha1.PodStatus {
	now := apiTime(in.Now)
	st := v1alpha1.PodStatus{
		// The status describes the pod as its spec is now: the kubelet acts
		// on the spec it was given before it reports.
		ObservedGeneration: in.Pod.Generation,
		HostIP:             in.HostIP,
		PodIP:              in.PodIP,
		StartTime:          in.Old.StartTime,
		Reason:             in.Old.Reason,
		Message:            in.Old.Message,
	}
	if st.StartTime == nil {
		st.StartTime = &now
	}
	for i := range in.Pod.Spec.Containers {
		c := &in.Pod.Spec.Containers[i]
		latest, previous := runtime.Latest(in.Containers, c.Name)
		var waiting *v1alpha1.ContainerStateWaiting
		if w, ok := in.Waiting[c.Name]; ok {
			waiting = &w
		}
		st.ContainerStatuses = append(st.ContainerStatuses, containerStatus(c, latest, previous, waiting, in.RuntimeType, in.Probes))
	}
	st.Phase = Phase(in.Pod.Spec.RestartPolicy, st.ContainerStatuses, in.Terminating)
	// A pod never leaves a terminal phase.
	if in.Old.Phase == v1alpha1.PodSucceeded || in.Old.Phase == v1alpha1.PodFailed {
		st.Phase = in.Old.Phase
	}
	if st.Phase == v1alpha1.PodSucceeded || st.Phase == v1alpha1.PodFailed {
		finalContainerStatuses(st.ContainerStatuses, in.Old.ContainerStatuses)
	}
	st.Conditions = conditions(in, st, now)
	return st
}

// finalContainerStatuses makes the containers of a finished pod show that
// nothing of it runs: a container still running (the kubelet is stopping
// it) shows ContainerStatusUnknown, as upstream's kubelet reports it, and is
// not ready; one the runtime no longer reports keeps the terminated state it
// had.
func finalContainerStatuses(statuses, old []v1alpha1.ContainerStatus) {
	for i := range statuses {
		cs := &statuses[i]
		if cs.State.Terminated != nil {
			continue
		}
		if cs.State.Running != nil {
			started := false
			cs.Ready, cs.Started = false, &started
			cs.State = v1alpha1.ContainerState{Terminated: &v1alpha1.ContainerStateTerminated{
				ExitCode: 137, Reason: ReasonContainerStatusUnknown,
				Message: "The container could not be located when the pod was terminated",
			}}
			continue
		}
		if cs.ContainerID != "" {
			continue // it waits to run again; it will not, but that is how it ended
		}
		for _, o := range old {
			if o.Name == cs.Name && o.State.Terminated != nil {
				*cs = *o.DeepCopy() // the runtime forgot it: it ended as it was last seen
			}
		}
	}
}

func containerStatus(spec *v1alpha1.Container, latest, previous *runtime.Container, waiting *v1alpha1.ContainerStateWaiting, runtimeType string,
	probes func(name, containerID string) (started, ready bool)) v1alpha1.ContainerStatus {
	cs := v1alpha1.ContainerStatus{Name: spec.Name, Image: spec.Image}
	started := false
	cs.Started = &started
	if latest == nil {
		if waiting == nil {
			waiting = &v1alpha1.ContainerStateWaiting{Reason: ReasonContainerCreating}
		}
		cs.State.Waiting = waiting
		return cs
	}
	cs.RestartCount = int32(latest.Attempt)
	cs.ContainerID = runtime.ContainerID(runtimeType, latest.ID)
	cs.ImageID = latest.ImageID
	if latest.Image != "" {
		cs.Image = latest.Image
	}
	if previous != nil && previous.State == runtime.StateExited {
		cs.LastTerminationState.Terminated = terminated(previous, runtimeType)
	}
	switch latest.State {
	case runtime.StateRunning:
		// Without probes a running container is started and ready.
		started, cs.Ready = true, true
		if probes != nil {
			started, cs.Ready = probes(spec.Name, latest.ID)
		}
		cs.State.Running = &v1alpha1.ContainerStateRunning{StartedAt: apiTime(latest.StartedAt)}
	case runtime.StateExited:
		if waiting != nil {
			// It will run again: it waits, and its last run is history.
			cs.State.Waiting = waiting
			cs.LastTerminationState.Terminated = terminated(latest, runtimeType)
		} else {
			cs.State.Terminated = terminated(latest, runtimeType)
		}
	default:
		if waiting == nil {
			waiting = &v1alpha1.ContainerStateWaiting{Reason: ReasonContainerCreating}
		}
		cs.State.Waiting = waiting
	}
	return cs
}

func terminated(c *runtime.Container, runtimeType string) *v1alpha1.ContainerStateTerminated {
	return &v1alpha1.ContainerStateTerminated{
		ExitCode:    c.ExitCode,
		Signal:      c.Signal,
		Reason:      c.Reason,
		Message:     c.Message,
		StartedAt:   apiTime(c.StartedAt),
		FinishedAt:  apiTime(c.FinishedAt),
		ContainerID: runtime.ContainerID(runtimeType, c.ID),
	}
}

// Phase is the pod phase its container statuses imply, as upstream's
// kubelet computes it: a container that waits to run for the first time
// keeps the pod Pending; one that waits to run again counts as stopped.
// Once terminating, containers do not restart whatever the policy.
func Phase(policy v1alpha1.RestartPolicy, statuses []v1alpha1.ContainerStatus, terminating bool) v1alpha1.PodPhase {
	var pending, running, stopped, succeeded int
	for _, cs := range statuses {
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.LastTerminationState.Terminated != nil:
			stopped++
		default:
			pending++
		}
	}
	switch {
	case terminating && running == 0:
		if pending == 0 && stopped == succeeded {
			return v1alpha1.PodSucceeded
		}
		return v1alpha1.PodFailed
	case pending > 0:
		return v1alpha1.PodPending
	case running > 0:
		return v1alpha1.PodRunning
	case stopped == 0:
		return v1alpha1.PodPending
	case policy == v1alpha1.RestartPolicyAlways:
		return v1alpha1.PodRunning // every container is on its way back
	case stopped == succeeded:
		return v1alpha1.PodSucceeded
	case policy == v1alpha1.RestartPolicyNever:
		return v1alpha1.PodFailed
	default:
		return v1alpha1.PodRunning // OnFailure: the failed ones restart
	}
}

// conditions returns the kubelet's pod conditions, in the order upstream
// shows them, keeping any condition someone else set.
func conditions(in Input, st v1alpha1.PodStatus, now metav1.Time) []v1alpha1.PodCondition {
	var unready []string
	for _, cs := range st.ContainerStatuses {
		if !cs.Ready {
			unready = append(unready, cs.Name)
		}
	}
	sort.Strings(unready)
	ready := v1alpha1.PodCondition{Type: v1alpha1.ContainersReady, Status: v1alpha1.ConditionTrue}
	switch {
	case st.Phase == v1alpha1.PodSucceeded:
		ready.Status, ready.Reason = v1alpha1.ConditionFalse, reasonPodCompleted
	case len(unready) > 0:
		ready.Status, ready.Reason = v1alpha1.ConditionFalse, reasonContainersNotReady
		ready.Message = fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	}
	podReady := ready
	podReady.Type = v1alpha1.PodReady
	scheduled := v1alpha1.PodCondition{Type: v1alpha1.PodScheduled, Status: v1alpha1.ConditionTrue}
	if old := findCondition(in.Old.Conditions, v1alpha1.PodScheduled); old != nil {
		scheduled = *old
	}
	out := []v1alpha1.PodCondition{
		{Type: v1alpha1.PodInitialized, Status: v1alpha1.ConditionTrue},
		podReady,
		ready,
		scheduled,
	}
	for i := range out {
		out[i].LastTransitionTime = now
		if old := findCondition(in.Old.Conditions, out[i].Type); old != nil && old.Status == out[i].Status {
			out[i].LastTransitionTime = old.LastTransitionTime
		}
	}
	for _, c := range in.Old.Conditions {
		if findCondition(out, c.Type) == nil {
			out = append(out, c)
		}
	}
	return out
}

func findCondition(cs []v1alpha1.PodCondition, t v1alpha1.PodConditionType) *v1alpha1.PodCondition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

// apiTime is t as the API stores it: whole seconds, so a status computed
// twice from the same facts is equal to itself after a round trip.
func apiTime(t time.Time) metav1.Time {
	if t.IsZero() {
		return metav1.Time{}
	}
	return metav1.NewTime(t.UTC().Truncate(time.Second))
}
