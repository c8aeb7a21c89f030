package deployment

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

// Storage is every REST endpoint of Deployments, keyed as the API group
// installs them: "deployments", "deployments/status", "deployments/scale".
type Storage struct {
	Deployment *REST
	Status     *status.REST
	Scale      *scale.REST
}

// REST is the main deployments endpoint.
type REST struct {
	rules.Store
}

var (
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

// ShortNames lets `kubectl get sdeploy` work. Not upstream's "deploy": in
// aggregated mode the host cluster's apps/v1 Deployments own that name, and
// kubectl would resolve it to one group or the other by discovery order.
func (*REST) ShortNames() []string { return []string{"sdeploy"} }

// Categories puts Deployments in `kubectl get skiff` (and `all`, as upstream's).
func (*REST) Categories() []string { return []string{"skiff", "all"} }

// NewStorage builds the Deployment endpoints on optsGetter's storage.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (*Storage, error) {
	s := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &apps.Deployment{} },
		NewListFunc:               func() runtime.Object { return &apps.DeploymentList{} },
		PredicateFunc:             Match,
		DefaultQualifiedResource:  apps.Resource("deployments"),
		SingularQualifiedResource: apps.Resource("deployment"),

		CreateStrategy:      s,
		UpdateStrategy:      s,
		DeleteStrategy:      s,
		ResetFieldsStrategy: s,

		TableConvertor: tableConvertor,
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}); err != nil {
		return nil, fmt.Errorf("complete deployment storage: %w", err)
	}
	return &Storage{
		Deployment: &REST{rules.Store{Store: store}},
		Status:     status.NewREST(store, NewStatusStrategy(s)),
		Scale:      scale.NewREST(store, scaleAccessor),
	}, nil
}

var scaleAccessor = scale.Accessor{
	Replicas: func(obj runtime.Object) (int32, int32, *metav1.LabelSelector, error) {
		d, ok := obj.(*apps.Deployment)
		if !ok {
			return 0, 0, nil, fmt.Errorf("not a Deployment: %T", obj)
		}
		var replicas int32
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		return replicas, d.Status.Replicas, d.Spec.Selector, nil
	},
	SetReplicas: func(obj runtime.Object, replicas int32) error {
		d, ok := obj.(*apps.Deployment)
		if !ok {
			return fmt.Errorf("not a Deployment: %T", obj)
		}
		d.Spec.Replicas = &replicas
		return nil
	},
	ReplicasPaths:       managedfields.ResourcePathMappings{v1alpha1.SchemeGroupVersion.String(): scale.ReplicasPath},
	DefaultGroupVersion: v1alpha1.SchemeGroupVersion,
}
