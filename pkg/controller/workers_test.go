package controller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
)

func fastQueue() workqueue.TypedRateLimitingInterface[string] {
	return workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Millisecond, 10*time.Millisecond))
}

// syncRecorder counts syncs per key and fails the first failures of each.
type syncRecorder struct {
	mu       sync.Mutex
	calls    map[string]int
	failures int
	after    time.Duration
}

func (r *syncRecorder) sync(_ context.Context, key string) (time.Duration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[key]++
	if r.calls[key] <= r.failures {
		return 0, errors.New("boom")
	}
	return r.after, nil
}

func (r *syncRecorder) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[key]
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWorkersRetryFailuresThenForget(t *testing.T) {
	r := &syncRecorder{calls: map[string]int{}, failures: 2}
	w := &Workers{Name: "test", Queue: fastQueue(), Sync: r.sync}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx, 2); close(done) }()
	w.Queue.Add("ns/a")
	waitFor(t, "three syncs of ns/a", func() bool { return r.count("ns/a") == 3 })
	waitFor(t, "ns/a forgotten", func() bool { return w.Queue.NumRequeues("ns/a") == 0 })
	time.Sleep(30 * time.Millisecond)
	if got := r.count("ns/a"); got != 3 {
		t.Errorf("ns/a synced %d times, want 3 (two failures, one success, no more)", got)
	}
	cancel()
	<-done
	if !w.Queue.ShuttingDown() {
		t.Error("Run returned without shutting its queue down")
	}
}

func TestWorkersDropAfterMaxRetries(t *testing.T) {
	r := &syncRecorder{calls: map[string]int{}, failures: 1000}
	w := &Workers{Name: "test", Queue: fastQueue(), Sync: r.sync, MaxRetries: 3}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx, 1)
	w.Queue.Add("k")
	waitFor(t, "four syncs", func() bool { return r.count("k") >= 4 })
	time.Sleep(50 * time.Millisecond)
	if got := r.count("k"); got != 4 {
		t.Errorf("k synced %d times, want 4 (the first try and three retries)", got)
	}
}

func TestWorkersRequeueAfterASuccessThatAsksForIt(t *testing.T) {
	r := &syncRecorder{calls: map[string]int{}, after: 5 * time.Millisecond}
	w := &Workers{Name: "test", Queue: fastQueue(), Sync: r.sync}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx, 1)
	w.Queue.Add("k")
	waitFor(t, "the requeued sync", func() bool { return r.count("k") >= 3 })
}

func TestResolveControllerRef(t *testing.T) {
	gvk := appsv1alpha1.SchemeGroupVersion.WithKind("ReplicaSet")
	rs := &appsv1alpha1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web", UID: "u1"}}
	get := func(name string) (*appsv1alpha1.ReplicaSet, error) {
		if name == rs.Name {
			return rs, nil
		}
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "replicasets"}, name)
	}
	ref := func(kind, apiVersion, name string, uid types.UID) *metav1.OwnerReference {
		return &metav1.OwnerReference{Kind: kind, APIVersion: apiVersion, Name: name, UID: uid}
	}
	for _, tc := range []struct {
		name string
		ref  *metav1.OwnerReference
		want bool
	}{
		{"the owner", ref("ReplicaSet", gvk.GroupVersion().String(), "web", "u1"), true},
		{"a newer object of the same name", ref("ReplicaSet", gvk.GroupVersion().String(), "web", "u0"), false},
		{"another kind", ref("Deployment", gvk.GroupVersion().String(), "web", "u1"), false},
		{"another group", ref("ReplicaSet", "apps/v1", "web", "u1"), false},
		{"gone", ref("ReplicaSet", gvk.GroupVersion().String(), "db", "u1"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ResolveControllerRef(tc.ref, gvk, get)
			if ok != tc.want || (ok && got != rs) || (!ok && got != nil) {
				t.Errorf("ResolveControllerRef = %v, %v; want found=%v", got, ok, tc.want)
			}
		})
	}
}

func TestSelectingControllers(t *testing.T) {
	mk := func(name string, sel *metav1.LabelSelector) *appsv1alpha1.ReplicaSet {
		return &appsv1alpha1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: appsv1alpha1.ReplicaSetSpec{Selector: sel}}
	}
	candidates := []*appsv1alpha1.ReplicaSet{
		mk("match", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}),
		mk("other", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}),
		mk("empty", &metav1.LabelSelector{}),
		mk("invalid", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bogus"}}}),
	}
	selector := func(rs *appsv1alpha1.ReplicaSet) *metav1.LabelSelector { return rs.Spec.Selector }
	got := SelectingControllers(map[string]string{"app": "web", "tier": "front"}, candidates, selector)
	if len(got) != 1 || got[0].Name != "match" {
		t.Errorf("selecting controllers = %v, want only %q", got, "match")
	}
	if got := SelectingControllers(nil, candidates, selector); got != nil {
		t.Errorf("an orphan without labels is selected by %v, want none", got)
	}
}
