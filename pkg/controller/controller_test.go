package controller

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clocktesting "k8s.io/utils/clock/testing"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
)

func TestExpectations(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := NewExpectations(clk)
	if !e.Satisfied("a") {
		t.Fatal("a key never seen is not satisfied")
	}
	e.ExpectCreations("a", 2)
	e.CreationObserved("a")
	if e.Satisfied("a") {
		t.Fatal("satisfied with one of two creations observed")
	}
	e.CreationObserved("a")
	if !e.Satisfied("a") {
		t.Fatal("not satisfied with both creations observed")
	}
	e.ExpectDeletions("a", []string{"ns/p1", "ns/p2"})
	e.DeletionObserved("a", "ns/p1")
	e.DeletionObserved("a", "ns/p1")    // the same pod again
	e.DeletionObserved("a", "ns/other") // not one we deleted
	if _, del, _ := e.Pending("a"); del != 1 {
		t.Fatalf("%d deletions pending, want 1", del)
	}
	clk.Step(ExpectationsTimeout + time.Second)
	if !e.Satisfied("a") {
		t.Fatal("an expired expectation still blocks")
	}
	e.Delete("a")
	if _, _, ok := e.Pending("a"); ok {
		t.Fatal("deleted expectations still there")
	}
}

func TestDeletionCostRanksFirst(t *testing.T) {
	mk := func(name, cost string) *v1alpha1.Pod {
		p := &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.PodSpec{NodeName: "n"},
			Status: v1alpha1.PodStatus{Phase: v1alpha1.PodRunning}}
		if cost != "" {
			p.Annotations = map[string]string{PodDeletionCostAnnotation: cost}
		}
		return p
	}
	s := ActivePodsWithRanks{Pods: []*v1alpha1.Pod{mk("cheap", "-5"), mk("default", ""), mk("dear", "10")}, Rank: []int{1, 1, 1}}
	if !s.Less(0, 1) || !s.Less(1, 2) || s.Less(2, 0) {
		t.Error("pod-deletion-cost does not order cheap < default < dear")
	}
}

// TestClaimReplicaSetsNeverSteals: a ReplicaSet controlled by another
// Deployment is left alone even though it matches.
func TestClaimReplicaSetsNeverSteals(t *testing.T) {
	d := &appsv1alpha1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "d", UID: "d-uid"}}
	other := &appsv1alpha1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "o", UID: "o-uid"}}
	gvk := schema.GroupVersionKind{Group: "apps.skiff.dev", Version: "v1alpha1", Kind: "Deployment"}
	theirs := &appsv1alpha1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "theirs", UID: "t",
		Labels: map[string]string{"app": "x"}, OwnerReferences: []metav1.OwnerReference{*NewControllerRef(other, gvk)}}}
	orphan := &appsv1alpha1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "orphan", UID: "o",
		Labels: map[string]string{"app": "x"}}}
	client := fake.NewClientset(theirs, orphan)
	m := &ReplicaSetControllerRefManager{
		RefManager: RefManager{Controller: d, Selector: labels.SelectorFromSet(labels.Set{"app": "x"}),
			CanAdopt: func(context.Context) error { return nil }},
		Client: client, ControllerGVK: gvk,
	}
	got, err := m.ClaimReplicaSets(context.Background(), []*appsv1alpha1.ReplicaSet{theirs, orphan})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "orphan" {
		t.Errorf("claimed %v, want only the orphan", got)
	}
	if a := client.Actions(); len(a) != 1 || a[0].GetVerb() != "patch" {
		t.Errorf("API calls %v, want the one adoption patch", a)
	}
	rs, _ := client.AppsV1alpha1().ReplicaSets("ns").Get(context.Background(), "orphan", metav1.GetOptions{})
	if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != "d-uid" || !*ref.BlockOwnerDeletion {
		t.Errorf("adopted orphan's controllerRef %+v", ref)
	}
}
