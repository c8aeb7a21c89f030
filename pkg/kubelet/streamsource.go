package kubelet

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	listers "skiff.dev/skiff/pkg/generated/listers/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	"skiff.dev/skiff/pkg/kubelet/server"
)

// StreamSource finds the pods and containers of the kubelet's streaming
// endpoints (exec, attach, port-forward): the pod from the informer, the
// container's running attempt from the runtime.
type StreamSource struct {
	Pods    listers.PodLister
	Runtime runtime.Runtime
}

var _ server.StreamSource = &StreamSource{}

// StreamPod implements server.StreamSource.
func (s *StreamSource) StreamPod(_ context.Context, namespace, name string) (*v1alpha1.Pod, error) {
	pod, err := s.Pods.Pods(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil, &server.Error{Code: http.StatusNotFound, Message: fmt.Sprintf("pod %s/%s not found on this node", namespace, name)}
	}
	if err != nil {
		return nil, fmt.Errorf("get pod %s/%s: %w", namespace, name, err)
	}
	if pod.DeletionTimestamp != nil {
		return nil, &server.Error{Code: http.StatusBadRequest, Message: fmt.Sprintf("pod %s/%s is being deleted", namespace, name)}
	}
	return pod, nil
}

// StreamContainer implements server.StreamSource.
func (s *StreamSource) StreamContainer(ctx context.Context, namespace, name, container string) (*v1alpha1.Pod, *v1alpha1.Container, string, error) {
	pod, err := s.StreamPod(ctx, namespace, name)
	if err != nil {
		return nil, nil, "", err
	}
	var spec *v1alpha1.Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == container {
			spec = &pod.Spec.Containers[i]
		}
	}
	if spec == nil {
		return nil, nil, "", &server.Error{Code: http.StatusBadRequest, Message: fmt.Sprintf("container %s is not valid for pod %s", container, name)}
	}
	all, err := s.Runtime.ListContainers(ctx)
	if err != nil {
		return nil, nil, "", fmt.Errorf("list containers: %w", err)
	}
	latest, _ := runtime.Latest(runtime.PodContainers(all, pod.UID), container)
	if latest == nil || latest.State != runtime.StateRunning {
		return nil, nil, "", &server.Error{Code: http.StatusBadRequest, Message: fmt.Sprintf("container %s in pod %s is not running", container, name)}
	}
	return pod, spec, latest.ID, nil
}
