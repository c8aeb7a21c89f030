package rules

import (
	"context"
	"errors"
	"fmt"
	"strings"

	grpccodes "google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
)

// The generic registry answers some failures caused by the request with 500,
// as if the server were at fault: a patch the strategic-merge or apply
// machinery cannot apply ("unknown patch type", "does not contain declared
// merge key"), a metadata.resourceVersion that is not a number, a
// resourceVersion set on create, and an object too large for etcd. Create
// and Update here wrap the store's so that the client is told it is the
// request (4xx). Every skiff endpoint that creates or updates through a
// generic store goes through them.

// Create is store.Create with request failures answered 4xx.
func Create(ctx context.Context, store *genericregistry.Store, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	out, err := store.Create(ctx, obj, createValidation, options)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, storage.ErrResourceVersionSetOnCreate):
		return nil, apierrors.NewBadRequest("metadata.resourceVersion must not be set on create")
	}
	return nil, tooLarge(err)
}

// Update is store.Update with request failures answered 4xx.
func Update(ctx context.Context, store *genericregistry.Store, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	info := requestUpdate{UpdatedObjectInfo: objInfo, store: store}
	out, created, err := store.Update(ctx, name, info, createValidation, updateValidation, forceAllowCreate, options)
	if err != nil {
		return nil, false, tooLarge(err)
	}
	return out, created, nil
}

// requestUpdate computes the updated object from the request (the new
// object of a PUT, the patch of a PATCH) as the wrapped info does, and
// reports a failure that is not already an API status as a bad request:
// it is the request that could not be applied. It also refuses, before the
// store validates the object, a resourceVersion that is not a number (the
// store would fail to parse it, a 500) and metadata with more errors than
// MaxValidationErrors (the store's own metadata validation lists them all,
// which LimitErrors cannot shorten).
type requestUpdate struct {
	rest.UpdatedObjectInfo
	store *genericregistry.Store
}

func (u requestUpdate) UpdatedObject(ctx context.Context, oldObj runtime.Object) (runtime.Object, error) {
	obj, err := u.UpdatedObjectInfo.UpdatedObject(ctx, oldObj)
	if err != nil {
		var status apierrors.APIStatus
		if errors.As(err, &status) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if _, err := u.store.Storage.Versioner().ObjectResourceVersion(obj); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("metadata.resourceVersion is not a resource version: %v", err))
	}
	if err := u.checkMetadata(obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// checkMetadata runs the generic metadata validation BeforeUpdate runs (the
// name check aside) and refuses the object if it finds too many errors.
func (u requestUpdate) checkMetadata(obj runtime.Object) error {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return nil // BeforeUpdate reports it
	}
	noNameCheck := func(string, bool) []string { return nil }
	errs := apimachineryvalidation.ValidateObjectMetaAccessor(accessor, u.store.UpdateStrategy.NamespaceScoped(), noNameCheck, field.NewPath("metadata"))
	if len(errs) <= MaxValidationErrors {
		return nil
	}
	resource := u.store.DefaultQualifiedResource
	kind := schema.GroupKind{Group: resource.Group, Kind: resource.Resource}
	if kinds, _, err := u.store.UpdateStrategy.ObjectKinds(obj); err == nil && len(kinds) > 0 {
		kind = kinds[0].GroupKind()
	}
	return apierrors.NewInvalid(kind, accessor.GetName(), LimitErrors(errs))
}

// tooLarge turns etcd's refusal of an oversized object, which would be
// answered 500, into a 413, keeping what the handlers look for to retry the
// write without managed fields first (see isTooLargeError in
// k8s.io/apiserver/pkg/endpoints/handlers).
func tooLarge(err error) error {
	if !isTooLarge(err) {
		return err
	}
	return &tooLargeError{cause: err, status: apierrors.NewRequestEntityTooLargeError(
		fmt.Sprintf("the object is too large to store: %v", err))}
}

// isTooLarge recognizes the two forms of the error: etcd refusing the
// request, or the etcd client refusing to send it.
func isTooLarge(err error) bool {
	var coded interface {
		error
		Code() grpccodes.Code
	}
	if errors.As(err, &coded) && coded.Code() == grpccodes.InvalidArgument && coded.Error() == "etcdserver: request is too large" {
		return true
	}
	// Not every ResourceExhausted: etcd out of space is one too, and is the
	// server's problem.
	s, ok := grpcstatus.FromError(err)
	return ok && s.Code() == grpccodes.ResourceExhausted && strings.Contains(s.Message(), "trying to send message larger than max")
}

// tooLargeError is a 413 that still looks like the storage error it
// replaces to code that checks for that.
type tooLargeError struct {
	cause  error
	status *apierrors.StatusError
}

func (e *tooLargeError) Error() string         { return e.cause.Error() }
func (e *tooLargeError) Unwrap() error         { return e.cause }
func (e *tooLargeError) Status() metav1.Status { return e.status.Status() }

// Code is the etcd error's code, for the handlers' retry.
func (e *tooLargeError) Code() grpccodes.Code {
	var coded interface {
		Code() grpccodes.Code
	}
	if errors.As(e.cause, &coded) {
		return coded.Code()
	}
	return grpccodes.Unknown
}

// GRPCStatus is the etcd client's status, for the handlers' retry.
func (e *tooLargeError) GRPCStatus() *grpcstatus.Status {
	if s, ok := grpcstatus.FromError(e.cause); ok {
		return s
	}
	return grpcstatus.New(grpccodes.Unknown, e.cause.Error())
}

// Store is a generic registry store whose Create and Update answer request
// failures 4xx. The REST types of skiff's kinds embed it rather than the
// store itself.
type Store struct {
	*genericregistry.Store
}

// Create is the store's Create with request failures answered 4xx.
func (s Store) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	return Create(ctx, s.Store, obj, createValidation, options)
}

// Update is the store's Update with request failures answered 4xx.
func (s Store) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return Update(ctx, s.Store, name, objInfo, createValidation, updateValidation, forceAllowCreate, options)
}

// Watch is the store's Watch with a resourceVersion that is not one
// answered 400, as a list with it is (the store hands the storage's
// invalid-resourceVersion error to the handler unchanged, and the handler
// answers an error it does not recognize with 500), and with every object
// version encoded once for all watchers (see shareEncodings).
func (s Store) Watch(ctx context.Context, options *metainternalversion.ListOptions) (watch.Interface, error) {
	w, err := s.Store.Watch(ctx, options)
	if err != nil {
		return nil, watchError(err)
	}
	return shareEncodings(w), nil
}

func watchError(err error) error {
	if storage.IsInvalidError(err) {
		return apierrors.NewBadRequest(err.Error())
	}
	return err
}
