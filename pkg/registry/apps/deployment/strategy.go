// Package deployment is the registry of Deployments: the rules for create,
// update and status (strategy.go), their storage with the status and scale
// subresources (storage.go) and the table kubectl prints (printing.go).
package deployment

import (
	"context"
	"fmt"

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

// strategy holds the rules for Deployments written through the main endpoint.
type strategy struct {
	rules.Defaults
}

// NewStrategy returns the Deployment strategy for typer's scheme.
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

// PrepareForCreate starts every Deployment with an empty status: only the
// controller reports what exists.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	d := obj.(*apps.Deployment)
	d.Status = apps.DeploymentStatus{}
	d.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when the
// spec changed, so status.observedGeneration tells whether the controller
// has seen a spec. As upstream, a change of annotations also bumps it: the
// controller copies a Deployment's annotations to its ReplicaSets, so it has
// work to do.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newD, oldD := obj.(*apps.Deployment), old.(*apps.Deployment)
	newD.Status = oldD.Status
	if !apiequality.Semantic.DeepEqual(newD.Spec, oldD.Spec) ||
		!apiequality.Semantic.DeepEqual(newD.Annotations, oldD.Annotations) {
		newD.Generation = oldD.Generation + 1
	}
}

func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateDeployment(obj.(*apps.Deployment)))
}

func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateDeploymentUpdate(obj.(*apps.Deployment), old.(*apps.Deployment)))
}

// statusStrategy holds the rules for deployments/status: only status changes.
type statusStrategy struct {
	strategy
}

// NewStatusStrategy returns the deployments/status strategy.
func NewStatusStrategy(s strategy) statusStrategy { return statusStrategy{s} }

// GetResetFields tells server-side apply that spec is not
// deployments/status's to set.
func (statusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"apps.skiff.dev/v1alpha1": fieldpath.NewSet(fieldpath.MakePathOrDie("spec")),
	}
}

// PrepareForUpdate keeps the stored spec: a status writer only reports, and
// the generation stays as it is.
func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newD, oldD := obj.(*apps.Deployment), old.(*apps.Deployment)
	newD.Spec = oldD.Spec
}

func (statusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateDeploymentStatusUpdate(obj.(*apps.Deployment), old.(*apps.Deployment)))
}

// GetAttrs returns the labels and the selectable fields of a Deployment.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	d, ok := obj.(*apps.Deployment)
	if !ok {
		return nil, nil, fmt.Errorf("not a Deployment: %T", obj)
	}
	return labels.Set(d.Labels), generic.ObjectMetaFieldsSet(&d.ObjectMeta, true), nil
}

// Match selects Deployments by label and metadata field.
func Match(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}
