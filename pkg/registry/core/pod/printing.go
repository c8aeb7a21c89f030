package pod

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/registry/table"
)

var tableConvertor = table.New([]metav1.TableColumnDefinition{
	table.Column("Name", "string", "Name of the pod.", false),
	table.Column("Ready", "string", "Ready containers out of all containers.", false),
	table.Column("Status", "string", "The pod's phase, or why it is not running.", false),
	table.Column("Restarts", "string", "Container restarts, and when the last one was.", false),
	table.Column("Age", "string", "Time since the pod was created.", false),
	table.Column("IP", "string", "The pod's IP address.", true),
	table.Column("Node", "string", "The node the pod is bound to.", true),
	table.Column("Nominated Node", "string", "The node preemption freed room on for the pod, before it is bound.", true),
}, printPod)

func printPod(obj runtime.Object) ([]interface{}, error) {
	pod, ok := obj.(*core.Pod)
	if !ok {
		return nil, fmt.Errorf("not a pod: %T", obj)
	}
	ready, restarts := 0, int32(0)
	var lastRestart metav1.Time
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Ready && cs.State.Running != nil {
			ready++
		}
		restarts += cs.RestartCount
		if t := cs.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(lastRestart.Time) {
			lastRestart = t.FinishedAt
		}
	}
	restartText := fmt.Sprint(restarts)
	if restarts > 0 && !lastRestart.IsZero() {
		restartText = fmt.Sprintf("%d (%s ago)", restarts, table.Age(lastRestart))
	}
	return []interface{}{
		pod.Name,
		fmt.Sprintf("%d/%d", ready, len(pod.Spec.Containers)),
		PodStatusText(pod),
		restartText,
		table.Age(pod.CreationTimestamp),
		orNone(pod.Status.PodIP),
		orNone(pod.Spec.NodeName),
		orNone(pod.Status.NominatedNodeName),
	}, nil
}

// PodStatusText is the STATUS column: the phase, unless a reason, a waiting
// or terminated container, or a pending deletion says more, as kubectl shows
// for core pods.
func PodStatusText(pod *core.Pod) string {
	reason := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	hasRunning := false
	for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
		cs := pod.Status.ContainerStatuses[i]
		switch {
		case cs.State.Running != nil && cs.Ready:
			hasRunning = true
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			reason = cs.State.Waiting.Reason
		case cs.State.Terminated != nil && cs.State.Terminated.Reason != "":
			reason = cs.State.Terminated.Reason
		case cs.State.Terminated != nil && cs.State.Terminated.Signal != 0:
			reason = fmt.Sprintf("Signal:%d", cs.State.Terminated.Signal)
		case cs.State.Terminated != nil:
			reason = fmt.Sprintf("ExitCode:%d", cs.State.Terminated.ExitCode)
		}
	}
	// A finished container beside a running one does not make the pod
	// Completed, as kubectl shows it.
	if reason == "Completed" && hasRunning {
		reason = "NotReady"
		for _, c := range pod.Status.Conditions {
			if c.Type == core.PodReady && c.Status == core.ConditionTrue {
				reason = string(core.PodRunning)
			}
		}
	}
	if pod.DeletionTimestamp != nil {
		reason = "Terminating"
	}
	return reason
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
