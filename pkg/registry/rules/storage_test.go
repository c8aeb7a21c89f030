package rules

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	grpccodes "google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/storage"
)

// failingStorage fails every write and read with err.
type failingStorage struct {
	storage.Interface
	err error
}

func (f failingStorage) Create(context.Context, string, runtime.Object, runtime.Object, uint64) error {
	return f.err
}

func (f failingStorage) GuaranteedUpdate(context.Context, string, runtime.Object, bool, *storage.Preconditions, storage.UpdateFunc, runtime.Object) error {
	return f.err
}

func TestEtcdErrors(t *testing.T) {
	pods := schema.GroupResource{Group: "core.skiff.dev", Resource: "pods"}
	tests := []struct {
		name           string
		err            error
		wantCode       int32
		wantRetryAfter bool
	}{
		{name: "a proposal that timed out (client form)", err: rpctypes.ErrTimeout, wantCode: http.StatusGatewayTimeout, wantRetryAfter: true},
		{name: "a proposal that timed out (gRPC form)", err: rpctypes.ErrGRPCTimeout, wantCode: http.StatusGatewayTimeout, wantRetryAfter: true},
		{name: "timed out after a leader failure", err: fmt.Errorf("txn: %w", rpctypes.ErrTimeoutDueToLeaderFail), wantCode: http.StatusGatewayTimeout, wantRetryAfter: true},
		{name: "no leader", err: rpctypes.ErrNoLeader, wantCode: http.StatusServiceUnavailable, wantRetryAfter: true},
		{name: "the member's connection lost mid-request", err: grpcstatus.Error(grpccodes.Unavailable, "error reading from server: EOF"), wantCode: http.StatusServiceUnavailable, wantRetryAfter: true},
		{name: "the database over its quota", err: rpctypes.ErrNoSpace, wantCode: http.StatusServiceUnavailable, wantRetryAfter: true},
		{name: "a conflict stays the store's", err: apierrors.NewConflict(pods, "p", errors.New("changed")), wantCode: http.StatusConflict},
		{name: "an object too large stays InvalidArgument for the 413", err: rpctypes.ErrRequestTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &storageErrors{Interface: failingStorage{err: tt.err}, resource: pods}
			for verb, err := range map[string]error{
				"create": s.Create(context.Background(), "k", nil, nil, 0),
				"update": s.GuaranteedUpdate(context.Background(), "k", nil, false, nil, nil, nil),
			} {
				var status apierrors.APIStatus
				if tt.wantCode == 0 {
					if !errors.Is(err, tt.err) || errors.As(err, &status) {
						t.Errorf("%s: %v (%T), want %v unchanged", verb, err, err, tt.err)
					}
					continue
				}
				if !errors.As(err, &status) {
					t.Fatalf("%s: %v (%T) is not an API status", verb, err, err)
				}
				st := status.Status()
				if st.Code != tt.wantCode {
					t.Errorf("%s: HTTP %d (%s), want %d", verb, st.Code, st.Message, tt.wantCode)
				}
				if got := st.Details != nil && st.Details.RetryAfterSeconds > 0; got != tt.wantRetryAfter {
					t.Errorf("%s: Retry-After given = %v, want %v (%+v)", verb, got, tt.wantRetryAfter, st.Details)
				}
			}
		})
	}
}
