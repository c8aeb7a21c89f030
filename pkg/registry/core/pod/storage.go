package pod

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"skiff.dev/skiff/pkg/apis/core"
)

// Storage is every REST endpoint of pods, keyed as the API group installs
// them: "pods", "pods/status", "pods/binding", "pods/log".
type Storage struct {
	Pod     *REST
	Status  *StatusREST
	Binding *BindingREST
	Log     *LogREST
}

// REST is the main pods endpoint.
type REST struct {
	*genericregistry.Store
}

var (
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

// ShortNames lets `kubectl get po` work.
func (*REST) ShortNames() []string { return []string{"po"} }

// Categories puts pods in `kubectl get skiff`.
func (*REST) Categories() []string { return []string{"skiff", "all"} }

// NewStorage builds the pod endpoints on optsGetter's storage. nodes is
// where the log proxy finds the node a pod runs on, and kubeletTransport how
// it reaches that node's kubelet.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter, nodes NodeGetter, kubelet KubeletConnection) (*Storage, error) {
	s := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &core.Pod{} },
		NewListFunc:               func() runtime.Object { return &core.PodList{} },
		PredicateFunc:             MatchPod,
		DefaultQualifiedResource:  core.Resource("pods"),
		SingularQualifiedResource: core.Resource("pod"),

		CreateStrategy:      s,
		UpdateStrategy:      s,
		DeleteStrategy:      s,
		ResetFieldsStrategy: s,
		ReturnDeletedObject: true,

		TableConvertor: tableConvertor,
	}
	options := &generic.StoreOptions{
		RESTOptions: optsGetter,
		AttrFunc:    GetAttrs,
		TriggerFunc: map[string]storage.IndexerFunc{"spec.nodeName": NodeNameTriggerFunc},
		Indexers:    Indexers(),
	}
	if err := store.CompleteWithOptions(options); err != nil {
		return nil, fmt.Errorf("complete pod storage: %w", err)
	}

	statusStore := *store
	status := NewStatusStrategy(s)
	statusStore.UpdateStrategy = status
	statusStore.ResetFieldsStrategy = status

	return &Storage{
		Pod:     &REST{store},
		Status:  &StatusREST{store: &statusStore},
		Binding: &BindingREST{store: store},
		Log:     &LogREST{store: store, nodes: nodes, kubelet: kubelet},
	}, nil
}

// StatusREST is pods/status: it reads the whole pod and writes only its status.
type StatusREST struct {
	store *genericregistry.Store
}

var (
	_ rest.Patcher             = &StatusREST{}
	_ rest.ResetFieldsStrategy = &StatusREST{}
)

// New returns an empty pod.
func (r *StatusREST) New() runtime.Object { return &core.Pod{} }

// Destroy does nothing: the main store owns the storage.
func (r *StatusREST) Destroy() {}

// Get reads the pod.
func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

// Update writes the pod's status. Status is never created through this
// endpoint, so forceAllowCreate is always false.
func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

// GetResetFields tells server-side apply which fields pods/status ignores.
func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

// ConvertToTable renders the pod as `kubectl get` does.
func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}
