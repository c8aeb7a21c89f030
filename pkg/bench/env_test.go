package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clienttesting "k8s.io/client-go/testing"

	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

var _ net.Error = timeoutError{}

func TestErrorCode(t *testing.T) {
	pods := schema.GroupResource{Group: "core.skiff.dev", Resource: "pods"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"conflict", apierrors.NewConflict(pods, "p", errors.New("changed")), "409"},
		{"too many requests", apierrors.NewTooManyRequests("slow down", 1), "429"},
		{"invalid", apierrors.NewBadRequest("no"), "400"},
		{"wrapped with context", fmt.Errorf("bind pod ns/p to n: %w", apierrors.NewInternalError(errors.New("etcd"))), "500"},
		{"client deadline", fmt.Errorf("create: %w", context.DeadlineExceeded), "timeout"},
		{"network timeout", &net.OpError{Op: "read", Err: timeoutError{}}, "timeout"},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, "transport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.want {
				t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestParallelCallsEveryIndexOnce(t *testing.T) {
	tests := []struct{ workers, n int }{{1, 10}, {4, 100}, {16, 3}, {0, 5}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d workers, %d calls", tt.workers, tt.n), func(t *testing.T) {
			var mu sync.Mutex
			seen := map[int]int{}
			parallel(context.Background(), tt.workers, tt.n, func(i int) {
				mu.Lock()
				seen[i]++
				mu.Unlock()
			})
			for i := range tt.n {
				if seen[i] != 1 {
					t.Errorf("index %d called %d times, want once", i, seen[i])
				}
			}
			if len(seen) != tt.n {
				t.Errorf("%d indexes called, want %d", len(seen), tt.n)
			}
		})
	}
}

func TestParallelStopsStartingCallsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	parallel(ctx, 2, 1000, func(int) {
		if calls.Add(1) == 10 {
			cancel()
		}
	})
	if n := calls.Load(); n >= 1000 || n < 10 {
		t.Errorf("%d calls after cancelling at the 10th, want a few more than 10 at most", n)
	}
}

// Create against a fake clientset whose server refuses every fourth create
// with a conflict: the failures are counted by code, not as pods created,
// and cleanup deletes the rest.
func TestCreateCountsFailuresByCode(t *testing.T) {
	client := fake.NewClientset()
	var n atomic.Int32
	client.PrependReactor("create", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		if n.Add(1)%4 == 0 {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "x", errors.New("taken"))
		}
		return false, nil, nil
	})
	r, err := Create(context.Background(), Env{Client: client}, CreateOptions{Pods: 20, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := r.Figure("pods created"); f.Value != 15 {
		t.Errorf("pods created = %v, want 15", f.Value)
	}
	if r.Errors["409"] != 5 || len(r.Errors) != 1 {
		t.Errorf("errors %v, want 409: 5", r.Errors)
	}
	left, err := client.CoreV1alpha1().Pods("skiff-bench-create").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(left.Items) != 0 {
		t.Errorf("%d pods left after cleanup (err %v), want none", len(left.Items), err)
	}
}

func TestScenariosRefuseNonsenseOptions(t *testing.T) {
	e := Env{Client: fake.NewClientset()}
	ctx := context.Background()
	tests := []struct {
		name string
		run  func() error
	}{
		{"create without pods", func() error { _, err := Create(ctx, e, CreateOptions{Workers: 1}); return err }},
		{"schedule without nodes", func() error { _, err := Schedule(ctx, e, ScheduleOptions{Pods: 1, Workers: 1}); return err }},
		{"start without workers", func() error { _, err := Start(ctx, e, StartOptions{Pods: 1}); return err }},
		{"list without repetitions", func() error {
			_, err := List(ctx, e, ListOptions{Pods: 1, Nodes: 1, Workers: 1})
			return err
		}},
		{"watch without watchers", func() error { _, err := Watch(ctx, e, WatchOptions{Rounds: 1, Workers: 1}); return err }},
		{"churn without a rate", func() error {
			_, err := Churn(ctx, e, ChurnOptions{Duration: 1, Window: 1, Lifetime: 1})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); err == nil {
				t.Error("no error, want the bad option named")
			}
		})
	}
}
