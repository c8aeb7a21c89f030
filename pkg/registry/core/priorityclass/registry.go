// Package priorityclass is the registry of PriorityClasses: cluster-scoped
// names for pod priorities, which the Priority admission plugin resolves
// into a pod's spec.priority. The system classes (system-node-critical,
// system-cluster-critical) are created at start and may not be deleted.
package priorityclass

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/validation"
	"skiff.dev/skiff/pkg/registry/rules"
	"skiff.dev/skiff/pkg/registry/table"
)

type strategy struct {
	rules.Defaults
}

// NewStrategy returns the PriorityClass strategy for typer's scheme.
func NewStrategy(typer runtime.ObjectTyper) strategy {
	return strategy{rules.NewDefaults(typer)}
}

var (
	_ rest.RESTCreateStrategy = strategy{}
	_ rest.RESTUpdateStrategy = strategy{}
)

func (strategy) NamespaceScoped() bool { return false }

// PrepareForCreate sets the generation; a class has no status.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*core.PriorityClass).Generation = 1
}

// PrepareForUpdate bumps the generation when anything but metadata changed.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	pc, oldPC := obj.(*core.PriorityClass), old.(*core.PriorityClass)
	if pc.Description != oldPC.Description || pc.GlobalDefault != oldPC.GlobalDefault ||
		pc.Value != oldPC.Value || !samePolicy(pc.PreemptionPolicy, oldPC.PreemptionPolicy) {
		pc.Generation = oldPC.Generation + 1
	}
}

func samePolicy(a, b *core.PreemptionPolicy) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidatePriorityClass(obj.(*core.PriorityClass)))
}

func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidatePriorityClassUpdate(obj.(*core.PriorityClass), old.(*core.PriorityClass)))
}

// REST is the priorityclasses endpoint.
type REST struct {
	rules.Store
}

var (
	_ rest.ShortNamesProvider = &REST{}
	_ rest.GracefulDeleter    = &REST{}
)

// ShortNames lets `kubectl get pc` work, as upstream.
func (*REST) ShortNames() []string { return []string{"pc"} }

// Delete refuses to delete a system class: pods of the control plane name
// them, and a pod naming a class that is gone cannot be created.
func (r *REST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	for _, pc := range core.SystemPriorityClasses() {
		if pc.Name == name {
			return nil, false, apierrors.NewForbidden(core.Resource("priorityclasses"), name,
				errors.New("this is a system priority class and cannot be deleted"))
		}
	}
	return r.Store.Delete(ctx, name, deleteValidation, options)
}

// NewREST builds the priorityclasses endpoint.
func NewREST(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (*REST, error) {
	s := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &core.PriorityClass{} },
		NewListFunc:               func() runtime.Object { return &core.PriorityClassList{} },
		DefaultQualifiedResource:  core.Resource("priorityclasses"),
		SingularQualifiedResource: core.Resource("priorityclass"),
		CreateStrategy:            s,
		UpdateStrategy:            s,
		DeleteStrategy:            s,
		TableConvertor:            TableConvertor,
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter}); err != nil {
		return nil, fmt.Errorf("complete priorityclass storage: %w", err)
	}
	return &REST{rules.Store{Store: store}}, nil
}

// TableConvertor prints upstream's columns for `kubectl get priorityclasses`.
var TableConvertor = table.New([]metav1.TableColumnDefinition{
	table.Column("Name", "string", "Name of the priority class.", false),
	table.Column("Value", "integer", "The priority of pods of this class.", false),
	table.Column("Global-Default", "boolean", "Whether pods that name no class get this one.", false),
	table.Column("Age", "string", "Time since the class was created.", false),
	table.Column("PreemptionPolicy", "string", "Whether pods of this class may preempt lower-priority pods.", true),
}, printPriorityClass)

func printPriorityClass(obj runtime.Object) ([]interface{}, error) {
	pc, ok := obj.(*core.PriorityClass)
	if !ok {
		return nil, fmt.Errorf("not a priority class: %T", obj)
	}
	policy := "<none>"
	if pc.PreemptionPolicy != nil {
		policy = string(*pc.PreemptionPolicy)
	}
	return []interface{}{pc.Name, int64(pc.Value), pc.GlobalDefault, table.Age(pc.CreationTimestamp), policy}, nil
}
