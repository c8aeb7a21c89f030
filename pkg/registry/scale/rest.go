// Package scale is the scale subresource of every skiff kind with a replica
// count: it speaks autoscaling/v1 Scale, as kube-apiserver's apps/v1
// resources do, so `kubectl scale` and any autoscaler work unchanged. A
// Scale is read from, and its replicas written into, the parent object
// through the parent's store, so the parent's update strategy and
// validation apply to every change.
package scale

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"skiff.dev/skiff/pkg/registry/rules"
)

// Accessor reads and writes the replica count of one kind.
type Accessor struct {
	// Replicas returns the desired and observed replica counts and the
	// selector of obj, an object of the kind.
	Replicas func(obj runtime.Object) (spec, status int32, selector *metav1.LabelSelector, err error)
	// SetReplicas sets the desired replica count of obj.
	SetReplicas func(obj runtime.Object, replicas int32) error
	// ReplicasPaths maps each served group version ("apps.skiff.dev/v1alpha1")
	// to the path of the replica count in the kind, for server-side apply to
	// carry field ownership between the Scale and its parent.
	ReplicasPaths managedfields.ResourcePathMappings
	// DefaultGroupVersion is the parent's group version when the request
	// names none (a call from inside the server).
	DefaultGroupVersion schema.GroupVersion
}

// REST is a <kind>/scale endpoint.
type REST struct {
	store    *genericregistry.Store
	accessor Accessor
}

var (
	_ rest.Patcher                  = &REST{}
	_ rest.GroupVersionKindProvider = &REST{}
	_ rest.TableConvertor           = &REST{}
)

// NewREST returns the scale endpoint of the kind stored in store.
func NewREST(store *genericregistry.Store, accessor Accessor) *REST {
	return &REST{store: store, accessor: accessor}
}

// GroupVersionKind is autoscaling/v1 Scale whatever group serves it.
func (r *REST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return autoscalingv1.SchemeGroupVersion.WithKind("Scale")
}

// New returns an empty Scale.
func (r *REST) New() runtime.Object { return &autoscalingv1.Scale{} }

// Destroy does nothing: the main store owns the storage.
func (r *REST) Destroy() {}

// Get reads the parent and returns its Scale.
func (r *REST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	obj, err := r.store.Get(ctx, name, options)
	if err != nil {
		return nil, err
	}
	return r.scaleOf(obj)
}

// Update writes the Scale's replicas into the parent. It never creates the
// parent.
func (r *REST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	info := &updatedObjectInfo{name: name, reqObjInfo: objInfo, rest: r}
	obj, _, err := rules.Update(ctx, r.store, name, info, r.scaleCreateValidation(createValidation), r.scaleUpdateValidation(updateValidation), false, options)
	if err != nil {
		return nil, false, err
	}
	out, err := r.scaleOf(obj)
	return out, false, err
}

// ConvertToTable renders a Scale with kubectl's default columns.
func (r *REST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return rest.NewDefaultTableConvertor(r.store.DefaultQualifiedResource).ConvertToTable(ctx, object, tableOptions)
}

// scaleOf returns the Scale of a parent object.
func (r *REST) scaleOf(obj runtime.Object) (*autoscalingv1.Scale, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("scale of %T: %w", obj, err)
	}
	spec, status, sel, err := r.accessor.Replicas(obj)
	if err != nil {
		return nil, err
	}
	selector := ""
	if sel != nil {
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return nil, fmt.Errorf("selector of %s: %w", m.GetName(), err)
		}
		selector = s.String()
	}
	return &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{
			Name:              m.GetName(),
			Namespace:         m.GetNamespace(),
			UID:               m.GetUID(),
			ResourceVersion:   m.GetResourceVersion(),
			CreationTimestamp: m.GetCreationTimestamp(),
		},
		Spec:   autoscalingv1.ScaleSpec{Replicas: spec},
		Status: autoscalingv1.ScaleStatus{Replicas: status, Selector: selector},
	}, nil
}

// scaleCreateValidation and scaleUpdateValidation hand admission the Scale,
// not the parent, as kube-apiserver does: admission of a scale request sees
// the kind the client sent.
func (r *REST) scaleCreateValidation(f rest.ValidateObjectFunc) rest.ValidateObjectFunc {
	return func(ctx context.Context, obj runtime.Object) error {
		scale, err := r.scaleOf(obj)
		if err != nil {
			return err
		}
		return f(ctx, scale)
	}
}

func (r *REST) scaleUpdateValidation(f rest.ValidateObjectUpdateFunc) rest.ValidateObjectUpdateFunc {
	return func(ctx context.Context, obj, old runtime.Object) error {
		newScale, err := r.scaleOf(obj)
		if err != nil {
			return err
		}
		oldScale, err := r.scaleOf(old)
		if err != nil {
			return err
		}
		return f(ctx, newScale, oldScale)
	}
}

// updatedObjectInfo turns the client's Scale into the updated parent.
type updatedObjectInfo struct {
	name       string
	reqObjInfo rest.UpdatedObjectInfo
	rest       *REST
}

func (i *updatedObjectInfo) Preconditions() *metav1.Preconditions {
	return i.reqObjInfo.Preconditions()
}

func (i *updatedObjectInfo) UpdatedObject(ctx context.Context, oldObj runtime.Object) (runtime.Object, error) {
	parent := oldObj.DeepCopyObject()
	m, err := meta.Accessor(parent)
	if err != nil {
		return nil, fmt.Errorf("scale of %T: %w", parent, err)
	}
	resource := i.rest.store.DefaultQualifiedResource
	if m.GetResourceVersion() == "" {
		// The store hands a zero object when the parent does not exist.
		return nil, apierrors.NewNotFound(schema.GroupResource{Group: resource.Group, Resource: resource.Resource + "/scale"}, i.name)
	}

	groupVersion := i.rest.accessor.DefaultGroupVersion
	if info, ok := genericapirequest.RequestInfoFrom(ctx); ok {
		gv := schema.GroupVersion{Group: info.APIGroup, Version: info.APIVersion}
		if _, known := i.rest.accessor.ReplicasPaths[gv.String()]; known {
			groupVersion = gv
		}
	}
	managedFields := managedfields.NewScaleHandler(m.GetManagedFields(), groupVersion, i.rest.accessor.ReplicasPaths)

	oldScale, err := i.rest.scaleOf(parent)
	if err != nil {
		return nil, err
	}
	if oldScale.ManagedFields, err = managedFields.ToSubresource(); err != nil {
		return nil, fmt.Errorf("managed fields of %s/scale: %w", i.name, err)
	}
	newObj, err := i.reqObjInfo.UpdatedObject(ctx, oldScale)
	if err != nil {
		return nil, err
	}
	scale, ok := newObj.(*autoscalingv1.Scale)
	if !ok || scale == nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected an autoscaling/v1 Scale, got %T", newObj))
	}
	if errs := validateScale(scale); len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: autoscalingv1.GroupName, Kind: "Scale"}, i.name, errs)
	}
	if scale.UID != "" && scale.UID != m.GetUID() {
		return nil, apierrors.NewConflict(schema.GroupResource{Group: resource.Group, Resource: resource.Resource + "/scale"}, i.name,
			fmt.Errorf("precondition failed: UID in precondition: %v, UID in object meta: %v", scale.UID, m.GetUID()))
	}
	if err := i.rest.accessor.SetReplicas(parent, scale.Spec.Replicas); err != nil {
		return nil, err
	}
	// The Scale's resourceVersion is the parent's: a client that read an old
	// Scale gets a conflict.
	m.SetResourceVersion(scale.ResourceVersion)
	entries, err := managedFields.ToParent(scale.ManagedFields)
	if err != nil {
		return nil, fmt.Errorf("managed fields of %s from its scale: %w", i.name, err)
	}
	m.SetManagedFields(entries)
	return parent, nil
}

// validateScale checks what a client may set in a Scale: its name and a
// non-negative replica count.
func validateScale(scale *autoscalingv1.Scale) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&scale.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(scale.Spec.Replicas), field.NewPath("spec", "replicas"))...)
}

// ReplicasPath is the path of spec.replicas, where every skiff kind keeps
// its replica count.
var ReplicasPath = fieldpath.MakePathOrDie("spec", "replicas")
