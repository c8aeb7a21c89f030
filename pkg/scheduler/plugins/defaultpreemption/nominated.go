package defaultpreemption

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/client/statuspatch"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// clearNominatedNodeName removes status.nominatedNodeName with a strategic
// merge patch of pods/status; the informer's update then drops the
// nomination from the queue.
func clearNominatedNodeName(ctx context.Context, h framework.Handle, pod *v1alpha1.Pod) error {
	if pod.Status.NominatedNodeName == "" {
		return nil
	}
	status := pod.Status.DeepCopy()
	status.NominatedNodeName = ""
	patch, err := statuspatch.Pod(pod.UID, &pod.Status, status)
	if err != nil || patch == nil {
		return err
	}
	_, err = h.ClientSet().CoreV1alpha1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("clear nominatedNodeName of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}
