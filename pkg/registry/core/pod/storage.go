package pod

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/registry/rules"
	"skiff.dev/skiff/pkg/registry/status"
)

// Storage is every REST endpoint of pods, keyed as the API group installs
// them: "pods", "pods/status", "pods/binding", "pods/log".
type Storage struct {
	Pod     *REST
	Status  *status.REST
	Binding *BindingREST
	Log     *LogREST
	// Exec, Attach and PortForward proxy streams to the pod's kubelet.
	Exec        *ExecREST
	Attach      *AttachREST
	PortForward *PortForwardREST
}

// REST is the main pods endpoint.
type REST struct {
	rules.Store
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
// it reaches that node's kubelet; authz authorizes the streaming
// subresources' WebSocket upgrades as create.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter, nodes NodeGetter, kubelet KubeletConnection, authz authorizer.Authorizer) (*Storage, error) {
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

	conn := &NodeConnectionInfoGetter{Nodes: nodes, Kubelet: kubelet}
	streams := streamREST{store: store, conn: conn, authz: authz}
	return &Storage{
		Exec:        &ExecREST{streams},
		Attach:      &AttachREST{streams},
		PortForward: &PortForwardREST{streams},
		Pod:         &REST{rules.Store{Store: store}},
		Status:      status.NewREST(store, NewStatusStrategy(s)),
		Binding:     &BindingREST{store: store},
		Log:         &LogREST{store: store, conn: conn, params: runtime.NewParameterCodec(scheme)},
	}, nil
}
