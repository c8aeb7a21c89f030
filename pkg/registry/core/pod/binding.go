package pod

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	storeerr "k8s.io/apiserver/pkg/storage/errors"
	"k8s.io/apiserver/pkg/util/dryrun"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/validation"
	"skiff.dev/skiff/pkg/registry/rules"
)

// BindingREST is pods/binding (and the top-level bindings resource): the only
// way a pod gets its node.
type BindingREST struct {
	store *registry.Store
}

var (
	_ rest.NamedCreater         = &BindingREST{}
	_ rest.Scoper               = &BindingREST{}
	_ rest.SingularNameProvider = &BindingREST{}
)

// New returns an empty binding.
func (r *BindingREST) New() runtime.Object { return &core.Binding{} }

// Destroy does nothing: the pod store owns the storage.
func (r *BindingREST) Destroy() {}

// NamespaceScoped: bindings live in their pod's namespace.
func (r *BindingREST) NamespaceScoped() bool { return true }

// PreserveRequestObjectMetaSystemFieldsOnSubresourceCreate keeps the UID a
// binder sends, so a binding made for an earlier pod of the same name fails
// its precondition instead of binding the new one.
func (r *BindingREST) PreserveRequestObjectMetaSystemFieldsOnSubresourceCreate() bool { return true }

// GetSingularName names one binding.
func (r *BindingREST) GetSingularName() string { return "binding" }

// Create binds the pod named by the binding (and by the URL, for
// pods/binding) to the target node, in one storage transaction.
func (r *BindingREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	binding, ok := obj.(*core.Binding)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a Binding: %T", obj))
	}
	if name != "" && name != binding.Name {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("name in URL (%q) does not match name in Binding object (%q)", name, binding.Name))
	}
	if errs := validation.ValidatePodBinding(binding); len(errs) != 0 {
		return nil, apierrors.NewInvalid(core.Kind("Binding"), binding.Name, rules.LimitErrors(errs))
	}
	if createValidation != nil {
		if err := createValidation(ctx, binding.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	if err := r.bind(ctx, binding, dryrun.IsDryRun(options.DryRun)); err != nil {
		return nil, err
	}
	return &metav1.Status{Status: metav1.StatusSuccess, Code: 201}, nil
}

// bind sets spec.nodeName and the PodScheduled condition inside
// GuaranteedUpdate, so of two binders racing for one pod exactly one wins and
// the other sees the pod already bound.
func (r *BindingREST) bind(ctx context.Context, binding *core.Binding, dryRun bool) error {
	key, err := r.store.KeyFunc(ctx, binding.Name)
	if err != nil {
		return err
	}
	var preconditions *storage.Preconditions
	if binding.UID != "" {
		preconditions = storage.NewUIDPreconditions(string(binding.UID))
	}
	nodeName := binding.Target.Name
	err = r.store.Storage.GuaranteedUpdate(ctx, key, &core.Pod{}, false, preconditions,
		storage.SimpleUpdate(func(obj runtime.Object) (runtime.Object, error) {
			pod, ok := obj.(*core.Pod)
			if !ok {
				return nil, fmt.Errorf("stored object is not a pod: %T", obj)
			}
			if pod.DeletionTimestamp != nil {
				return nil, apierrors.NewConflict(core.Resource("pods/binding"), pod.Name,
					fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", pod.Name))
			}
			if pod.Spec.NodeName != "" {
				return nil, apierrors.NewConflict(core.Resource("pods/binding"), pod.Name,
					fmt.Errorf("pod %s is already assigned to node %q", pod.Name, pod.Spec.NodeName))
			}
			if binding.ResourceVersion != "" && binding.ResourceVersion != pod.ResourceVersion {
				return nil, apierrors.NewConflict(core.Resource("pods/binding"), pod.Name,
					fmt.Errorf("pod %s has resourceVersion %s, binding expected %s", pod.Name, pod.ResourceVersion, binding.ResourceVersion))
			}
			pod.Spec.NodeName = nodeName
			pod.Generation++
			for k, v := range binding.Annotations {
				if pod.Annotations == nil {
					pod.Annotations = map[string]string{}
				}
				pod.Annotations[k] = v
			}
			// Each set of annotations may be valid and their union too
			// large; the pod is not validated again on this path.
			if len(binding.Annotations) > 0 {
				if errs := apimachineryvalidation.ValidateAnnotations(pod.Annotations, field.NewPath("metadata", "annotations")); len(errs) > 0 {
					return nil, apierrors.NewInvalid(core.Kind("Binding"), binding.Name, rules.LimitErrors(errs))
				}
			}
			setCondition(&pod.Status, core.PodCondition{
				Type:               core.PodScheduled,
				Status:             core.ConditionTrue,
				LastTransitionTime: metav1.Now(),
			})
			return pod, nil
		}), dryRun, nil)
	if _, isStatus := err.(apierrors.APIStatus); err != nil && !isStatus {
		// A raw storage error: not found, or a failed UID precondition.
		return storeerr.InterpretUpdateError(err, core.Resource("pods"), binding.Name)
	}
	return err
}

// setCondition replaces the condition of the same type, or appends it.
func setCondition(status *core.PodStatus, c core.PodCondition) {
	for i := range status.Conditions {
		if status.Conditions[i].Type == c.Type {
			status.Conditions[i] = c
			return
		}
	}
	status.Conditions = append(status.Conditions, c)
}
