package controller

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// Event reasons, upstream's.
const (
	FailedCreatePodReason     = "FailedCreate"
	SuccessfulCreatePodReason = "SuccessfulCreate"
	FailedDeletePodReason     = "FailedDelete"
	SuccessfulDeletePodReason = "SuccessfulDelete"
)

// PodControl creates and deletes pods on behalf of a controller object and
// records an event on it for each, as upstream's RealPodControl does. An
// interface so that the controllers' tests can count or fail the calls.
type PodControl interface {
	CreatePods(ctx context.Context, namespace string, template *v1alpha1.PodTemplateSpec, owner runtime.Object, ref *metav1.OwnerReference) error
	DeletePod(ctx context.Context, namespace, name string, owner runtime.Object) error
}

// RealPodControl is PodControl through the API server.
type RealPodControl struct {
	Client   clientset.Interface
	Recorder record.EventRecorder
}

var _ PodControl = RealPodControl{}

// CreatePods creates one pod from template, owned by ref.
func (r RealPodControl) CreatePods(ctx context.Context, namespace string, template *v1alpha1.PodTemplateSpec, owner runtime.Object, ref *metav1.OwnerReference) error {
	pod, err := PodFromTemplate(template, owner, ref)
	if err != nil {
		return err
	}
	if len(pod.Labels) == 0 {
		// A pod without labels could never be matched back to its owner,
		// which would create pods forever.
		return fmt.Errorf("unable to create pods, no labels")
	}
	created, err := r.Client.CoreV1alpha1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		// Upstream leaves out the event when the namespace is going away:
		// nothing can be done about it.
		if !apierrors.HasStatusCause(err, "NamespaceTerminating") {
			r.Recorder.Eventf(owner, "Warning", FailedCreatePodReason, "Error creating: %v", err)
		}
		return fmt.Errorf("create pod in %s: %w", namespace, err)
	}
	klog.V(4).InfoS("Created pod", "pod", klog.KObj(created), "owner", ref.Kind+"/"+ref.Name)
	r.Recorder.Eventf(owner, "Normal", SuccessfulCreatePodReason, "Created pod: %v", created.Name)
	return nil
}

// DeletePod deletes one pod.
func (r RealPodControl) DeletePod(ctx context.Context, namespace, name string, owner runtime.Object) error {
	if err := r.Client.CoreV1alpha1().Pods(namespace).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return err
		}
		r.Recorder.Eventf(owner, "Warning", FailedDeletePodReason, "Error deleting: %v", err)
		return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	r.Recorder.Eventf(owner, "Normal", SuccessfulDeletePodReason, "Deleted pod: %v", name)
	return nil
}

// PodFromTemplate returns the pod a controller creates from template: the
// template's labels, annotations, finalizers and spec, the name generated
// from "<owner>-", and ref as its controller.
func PodFromTemplate(template *v1alpha1.PodTemplateSpec, owner runtime.Object, ref *metav1.OwnerReference) (*v1alpha1.Pod, error) {
	accessor, err := metaAccessor(owner)
	if err != nil {
		return nil, err
	}
	prefix := accessor.GetName() + "-"
	// Too long a prefix would make every generated name invalid; upstream
	// falls back to the owner's name validated as a prefix.
	if len(apimachineryvalidation.NameIsDNSSubdomain(prefix, true)) != 0 {
		prefix = accessor.GetName()
	}
	pod := &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: prefix,
			Labels:       copyMap(template.Labels),
			Annotations:  copyMap(template.Annotations),
			Finalizers:   append([]string(nil), template.Finalizers...),
		},
	}
	if ref != nil {
		pod.OwnerReferences = append(pod.OwnerReferences, *ref)
	}
	pod.Spec = *template.Spec.DeepCopy()
	return pod, nil
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func metaAccessor(obj runtime.Object) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no object metadata", obj)
	}
	return m, nil
}
