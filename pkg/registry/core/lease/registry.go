// Package lease is the registry of leases: node heartbeats and leader
// election locks. A lease has no status; every field is written through the
// main endpoint.
package lease

import (
	"context"
	"fmt"

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

var (
	_ rest.RESTCreateStrategy = strategy{}
	_ rest.RESTUpdateStrategy = strategy{}
)

func (strategy) NamespaceScoped() bool                                            { return true }
func (strategy) PrepareForCreate(context.Context, runtime.Object)                 {}
func (strategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}

// AllowUnconditionalUpdate is false: two lease holders must never overwrite each other blindly.
func (strategy) AllowUnconditionalUpdate(context.Context) bool { return false }

func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateLease(obj.(*core.Lease)))
}

func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateLeaseUpdate(obj.(*core.Lease), old.(*core.Lease)))
}

// REST is the leases endpoint.
type REST struct {
	rules.Store
}

// Categories puts leases in `kubectl get skiff`.
func (*REST) Categories() []string { return []string{"skiff"} }

// NewREST builds the leases endpoint.
func NewREST(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (*REST, error) {
	s := strategy{rules.NewDefaults(scheme)}
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &core.Lease{} },
		NewListFunc:               func() runtime.Object { return &core.LeaseList{} },
		DefaultQualifiedResource:  core.Resource("leases"),
		SingularQualifiedResource: core.Resource("lease"),
		CreateStrategy:            s,
		UpdateStrategy:            s,
		DeleteStrategy:            s,
		TableConvertor: table.New([]metav1.TableColumnDefinition{
			table.Column("Name", "string", "Name of the lease.", false),
			table.Column("Holder", "string", "Who holds the lease.", false),
			table.Column("Age", "string", "Time since the lease was created.", false),
		}, printLease),
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter}); err != nil {
		return nil, fmt.Errorf("complete lease storage: %w", err)
	}
	return &REST{rules.Store{Store: store}}, nil
}

func printLease(obj runtime.Object) ([]interface{}, error) {
	lease, ok := obj.(*core.Lease)
	if !ok {
		return nil, fmt.Errorf("not a lease: %T", obj)
	}
	holder := ""
	if lease.Spec.HolderIdentity != nil {
		holder = *lease.Spec.HolderIdentity
	}
	return []interface{}{lease.Name, holder, table.Age(lease.CreationTimestamp)}, nil
}
