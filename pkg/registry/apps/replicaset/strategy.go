// Package replicaset is the registry of ReplicaSets: the rules for create,
// update and status (strategy.go), their storage with the status and scale
// subresources (storage.go) and the table kubectl prints (printing.go).
package replicaset

import (
	"context"
	"fmt"
	"strconv"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"skiff.dev/skiff/pkg/apis/apps"
	"skiff.dev/skiff/pkg/apis/apps/validation"
	"skiff.dev/skiff/pkg/registry/rules"
)

// strategy holds the rules for ReplicaSets written through the main endpoint.
type strategy struct {
	rules.Defaults
}

// NewStrategy returns the ReplicaSet strategy for typer's scheme.
func NewStrategy(typer runtime.ObjectTyper) strategy {
	return strategy{rules.NewDefaults(typer)}
}

var (
	_ rest.RESTCreateStrategy  = strategy{}
	_ rest.RESTUpdateStrategy  = strategy{}
	_ rest.RESTDeleteStrategy  = strategy{}
	_ rest.ResetFieldsStrategy = strategy{}
)

func (strategy) NamespaceScoped() bool { return true }

// GetResetFields tells server-side apply that status is not the main
// endpoint's to set.
func (strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"apps.skiff.dev/v1alpha1": fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

// PrepareForCreate starts every ReplicaSet with an empty status: only the
// controller reports what exists.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	rs := obj.(*apps.ReplicaSet)
	rs.Status = apps.ReplicaSetStatus{}
	rs.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation only when
// the spec changed, so status.observedGeneration tells the controller has
// seen a spec.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newRS, oldRS := obj.(*apps.ReplicaSet), old.(*apps.ReplicaSet)
	newRS.Status = oldRS.Status
	if !apiequality.Semantic.DeepEqual(newRS.Spec, oldRS.Spec) {
		newRS.Generation = oldRS.Generation + 1
	}
}

func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateReplicaSet(obj.(*apps.ReplicaSet)))
}

func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateReplicaSetUpdate(obj.(*apps.ReplicaSet), old.(*apps.ReplicaSet)))
}

// statusStrategy holds the rules for replicasets/status: only status changes.
type statusStrategy struct {
	strategy
}

// NewStatusStrategy returns the replicasets/status strategy.
func NewStatusStrategy(s strategy) statusStrategy { return statusStrategy{s} }

// GetResetFields tells server-side apply that spec is not
// replicasets/status's to set.
func (statusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"apps.skiff.dev/v1alpha1": fieldpath.NewSet(fieldpath.MakePathOrDie("spec")),
	}
}

// PrepareForUpdate keeps the stored spec: a status writer only reports, and
// the generation stays as it is.
func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newRS, oldRS := obj.(*apps.ReplicaSet), old.(*apps.ReplicaSet)
	newRS.Spec = oldRS.Spec
}

func (statusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateReplicaSetStatusUpdate(obj.(*apps.ReplicaSet), old.(*apps.ReplicaSet)))
}

// GetAttrs returns the labels and the selectable fields of a ReplicaSet.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	rs, ok := obj.(*apps.ReplicaSet)
	if !ok {
		return nil, nil, fmt.Errorf("not a ReplicaSet: %T", obj)
	}
	return labels.Set(rs.Labels), ToSelectableFields(rs), nil
}

// ToSelectableFields returns the fields a ReplicaSet can be selected by, as
// apps/v1's: its metadata and status.replicas.
func ToSelectableFields(rs *apps.ReplicaSet) fields.Set {
	return generic.AddObjectMetaFieldsSet(fields.Set{
		"status.replicas": strconv.Itoa(int(rs.Status.Replicas)),
	}, &rs.ObjectMeta, true)
}

// Match selects ReplicaSets by label and field.
func Match(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}
