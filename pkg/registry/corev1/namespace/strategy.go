// Package namespace is the registry of core/v1 Namespaces, with upstream's
// life cycle: a new namespace is Active and carries the `kubernetes`
// finalizer in spec.finalizers; deleting it marks it Terminating, and it is
// removed only once the namespace controller has emptied it and taken its
// finalizer off through namespaces/finalize.
package namespace

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"skiff.dev/skiff/pkg/apis/core/validation"
	"skiff.dev/skiff/pkg/registry/rules"
)

// SelectableFields are the field selectors namespaces accept, as upstream's.
var SelectableFields = []string{"metadata.name", "status.phase", "name"}

type strategy struct {
	rules.Defaults
}

var (
	_ rest.RESTCreateStrategy  = strategy{}
	_ rest.RESTUpdateStrategy  = strategy{}
	_ rest.ResetFieldsStrategy = strategy{}
)

// NewStrategy returns the main endpoint's strategy.
func NewStrategy(typer runtime.ObjectTyper) rest.RESTCreateUpdateStrategy {
	return strategy{rules.NewDefaults(typer)}
}

func (strategy) NamespaceScoped() bool { return false }

// GetResetFields: the main endpoint ignores status.
func (strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{"v1": fieldpath.NewSet(fieldpath.MakePathOrDie("status"))}
}

// PrepareForCreate makes the namespace Active and adds the namespace
// controller's finalizer, which keeps it until it is empty.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	ns := obj.(*corev1.Namespace)
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	if !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
	}
}

// PrepareForUpdate keeps spec.finalizers (written only through
// namespaces/finalize) and status (namespaces/status).
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	ns, oldNS := obj.(*corev1.Namespace), old.(*corev1.Namespace)
	ns.Spec.Finalizers = oldNS.Spec.Finalizers
	ns.Status = oldNS.Status
}

// Canonicalize sets the kubernetes.io/metadata.name label, so that
// namespace selectors can pick a namespace by name.
func (strategy) Canonicalize(obj runtime.Object) {
	ns := obj.(*corev1.Namespace)
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateNamespace(obj.(*corev1.Namespace)))
}

func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateNamespaceUpdate(obj.(*corev1.Namespace), old.(*corev1.Namespace)))
}

type statusStrategy struct {
	strategy
}

// NewStatusStrategy returns the strategy of namespaces/status.
func NewStatusStrategy(typer runtime.ObjectTyper) interface {
	rest.RESTUpdateStrategy
	rest.ResetFieldsStrategy
} {
	return statusStrategy{strategy{rules.NewDefaults(typer)}}
}

// GetResetFields: the status endpoint ignores spec.
func (statusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{"v1": fieldpath.NewSet(fieldpath.MakePathOrDie("spec"))}
}

func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	obj.(*corev1.Namespace).Spec = old.(*corev1.Namespace).Spec
}

func (statusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateNamespaceStatusUpdate(obj.(*corev1.Namespace), old.(*corev1.Namespace)))
}

type finalizeStrategy struct {
	strategy
}

// NewFinalizeStrategy returns the strategy of namespaces/finalize, which
// writes spec.finalizers and nothing else of spec or status.
func NewFinalizeStrategy(typer runtime.ObjectTyper) interface {
	rest.RESTUpdateStrategy
	rest.ResetFieldsStrategy
} {
	return finalizeStrategy{strategy{rules.NewDefaults(typer)}}
}

func (finalizeStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	obj.(*corev1.Namespace).Status = old.(*corev1.Namespace).Status
}

func (finalizeStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateNamespaceFinalizeUpdate(obj.(*corev1.Namespace), old.(*corev1.Namespace)))
}

// GetAttrs returns a namespace's labels and selectable fields.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return nil, nil, fmt.Errorf("not a namespace: %T", obj)
	}
	set := generic.AddObjectMetaFieldsSet(fields.Set{
		"status.phase": string(ns.Status.Phase),
		// Upstream keeps the old spelling for compatibility.
		"name": ns.Name,
	}, &ns.ObjectMeta, false)
	return labels.Set(ns.Labels), set, nil
}

func matchNamespace(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}
