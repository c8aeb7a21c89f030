package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/klog/v2"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// NewControllerRef returns the ownerReference a controller puts on what it
// creates or adopts: controller, and blocking the owner's foreground
// deletion until the dependent is gone.
func NewControllerRef(owner metav1.Object, gvk schema.GroupVersionKind) *metav1.OwnerReference {
	t := true
	return &metav1.OwnerReference{
		APIVersion:         gvk.GroupVersion().String(),
		Kind:               gvk.Kind,
		Name:               owner.GetName(),
		UID:                owner.GetUID(),
		Controller:         &t,
		BlockOwnerDeletion: &t,
	}
}

// RefManager decides which objects a controller owns, as upstream's
// BaseControllerRefManager does:
//   - an object whose controllerRef names another controller is never
//     touched (so overlapping selectors never steal each other's pods);
//   - an owned object that no longer matches the selector is released;
//   - an orphan that matches is adopted, unless the controller is being
//     deleted.
type RefManager struct {
	Controller metav1.Object
	Selector   labels.Selector
	// CanAdopt is asked once, before the first adoption: it must confirm
	// against the API server (not a cache) that the controller is not being
	// deleted, lest a deleted controller adopt pods nobody will clean up.
	CanAdopt func(ctx context.Context) error

	once        sync.Once
	canAdoptErr error
}

func (m *RefManager) canAdopt(ctx context.Context) error {
	m.once.Do(func() {
		if m.CanAdopt != nil {
			m.canAdoptErr = m.CanAdopt(ctx)
		}
	})
	return m.canAdoptErr
}

// claim decides one object: whether it is (now) owned.
func (m *RefManager) claim(ctx context.Context, obj metav1.Object, match func(metav1.Object) bool,
	adopt, release func(context.Context, metav1.Object) error) (bool, error) {
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		if ref.UID != m.Controller.GetUID() {
			return false, nil
		}
		if match(obj) {
			return true, nil
		}
		// Owned, no longer matching: release it, unless we are being
		// deleted (the garbage collector handles the dependents then).
		if m.Controller.GetDeletionTimestamp() != nil {
			return false, nil
		}
		if err := release(ctx, obj); err != nil {
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return false, err
		}
		return false, nil
	}
	if m.Controller.GetDeletionTimestamp() != nil || !match(obj) {
		return false, nil
	}
	if obj.GetDeletionTimestamp() != nil {
		return false, nil
	}
	if len(m.Controller.GetNamespace()) > 0 && m.Controller.GetNamespace() != obj.GetNamespace() {
		return false, nil
	}
	if err := m.canAdopt(ctx); err != nil {
		return false, fmt.Errorf("can't adopt %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	if err := adopt(ctx, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// PodControllerRefManager claims pods for one controller.
type PodControllerRefManager struct {
	RefManager
	Client        clientset.Interface
	ControllerGVK schema.GroupVersionKind
}

// ClaimPods returns the pods the controller owns after adopting the
// matching orphans and releasing the owned that no longer match. filters,
// when given, must all pass for a pod to match (besides the selector).
// Errors of single pods are collected; the pods claimed so far are still
// returned.
func (m *PodControllerRefManager) ClaimPods(ctx context.Context, pods []*v1alpha1.Pod, filters ...func(*v1alpha1.Pod) bool) ([]*v1alpha1.Pod, error) {
	var claimed []*v1alpha1.Pod
	var errs []error
	match := func(obj metav1.Object) bool {
		pod := obj.(*v1alpha1.Pod)
		if !m.Selector.Matches(labels.Set(pod.Labels)) {
			return false
		}
		for _, f := range filters {
			if !f(pod) {
				return false
			}
		}
		return true
	}
	for _, pod := range pods {
		ok, err := m.claim(ctx, pod, match, m.adoptPod, m.releasePod)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			claimed = append(claimed, pod)
		}
	}
	return claimed, utilerrors.NewAggregate(errs)
}

// adoptPod adds the controllerRef with a patch whose UID precondition
// makes it fail on a pod recreated under the same name meanwhile.
func (m *PodControllerRefManager) adoptPod(ctx context.Context, obj metav1.Object) error {
	ref := NewControllerRef(m.Controller, m.ControllerGVK)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []metav1.OwnerReference{*ref},
		"uid":             obj.GetUID(),
	}})
	if err != nil {
		return fmt.Errorf("encode adoption patch: %w", err)
	}
	klog.V(2).InfoS("Adopting pod", "pod", klog.KObj(obj), "controller", klog.KObj(m.Controller))
	if _, err := m.Client.CoreV1alpha1().Pods(obj.GetNamespace()).Patch(ctx, obj.GetName(), types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("adopt pod %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// releasePod removes our ownerReference; a pod gone or already
// re-owned needs nothing.
func (m *PodControllerRefManager) releasePod(ctx context.Context, obj metav1.Object) error {
	patch, err := deleteOwnerRefPatch(obj.GetUID(), m.Controller.GetUID())
	if err != nil {
		return err
	}
	klog.V(2).InfoS("Releasing pod", "pod", klog.KObj(obj), "controller", klog.KObj(m.Controller))
	_, err = m.Client.CoreV1alpha1().Pods(obj.GetNamespace()).Patch(ctx, obj.GetName(), types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil && (apierrors.IsNotFound(err) || apierrors.IsInvalid(err) || apierrors.IsConflict(err)) {
		// NotFound: gone. Invalid or Conflict: the UID precondition failed,
		// so this is another pod now and not ours.
		return nil
	}
	if err != nil {
		return fmt.Errorf("release pod %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// deleteOwnerRefPatch is the strategic merge patch that removes the
// ownerReference to ownerUID from the object with UID uid.
func deleteOwnerRefPatch(uid, ownerUID types.UID) ([]byte, error) {
	p, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []map[string]any{{"$patch": "delete", "uid": ownerUID}},
		"uid":             uid,
	}})
	if err != nil {
		return nil, fmt.Errorf("encode release patch: %w", err)
	}
	return p, nil
}

// ReplicaSetControllerRefManager claims ReplicaSets for a Deployment.
type ReplicaSetControllerRefManager struct {
	RefManager
	Client        clientset.Interface
	ControllerGVK schema.GroupVersionKind
}

// ClaimReplicaSets returns the ReplicaSets the controller owns after
// adopting the matching orphans and releasing the owned that no longer
// match.
func (m *ReplicaSetControllerRefManager) ClaimReplicaSets(ctx context.Context, rss []*appsv1alpha1.ReplicaSet) ([]*appsv1alpha1.ReplicaSet, error) {
	var claimed []*appsv1alpha1.ReplicaSet
	var errs []error
	match := func(obj metav1.Object) bool { return m.Selector.Matches(labels.Set(obj.GetLabels())) }
	for _, rs := range rss {
		ok, err := m.claim(ctx, rs, match, m.patch(true), m.patch(false))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			claimed = append(claimed, rs)
		}
	}
	return claimed, utilerrors.NewAggregate(errs)
}

func (m *ReplicaSetControllerRefManager) patch(adopt bool) func(context.Context, metav1.Object) error {
	return func(ctx context.Context, obj metav1.Object) error {
		var patch []byte
		var err error
		if adopt {
			patch, err = json.Marshal(map[string]any{"metadata": map[string]any{
				"ownerReferences": []metav1.OwnerReference{*NewControllerRef(m.Controller, m.ControllerGVK)},
				"uid":             obj.GetUID(),
			}})
		} else {
			patch, err = deleteOwnerRefPatch(obj.GetUID(), m.Controller.GetUID())
		}
		if err != nil {
			return fmt.Errorf("encode patch: %w", err)
		}
		klog.V(2).InfoS("Changing the controllerRef of a replica set", "replicaSet", klog.KObj(obj), "controller", klog.KObj(m.Controller), "adopt", adopt)
		_, err = m.Client.AppsV1alpha1().ReplicaSets(obj.GetNamespace()).Patch(ctx, obj.GetName(), types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		if err != nil && !adopt && (apierrors.IsNotFound(err) || apierrors.IsInvalid(err) || apierrors.IsConflict(err)) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("patch replica set %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
		}
		return nil
	}
}
