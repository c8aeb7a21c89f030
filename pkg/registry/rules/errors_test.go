package rules

import (
	"context"
	"errors"
	"fmt"
	"testing"

	grpccodes "google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/install"
)

func TestLimitErrors(t *testing.T) {
	var errs field.ErrorList
	for i := 0; i < MaxValidationErrors; i++ {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "labels"), i, "bad"))
	}
	if got := LimitErrors(errs); len(got) != MaxValidationErrors {
		t.Errorf("%d errors became %d, want them all", len(errs), len(got))
	}
	errs = append(errs, errs...)
	got := LimitErrors(errs)
	if len(got) != MaxValidationErrors+1 {
		t.Fatalf("%d errors became %d, want %d", len(errs), len(got), MaxValidationErrors+1)
	}
	if last := got[MaxValidationErrors].Error(); last != fmt.Sprintf("<object>: Invalid value: %d more errors not listed", MaxValidationErrors) {
		t.Errorf("summary error %q", last)
	}
}

// podStore is just enough of a generic store for requestUpdate.
func podStore() *genericregistry.Store {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	return &genericregistry.Store{
		DefaultQualifiedResource: core.Resource("pods"),
		UpdateStrategy:           podUpdates{NewDefaults(scheme)},
		Storage:                  genericregistry.DryRunnableStorage{Storage: versionerOnly{}},
	}
}

type podUpdates struct{ Defaults }

func (podUpdates) NamespaceScoped() bool                                            { return true }
func (podUpdates) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}
func (podUpdates) ValidateUpdate(context.Context, runtime.Object, runtime.Object) field.ErrorList {
	return nil
}

type versionerOnly struct{ storage.Interface }

func (versionerOnly) Versioner() storage.Versioner { return storage.APIObjectVersioner{} }

// failingInfo is an update that cannot be computed.
type failingInfo struct{ err error }

func (failingInfo) Preconditions() *metav1.Preconditions { return nil }
func (i failingInfo) UpdatedObject(context.Context, runtime.Object) (runtime.Object, error) {
	return nil, i.err
}

func TestRequestUpdate(t *testing.T) {
	store := podStore()
	old := &core.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", ResourceVersion: "5"}}
	pod := func(mutate func(*core.Pod)) rest.UpdatedObjectInfo {
		p := old.DeepCopy()
		mutate(p)
		return rest.DefaultUpdatedObjectInfo(p)
	}
	manyBadLabels := func(p *core.Pod) {
		p.Labels = map[string]string{}
		for i := 0; i < 5000; i++ {
			p.Labels[fmt.Sprintf("bad key %d", i)] = "v"
		}
	}
	tests := []struct {
		name   string
		info   rest.UpdatedObjectInfo
		check  func(error) bool
		causes int
	}{
		{name: "a valid update", info: pod(func(p *core.Pod) { p.Labels = map[string]string{"a": "b"} }), check: func(err error) bool { return err == nil }},
		{name: "a patch that cannot be applied", info: failingInfo{errors.New("unknown patch type: bogus")}, check: apierrors.IsBadRequest},
		{name: "an API status passes", info: failingInfo{apierrors.NewNotFound(core.Resource("pods"), "p")}, check: apierrors.IsNotFound},
		{name: "a cancelled request passes", info: failingInfo{context.Canceled}, check: func(err error) bool { return errors.Is(err, context.Canceled) }},
		{name: "a resourceVersion that is not a number", info: pod(func(p *core.Pod) { p.ResourceVersion = "not-a-number" }), check: apierrors.IsBadRequest},
		{name: "thousands of bad labels", info: pod(manyBadLabels), check: apierrors.IsInvalid, causes: MaxValidationErrors + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := requestUpdate{UpdatedObjectInfo: tc.info, store: store}.UpdatedObject(context.Background(), old)
			if !tc.check(err) {
				t.Fatalf("unexpected error %v", err)
			}
			if tc.causes > 0 {
				var status apierrors.APIStatus
				if !errors.As(err, &status) || status.Status().Details == nil || len(status.Status().Details.Causes) != tc.causes {
					t.Errorf("error %.300v: want %d causes", err, tc.causes)
				}
			}
		})
	}
}

// etcdError is how the etcd client reports a request over its limit.
type etcdError struct{ code grpccodes.Code }

func (e etcdError) Error() string        { return "etcdserver: request is too large" }
func (e etcdError) Code() grpccodes.Code { return e.code }

func TestTooLarge(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		want413   bool
		retryable func(error) bool
	}{
		{name: "etcd refuses the request", err: etcdError{grpccodes.InvalidArgument}, want413: true, retryable: func(err error) bool {
			var coded interface{ Code() grpccodes.Code }
			return errors.As(err, &coded) && coded.Code() == grpccodes.InvalidArgument && err.Error() == "etcdserver: request is too large"
		}},
		{name: "the client refuses to send it", err: grpcstatus.Error(grpccodes.ResourceExhausted, "trying to send message larger than max (3104749 vs. 2097152)"),
			want413: true, retryable: func(err error) bool {
				s, ok := err.(interface{ GRPCStatus() *grpcstatus.Status })
				return ok && s.GRPCStatus().Code() == grpccodes.ResourceExhausted
			}},
		{name: "etcd out of space is the server's", err: grpcstatus.Error(grpccodes.ResourceExhausted, "etcdserver: mvcc: database space exceeded")},
		{name: "another error", err: errors.New("boom")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tooLarge(tc.err)
			if got := apierrors.IsRequestEntityTooLargeError(err); got != tc.want413 {
				t.Fatalf("413 = %v, want %v (error %v)", got, tc.want413, err)
			}
			if !tc.want413 {
				if err != tc.err {
					t.Errorf("error changed to %v", err)
				}
				return
			}
			// The handlers retry a too-large write without managed fields;
			// they must still recognize the error.
			if !tc.retryable(err) {
				t.Errorf("%v no longer looks like the storage error it replaces", err)
			}
		})
	}
}
