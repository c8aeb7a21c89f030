package replicaset

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/client/statuspatch"
	"skiff.dev/skiff/pkg/controller"
)

// calculateStatus is the status rs should have given its pods and the
// outcome of the last create or delete.
func calculateStatus(rs *appsv1alpha1.ReplicaSet, pods []*v1alpha1.Pod, manageErr error, now metav1.Time) appsv1alpha1.ReplicaSetStatus {
	status := *rs.Status.DeepCopy()
	templateLabels := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	var fullyLabeled, ready, available int32
	for _, p := range pods {
		if templateLabels.Matches(labels.Set(p.Labels)) {
			fullyLabeled++
		}
		if controller.IsPodReady(p) {
			ready++
			if controller.IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	failure := condition(status.Conditions, appsv1alpha1.ReplicaSetReplicaFailure)
	switch {
	case manageErr != nil && failure == nil:
		reason := "FailedCreate"
		if len(pods) > int(replicas(rs)) {
			reason = "FailedDelete"
		}
		status.Conditions = append(status.Conditions, appsv1alpha1.ReplicaSetCondition{
			Type:               appsv1alpha1.ReplicaSetReplicaFailure,
			Status:             v1alpha1.ConditionTrue,
			LastTransitionTime: now,
			Reason:             reason,
			Message:            manageErr.Error(),
		})
	case manageErr == nil && failure != nil:
		status.Conditions = removeCondition(status.Conditions, appsv1alpha1.ReplicaSetReplicaFailure)
	}
	status.Replicas = int32(len(pods))
	status.FullyLabeledReplicas = fullyLabeled
	status.ReadyReplicas = ready
	status.AvailableReplicas = available
	return status
}

func condition(conds []appsv1alpha1.ReplicaSetCondition, t appsv1alpha1.ReplicaSetConditionType) *appsv1alpha1.ReplicaSetCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

func removeCondition(conds []appsv1alpha1.ReplicaSetCondition, t appsv1alpha1.ReplicaSetConditionType) []appsv1alpha1.ReplicaSetCondition {
	var out []appsv1alpha1.ReplicaSetCondition
	for _, c := range conds {
		if c.Type != t {
			out = append(out, c)
		}
	}
	return out
}

// updateStatus writes status (with observedGeneration) through
// replicasets/status as a strategic merge patch against the cached object:
// conditions merge by type, so a condition another writer set survives,
// and an unchanged status costs no request.
func (c *Controller) updateStatus(ctx context.Context, rs *appsv1alpha1.ReplicaSet, status appsv1alpha1.ReplicaSetStatus) (*appsv1alpha1.ReplicaSet, error) {
	status.ObservedGeneration = rs.Generation
	patch, err := statuspatch.Diff(&rs.Status, &status, appsv1alpha1.ReplicaSet{}, map[string]any{"metadata": map[string]any{"uid": rs.UID}})
	if err != nil {
		return nil, fmt.Errorf("replica set %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	if patch == nil {
		return rs, nil
	}
	klog.V(4).InfoS("Updating replica set status", "replicaSet", klog.KObj(rs),
		"replicas", status.Replicas, "fullyLabeled", status.FullyLabeledReplicas, "ready", status.ReadyReplicas,
		"available", status.AvailableReplicas, "observedGeneration", status.ObservedGeneration)
	out, err := c.client.AppsV1alpha1().ReplicaSets(rs.Namespace).Patch(ctx, rs.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		return nil, fmt.Errorf("update status of replica set %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	return out, nil
}
