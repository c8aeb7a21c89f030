package node

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/registry/rules"
	"skiff.dev/skiff/pkg/registry/status"
)

// REST is the main nodes endpoint.
type REST struct {
	rules.Store
}

var (
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

// ShortNames lets `kubectl get no` work.
func (*REST) ShortNames() []string { return []string{"no"} }

// Categories puts nodes in `kubectl get skiff`.
func (*REST) Categories() []string { return []string{"skiff"} }

// NewStorage builds the nodes and nodes/status endpoints.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (*REST, *status.REST, error) {
	s := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &core.Node{} },
		NewListFunc:               func() runtime.Object { return &core.NodeList{} },
		PredicateFunc:             MatchNode,
		DefaultQualifiedResource:  core.Resource("nodes"),
		SingularQualifiedResource: core.Resource("node"),

		CreateStrategy:      s,
		UpdateStrategy:      s,
		DeleteStrategy:      s,
		ResetFieldsStrategy: s,

		TableConvertor: tableConvertor,
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}); err != nil {
		return nil, nil, fmt.Errorf("complete node storage: %w", err)
	}
	return &REST{rules.Store{Store: store}}, status.NewREST(store, NewStatusStrategy(s)), nil
}
