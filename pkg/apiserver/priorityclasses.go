package apiserver

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// createSystemPriorityClassesHook is a post-start hook that creates the
// system PriorityClasses, as kube-apiserver's scheduling storage does, in
// both modes (the classes are skiff's own kind). The server reports ready
// only once they exist, so a pod naming system-node-critical is never
// refused for want of its class.
func createSystemPriorityClassesHook(hookCtx genericapiserver.PostStartHookContext) error {
	client, err := versioned.NewForConfig(hookCtx.LoopbackClientConfig)
	if err != nil {
		return fmt.Errorf("create loopback client: %w", err)
	}
	return wait.PollUntilContextCancel(hookCtx, time.Second, true, func(ctx context.Context) (bool, error) {
		for _, pc := range core.SystemPriorityClasses() {
			if err := ensurePriorityClass(ctx, client, pc); err != nil {
				klog.V(2).InfoS("Cannot create system priority class yet, retrying", "priorityClass", pc.Name, "err", err)
				return false, nil
			}
		}
		return true, nil
	})
}

// ensurePriorityClass creates pc unless a class of its name exists. One that
// exists is left as it is: validation lets a system name hold only the
// system class's value.
func ensurePriorityClass(ctx context.Context, client versioned.Interface, pc *core.PriorityClass) error {
	classes := client.CoreV1alpha1().PriorityClasses()
	if _, err := classes.Get(ctx, pc.Name, metav1.GetOptions{}); err == nil {
		return nil
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("get priority class %s: %w", pc.Name, err)
	}
	var out v1alpha1.PriorityClass
	if err := Scheme.Convert(pc, &out, nil); err != nil {
		return fmt.Errorf("convert priority class %s: %w", pc.Name, err)
	}
	if _, err := classes.Create(ctx, &out, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create priority class %s: %w", pc.Name, err)
	}
	klog.V(2).InfoS("Created system priority class", "priorityClass", pc.Name, "value", pc.Value)
	return nil
}
