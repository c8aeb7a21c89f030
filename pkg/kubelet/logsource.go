package kubelet

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	listers "skiff.dev/skiff/pkg/generated/listers/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	"skiff.dev/skiff/pkg/kubelet/server"
)

// LogSource finds containers' logs for the kubelet's logs endpoint: the pod
// from the informer, the container's attempts from the runtime.
type LogSource struct {
	Pods    listers.PodLister
	Runtime runtime.Runtime
}

var _ server.LogSource = &LogSource{}

// ContainerLog implements server.LogSource.
func (s *LogSource) ContainerLog(ctx context.Context, namespace, podName, container string, previous bool) (string, func() bool, error) {
	pod, err := s.Pods.Pods(namespace).Get(podName)
	if apierrors.IsNotFound(err) {
		return "", nil, &server.Error{Code: http.StatusNotFound, Message: fmt.Sprintf("pod %s/%s not found on this node", namespace, podName)}
	}
	if err != nil {
		return "", nil, err
	}
	found := false
	for _, c := range pod.Spec.Containers {
		found = found || c.Name == container
	}
	if !found {
		return "", nil, &server.Error{Code: http.StatusBadRequest, Message: fmt.Sprintf("container %s is not valid for pod %s", container, podName)}
	}
	all, err := s.Runtime.ListContainers(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("list containers: %w", err)
	}
	latest, prev := runtime.Latest(runtime.PodContainers(all, pod.UID), container)
	target := latest
	if previous {
		target = prev
	}
	if target == nil {
		msg := fmt.Sprintf("container %q in pod %q is waiting to start", container, podName)
		if previous {
			msg = fmt.Sprintf("previous terminated container %q in pod %q not found", container, podName)
		}
		return "", nil, &server.Error{Code: http.StatusBadRequest, Message: msg}
	}
	id := target.ID
	running := func() bool {
		all, err := s.Runtime.ListContainers(context.Background())
		if err != nil {
			return false
		}
		for _, c := range all {
			if c.ID == id {
				return c.State == runtime.StateRunning
			}
		}
		return false
	}
	return target.LogPath, running, nil
}
