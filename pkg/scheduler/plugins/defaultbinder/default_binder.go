// Package defaultbinder binds a pod through the pods/binding subresource,
// as upstream's DefaultBinder plugin does.
package defaultbinder

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "DefaultBinder"

// DefaultBinder is the plugin.
type DefaultBinder struct {
	handle framework.Handle
}

var _ framework.BindPlugin = &DefaultBinder{}

// New returns the plugin; it binds with the handle's client.
func New(h framework.Handle) (framework.Plugin, error) {
	if h.ClientSet() == nil {
		return nil, fmt.Errorf("%s needs a client", Name)
	}
	return &DefaultBinder{handle: h}, nil
}

// Name returns the plugin's name.
func (*DefaultBinder) Name() string { return Name }

// Bind POSTs the Binding. The error keeps the API status so the caller can
// tell a conflict (bound already) or a deleted pod from a failure.
func (b *DefaultBinder) Bind(ctx context.Context, _ *framework.CycleState, pod *v1alpha1.Pod, nodeName string) *framework.Status {
	klog.FromContext(ctx).V(3).Info("Attempting to bind pod to node", "pod", klog.KObj(pod), "node", nodeName)
	binding := &v1alpha1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     v1alpha1.ObjectReference{Kind: "Node", Name: nodeName},
	}
	if _, err := b.handle.ClientSet().CoreV1alpha1().Pods(pod.Namespace).Bind(ctx, pod.Name, binding, metav1.CreateOptions{}); err != nil {
		return framework.AsStatus(fmt.Errorf("bind pod %s/%s to node %s: %w", pod.Namespace, pod.Name, nodeName, err))
	}
	return nil
}
