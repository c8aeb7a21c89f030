package namespace

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	storageerr "k8s.io/apiserver/pkg/storage/errors"
	"k8s.io/apiserver/pkg/util/dryrun"

	"skiff.dev/skiff/pkg/registry/rules"
	"skiff.dev/skiff/pkg/registry/status"
	"skiff.dev/skiff/pkg/registry/table"
)

// REST is the namespaces endpoint.
type REST struct {
	rules.Store
}

// ShortNames lets `kubectl get ns` work.
func (*REST) ShortNames() []string { return []string{"ns"} }

// Storage is every endpoint of namespaces.
type Storage struct {
	Namespace *REST
	Status    *status.REST
	// Finalize is namespaces/finalize: the namespace controller removes its
	// finalizer there once the namespace is empty.
	Finalize *status.REST
}

// NewStorage builds the namespaces endpoints.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (*Storage, error) {
	s := strategy{rules.NewDefaults(scheme)}
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &corev1.Namespace{} },
		NewListFunc:               func() runtime.Object { return &corev1.NamespaceList{} },
		PredicateFunc:             matchNamespace,
		DefaultQualifiedResource:  corev1.Resource("namespaces"),
		SingularQualifiedResource: corev1.Resource("namespace"),
		CreateStrategy:            s,
		UpdateStrategy:            s,
		DeleteStrategy:            s,
		ResetFieldsStrategy:       s,
		ReturnDeletedObject:       true,
		ShouldDeleteDuringUpdate:  shouldDeleteDuringUpdate,
		// The columns kubectl prints for `kubectl get namespaces`.
		TableConvertor: table.New([]metav1.TableColumnDefinition{
			table.Column("Name", "string", "Name of the namespace.", false),
			table.Column("Status", "string", "Active, or Terminating while its objects are deleted.", false),
			table.Column("Age", "string", "Time since the namespace was created.", false),
		}, printNamespace),
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}); err != nil {
		return nil, fmt.Errorf("complete namespace storage: %w", err)
	}
	return &Storage{
		Namespace: &REST{rules.Store{Store: store}},
		Status:    status.NewREST(store, NewStatusStrategy(scheme)),
		Finalize:  status.NewREST(store, NewFinalizeStrategy(scheme)),
	}, nil
}

func printNamespace(obj runtime.Object) ([]interface{}, error) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return nil, fmt.Errorf("not a namespace: %T", obj)
	}
	return []interface{}{ns.Name, string(ns.Status.Phase), table.Age(ns.CreationTimestamp)}, nil
}

// shouldDeleteDuringUpdate: an update that removes the last metadata
// finalizer of a deleted namespace removes it only if the namespace
// controller is done too (no spec.finalizers).
func shouldDeleteDuringUpdate(ctx context.Context, key string, obj, existing runtime.Object) bool {
	ns, ok := obj.(*corev1.Namespace)
	return ok && len(ns.Spec.Finalizers) == 0 && genericregistry.ShouldDeleteDuringUpdate(ctx, key, obj, existing)
}

// Delete starts a namespace's deletion: the first call sets
// deletionTimestamp and phase Terminating and keeps the namespace; the
// namespace controller then deletes its content and removes its finalizer.
// A call once spec.finalizers is empty removes the namespace.
func (r *REST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	obj, err := r.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, false, err
	}
	ns := obj.(*corev1.Namespace)
	if options == nil {
		options = metav1.NewDeleteOptions(0)
	}
	if options.Preconditions == nil {
		options.Preconditions = &metav1.Preconditions{}
	}
	// Pin the UID, so a namespace recreated under the same name meanwhile
	// is not the one marked.
	if options.Preconditions.UID == nil {
		options.Preconditions.UID = &ns.UID
	} else if *options.Preconditions.UID != ns.UID {
		return nil, false, apierrors.NewConflict(corev1.Resource("namespaces"), name,
			fmt.Errorf("precondition failed: UID in precondition: %v, UID in object meta: %v", *options.Preconditions.UID, ns.UID))
	}
	if rv := options.Preconditions.ResourceVersion; rv != nil && *rv != ns.ResourceVersion {
		return nil, false, apierrors.NewConflict(corev1.Resource("namespaces"), name,
			fmt.Errorf("precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *rv, ns.ResourceVersion))
	}
	if ns.DeletionTimestamp.IsZero() {
		return r.markTerminating(ctx, name, deleteValidation, options)
	}
	if len(ns.Spec.Finalizers) != 0 {
		// Still being emptied: deleting again changes nothing.
		return ns, false, nil
	}
	return r.Store.Delete(ctx, name, deleteValidation, options)
}

func (r *REST) markTerminating(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	key, err := r.KeyFunc(ctx, name)
	if err != nil {
		return nil, false, err
	}
	preconditions := storage.Preconditions{UID: options.Preconditions.UID, ResourceVersion: options.Preconditions.ResourceVersion}
	out := r.NewFunc()
	err = r.Storage.GuaranteedUpdate(ctx, key, out, false, &preconditions,
		storage.SimpleUpdate(func(existing runtime.Object) (runtime.Object, error) {
			ns, ok := existing.(*corev1.Namespace)
			if !ok {
				return nil, fmt.Errorf("expected a namespace in storage, got %T", existing)
			}
			if err := deleteValidation(ctx, ns); err != nil {
				return nil, err
			}
			if ns.DeletionTimestamp.IsZero() {
				now := metav1.Now()
				ns.DeletionTimestamp = &now
			}
			ns.Status.Phase = corev1.NamespaceTerminating
			return ns, nil
		}),
		dryrun.IsDryRun(options.DryRun), nil)
	if err != nil {
		err = storageerr.InterpretGetError(err, corev1.Resource("namespaces"), name)
		err = storageerr.InterpretUpdateError(err, corev1.Resource("namespaces"), name)
		if _, ok := err.(*apierrors.StatusError); !ok {
			err = apierrors.NewInternalError(fmt.Errorf("mark namespace %s terminating: %w", name, err))
		}
		return nil, false, err
	}
	return out, false, nil
}

// DeleteCollection is refused, as upstream does not serve it: it would
// remove namespaces past their life cycle.
func (r *REST) DeleteCollection(context.Context, rest.ValidateObjectFunc, *metav1.DeleteOptions, *metainternalversion.ListOptions) (runtime.Object, error) {
	return nil, apierrors.NewMethodNotSupported(corev1.Resource("namespaces"), "deletecollection")
}
