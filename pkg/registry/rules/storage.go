package rules

import (
	"context"
	"errors"
	"fmt"
	"strings"

	grpccodes "google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/client-go/tools/cache"
)

// Retry-After, in seconds, of the answers below. A timed-out write is
// retried as kube-apiserver's own timeouts ask (2 s, see
// k8s.io/apiserver/pkg/storage/errors); a full database takes an operator,
// so clients are asked to come back less often.
const (
	retryAfterTimeout = 2
	retryAfterNoSpace = 10
)

// WithStorageErrors wraps every storage getter makes so that what etcd
// answers when it cannot take a write reaches the client as the retriable
// 5xx kube-apiserver gives for it rather than a 500: the etcd client hands
// "etcdserver: request timed out" (a proposal that did not commit in time,
// typically the first write after a member is lost) and "database space
// exceeded" straight through k8s.io/apiserver's storage layer, which does
// not recognize them, and the handlers answer what they do not recognize
// with 500 Internal Error.
//
// gate, when not nil, may refuse writes before they reach etcd (the
// embedded etcd's volume running out of space); deletes, which free space,
// are let through.
func WithStorageErrors(getter generic.RESTOptionsGetter, gate WriteGate) generic.RESTOptionsGetter {
	return storageErrorsGetter{RESTOptionsGetter: getter, gate: gate}
}

// WriteGate says whether storage takes writes now: nil, or the API error to
// refuse them with.
type WriteGate interface {
	WriteRefusal() error
}

type storageErrorsGetter struct {
	generic.RESTOptionsGetter
	gate WriteGate
}

func (g storageErrorsGetter) GetRESTOptions(resource schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	opts, err := g.RESTOptionsGetter.GetRESTOptions(resource, example)
	if err != nil {
		return opts, err
	}
	decorate := opts.Decorator
	if decorate == nil {
		decorate = generic.UndecoratedStorage
	}
	opts.Decorator = func(config *storagebackend.ConfigForResource, resourcePrefix string, keyFunc func(obj runtime.Object) (string, error),
		newFunc, newListFunc func() runtime.Object, getAttrs storage.AttrFunc, trigger storage.IndexerFuncs, indexers *cache.Indexers,
	) (storage.Interface, factory.DestroyFunc, error) {
		s, destroy, err := decorate(config, resourcePrefix, keyFunc, newFunc, newListFunc, getAttrs, trigger, indexers)
		if err != nil {
			return nil, nil, err
		}
		return &storageErrors{Interface: s, resource: resource, gate: g.gate}, destroy, nil
	}
	return opts, nil
}

// storageErrors is a storage.Interface whose writes and reads answer etcd's
// unavailability with API statuses.
type storageErrors struct {
	storage.Interface
	resource schema.GroupResource
	gate     WriteGate
}

func (s *storageErrors) refusal() error {
	if s.gate == nil {
		return nil
	}
	return s.gate.WriteRefusal()
}

func (s *storageErrors) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	if err := s.refusal(); err != nil {
		return err
	}
	return EtcdError(s.Interface.Create(ctx, key, obj, out, ttl), s.resource, "create")
}

func (s *storageErrors) Delete(ctx context.Context, key string, out runtime.Object, preconditions *storage.Preconditions,
	validateDeletion storage.ValidateObjectFunc, cachedExistingObject runtime.Object, opts storage.DeleteOptions) error {
	return EtcdError(s.Interface.Delete(ctx, key, out, preconditions, validateDeletion, cachedExistingObject, opts), s.resource, "delete")
}

func (s *storageErrors) GuaranteedUpdate(ctx context.Context, key string, destination runtime.Object, ignoreNotFound bool,
	preconditions *storage.Preconditions, tryUpdate storage.UpdateFunc, cachedExistingObject runtime.Object) error {
	if err := s.refusal(); err != nil {
		return err
	}
	return EtcdError(s.Interface.GuaranteedUpdate(ctx, key, destination, ignoreNotFound, preconditions, tryUpdate, cachedExistingObject), s.resource, "update")
}

func (s *storageErrors) Get(ctx context.Context, key string, opts storage.GetOptions, objPtr runtime.Object) error {
	return EtcdError(s.Interface.Get(ctx, key, opts, objPtr), s.resource, "get")
}

func (s *storageErrors) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	return EtcdError(s.Interface.GetList(ctx, key, opts, listObj), s.resource, "list")
}

// EtcdError returns err, or for an etcd error that says etcd could not
// serve the request now, the API status a client should act on:
//   - a request that timed out: 504 Timeout with Retry-After, as
//     kube-apiserver answers a request that timed out;
//   - etcd otherwise unavailable (no leader, the member's connection lost
//     mid-request): 503 with Retry-After;
//   - the database over its space quota (the NOSPACE alarm): 503
//     ServiceUnavailable with Retry-After, saying writes are refused until
//     space is freed.
//
// Every other error is returned unchanged, so the store's own
// interpretation (conflicts, not found, too large) still applies.
func EtcdError(err error, resource schema.GroupResource, verb string) error {
	if err == nil {
		return nil
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return err
	}
	code, msg, ok := etcdCode(err)
	if !ok {
		return err
	}
	switch {
	case code == grpccodes.Unavailable && strings.Contains(msg, "timed out"):
		// 504 Timeout, as kube-apiserver's timeout filter answers, rather
		// than NewServerTimeout's 500.
		st := apierrors.NewTimeoutError(fmt.Sprintf("the %s of %s did not complete in etcd in time (%s); retry", verb, resource, msg), retryAfterTimeout)
		return &wrappedStatus{StatusError: st, cause: err}
	case code == grpccodes.Unavailable:
		// No leader, a leader change, or the connection to the member
		// lost mid-request ("error reading from server: EOF"): the client
		// fails over to another member, so a retry is what is needed.
		st := apierrors.NewServiceUnavailable(fmt.Sprintf("etcd could not serve the %s of %s (%s); retry", verb, resource, msg))
		st.ErrStatus.Details = &metav1.StatusDetails{Group: resource.Group, Kind: resource.Resource, RetryAfterSeconds: retryAfterTimeout}
		return &wrappedStatus{StatusError: st, cause: err}
	case code == grpccodes.ResourceExhausted && strings.Contains(msg, "database space exceeded"):
		st := apierrors.NewServiceUnavailable("the storage is full (" + msg + "): writes are refused until space is freed")
		st.ErrStatus.Details = &metav1.StatusDetails{Group: resource.Group, Kind: resource.Resource, RetryAfterSeconds: retryAfterNoSpace}
		return &wrappedStatus{StatusError: st, cause: err}
	}
	return err
}

// etcdCode is the gRPC code and message of an etcd error, in either of the
// forms the etcd client returns: rpctypes.EtcdError, or a gRPC status.
func etcdCode(err error) (grpccodes.Code, string, bool) {
	var coded interface {
		error
		Code() grpccodes.Code
	}
	if errors.As(err, &coded) {
		return coded.Code(), coded.Error(), true
	}
	if s, ok := grpcstatus.FromError(err); ok && s.Code() != grpccodes.OK && s.Code() != grpccodes.Unknown {
		return s.Code(), s.Message(), true
	}
	return grpccodes.OK, "", false
}

// wrappedStatus is an API status that keeps the etcd error it replaces, for
// logs and errors.Is.
type wrappedStatus struct {
	*apierrors.StatusError
	cause error
}

func (e *wrappedStatus) Unwrap() error { return e.cause }
