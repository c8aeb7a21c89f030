package replicaset

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"skiff.dev/skiff/pkg/apis/apps"
	"skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	"skiff.dev/skiff/pkg/registry/rules"
	"skiff.dev/skiff/pkg/registry/scale"
	"skiff.dev/skiff/pkg/registry/status"
)

// Storage is every REST endpoint of ReplicaSets, keyed as the API group
// installs them: "replicasets", "replicasets/status", "replicasets/scale".
type Storage struct {
	ReplicaSet *REST
	Status     *status.REST
	Scale      *scale.REST
}

// REST is the main replicasets endpoint.
type REST struct {
	rules.Store
}

var (
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

// ShortNames lets `kubectl get srs` work. Not upstream's "rs": in
// aggregated mode the host cluster's apps/v1 ReplicaSets own that name, and
// kubectl would resolve it to one group or the other by discovery order.
func (*REST) ShortNames() []string { return []string{"srs"} }

// Categories puts ReplicaSets in `kubectl get skiff` (and `all`, as upstream's).
func (*REST) Categories() []string { return []string{"skiff", "all"} }

// NewStorage builds the ReplicaSet endpoints on optsGetter's storage.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (*Storage, error) {
	s := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &apps.ReplicaSet{} },
		NewListFunc:               func() runtime.Object { return &apps.ReplicaSetList{} },
		PredicateFunc:             Match,
		DefaultQualifiedResource:  apps.Resource("replicasets"),
		SingularQualifiedResource: apps.Resource("replicaset"),

		CreateStrategy:      s,
		UpdateStrategy:      s,
		DeleteStrategy:      s,
		ResetFieldsStrategy: s,

		TableConvertor: tableConvertor,
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}); err != nil {
		return nil, fmt.Errorf("complete replicaset storage: %w", err)
	}
	return &Storage{
		ReplicaSet: &REST{rules.Store{Store: store}},
		Status:     status.NewREST(store, NewStatusStrategy(s)),
		Scale:      scale.NewREST(store, scaleAccessor),
	}, nil
}

var scaleAccessor = scale.Accessor{
	Replicas: func(obj runtime.Object) (int32, int32, *metav1.LabelSelector, error) {
		rs, ok := obj.(*apps.ReplicaSet)
		if !ok {
			return 0, 0, nil, fmt.Errorf("not a ReplicaSet: %T", obj)
		}
		var replicas int32
		if rs.Spec.Replicas != nil {
			replicas = *rs.Spec.Replicas
		}
		return replicas, rs.Status.Replicas, rs.Spec.Selector, nil
	},
	SetReplicas: func(obj runtime.Object, replicas int32) error {
		rs, ok := obj.(*apps.ReplicaSet)
		if !ok {
			return fmt.Errorf("not a ReplicaSet: %T", obj)
		}
		rs.Spec.Replicas = &replicas
		return nil
	},
	ReplicasPaths:       managedfields.ResourcePathMappings{v1alpha1.SchemeGroupVersion.String(): scale.ReplicasPath},
	DefaultGroupVersion: v1alpha1.SchemeGroupVersion,
}
