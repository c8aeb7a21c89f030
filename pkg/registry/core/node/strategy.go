// Package node is the registry of nodes: the rules for create, update and
// status (strategy.go), storage (storage.go) and the table kubectl prints
// (printing.go).
package node

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

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/validation"
	"skiff.dev/skiff/pkg/registry/rules"
)

type strategy struct {
	rules.Defaults
}

// NewStrategy returns the node strategy for typer's scheme.
func NewStrategy(typer runtime.ObjectTyper) strategy {
	return strategy{rules.NewDefaults(typer)}
}

var (
	_ rest.RESTCreateStrategy  = strategy{}
	_ rest.RESTUpdateStrategy  = strategy{}
	_ rest.ResetFieldsStrategy = strategy{}
)

func (strategy) NamespaceScoped() bool { return false }

func (strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"core.skiff.dev/v1alpha1": fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

// PrepareForCreate keeps the status a node is created with: a kubelet
// registers its node with capacity and conditions in one request, as
// upstream's does.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*core.Node).Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation only when
// the spec changed.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newNode, oldNode := obj.(*core.Node), old.(*core.Node)
	newNode.Status = oldNode.Status
	if !apiequality.Semantic.DeepEqual(newNode.Spec, oldNode.Spec) {
		newNode.Generation = oldNode.Generation + 1
	}
}

func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateNode(obj.(*core.Node)))
}

func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateNodeUpdate(obj.(*core.Node), old.(*core.Node)))
}

type statusStrategy struct {
	strategy
}

// NewStatusStrategy returns the nodes/status strategy.
func NewStatusStrategy(s strategy) statusStrategy { return statusStrategy{s} }

func (statusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"core.skiff.dev/v1alpha1": fieldpath.NewSet(fieldpath.MakePathOrDie("spec")),
	}
}

// PrepareForUpdate keeps the stored spec: a kubelet reporting status cannot
// lift its own taints or cordon.
func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	obj.(*core.Node).Spec = old.(*core.Node).Spec
}

func (statusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateNodeStatusUpdate(obj.(*core.Node), old.(*core.Node)))
}

// GetAttrs returns the labels and selectable fields of a node.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	node, ok := obj.(*core.Node)
	if !ok {
		return nil, nil, fmt.Errorf("not a node: %T", obj)
	}
	f := generic.AddObjectMetaFieldsSet(fields.Set{
		"spec.unschedulable": strconv.FormatBool(node.Spec.Unschedulable),
	}, &node.ObjectMeta, false)
	return labels.Set(node.Labels), f, nil
}

// MatchNode selects nodes by label and field.
func MatchNode(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}
