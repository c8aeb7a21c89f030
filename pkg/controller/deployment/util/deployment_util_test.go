package util

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

func ios(s string) *intstr.IntOrString {
	v := intstr.Parse(s)
	return &v
}

// TestResolveFenceposts: surge rounds up, unavailable down, and both zero
// becomes one unavailable.
func TestResolveFenceposts(t *testing.T) {
	tests := []struct {
		surge, unavailable string
		replicas           int32
		wantSurge, wantU   int32
	}{
		{"25%", "25%", 4, 1, 1},
		{"25%", "25%", 3, 1, 0},
		{"25%", "25%", 1, 1, 0},
		{"25%", "25%", 10, 3, 2},
		{"25%", "25%", 1000, 250, 250},
		{"0", "0", 5, 0, 1},
		{"0%", "0%", 5, 0, 1},
		{"1", "0", 3, 1, 0},
		{"0", "1", 3, 0, 1},
		{"50%", "50%", 5, 3, 2},
		{"100%", "100%", 3, 3, 3},
		{"2", "34%", 3, 2, 1},
	}
	for _, tc := range tests {
		s, u, err := ResolveFenceposts(ios(tc.surge), ios(tc.unavailable), tc.replicas)
		if err != nil || s != tc.wantSurge || u != tc.wantU {
			t.Errorf("ResolveFenceposts(%s, %s, %d) = %d, %d, %v; want %d, %d", tc.surge, tc.unavailable, tc.replicas, s, u, err, tc.wantSurge, tc.wantU)
		}
	}
}

func deployment(replicas int32, surge, unavailable string) *appsv1alpha1.Deployment {
	return &appsv1alpha1.Deployment{Spec: appsv1alpha1.DeploymentSpec{
		Replicas: &replicas,
		Strategy: appsv1alpha1.DeploymentStrategy{Type: appsv1alpha1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1alpha1.RollingUpdateDeployment{MaxSurge: ios(surge), MaxUnavailable: ios(unavailable)}},
	}}
}

func rs(name string, replicas int32) *appsv1alpha1.ReplicaSet {
	return &appsv1alpha1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)}, Spec: appsv1alpha1.ReplicaSetSpec{Replicas: &replicas}}
}

func TestNewRSNewReplicas(t *testing.T) {
	tests := []struct {
		name     string
		d        *appsv1alpha1.Deployment
		old, cur int32
		want     int32
	}{
		{"start of a 25% rollout of 4", deployment(4, "25%", "25%"), 4, 0, 1},
		{"surge used up", deployment(4, "25%", "25%"), 4, 1, 1},
		{"old scaled down, room again", deployment(4, "25%", "25%"), 2, 1, 3},
		{"never above replicas", deployment(4, "100%", "0"), 0, 3, 4},
		{"surge 0 waits for scale-down", deployment(3, "0", "1"), 3, 0, 0},
		{"surge 0 after one old gone", deployment(3, "0", "1"), 2, 0, 1},
		{"1000 at 25%", deployment(1000, "25%", "25%"), 1000, 0, 250},
	}
	for _, tc := range tests {
		newRS := rs("new", tc.cur)
		got := NewRSNewReplicas(tc.d, []*appsv1alpha1.ReplicaSet{rs("old", tc.old), newRS}, newRS)
		if got != tc.want {
			t.Errorf("%s: NewRSNewReplicas = %d, want %d", tc.name, got, tc.want)
		}
	}
	recreate := deployment(5, "25%", "25%")
	recreate.Spec.Strategy = appsv1alpha1.DeploymentStrategy{Type: appsv1alpha1.RecreateDeploymentStrategyType}
	if got := NewRSNewReplicas(recreate, nil, rs("new", 0)); got != 5 {
		t.Errorf("recreate: %d, want 5", got)
	}
}

func TestEqualIgnoreHashAndComputeHash(t *testing.T) {
	a := v1alpha1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "c", Image: "x"}}}}
	b := *a.DeepCopy()
	b.Labels[DefaultDeploymentUniqueLabelKey] = ComputeHash(&a, nil)
	if !EqualIgnoreHash(&a, &b) {
		t.Error("templates differing only in pod-template-hash are not equal")
	}
	b.Spec.Containers[0].Image = "y"
	if EqualIgnoreHash(&a, &b) {
		t.Error("templates with different images are equal")
	}
	one := int32(1)
	if ComputeHash(&a, nil) == ComputeHash(&a, &one) {
		t.Error("the collision count does not change the hash")
	}
	if ComputeHash(&a, nil) != ComputeHash(a.DeepCopy(), nil) {
		t.Error("the hash is not stable")
	}
}

func TestSetNewReplicaSetAnnotationsKeepsRevisionHistory(t *testing.T) {
	d := deployment(3, "25%", "25%")
	d.Annotations = map[string]string{"team": "a", "kubectl.kubernetes.io/last-applied-configuration": "{}"}
	r := rs("r", 3)
	if !SetNewReplicaSetAnnotations(d, r, "1", false) {
		t.Fatal("nothing changed on a fresh ReplicaSet")
	}
	if r.Annotations[RevisionAnnotation] != "1" || r.Annotations["team"] != "a" || r.Annotations[DesiredReplicasAnnotation] != "3" ||
		r.Annotations[MaxReplicasAnnotation] != "4" {
		t.Errorf("annotations %v", r.Annotations)
	}
	if _, ok := r.Annotations["kubectl.kubernetes.io/last-applied-configuration"]; ok {
		t.Error("last-applied-configuration was copied")
	}
	SetNewReplicaSetAnnotations(d, r, "3", true)
	SetNewReplicaSetAnnotations(d, r, "5", true)
	if r.Annotations[RevisionAnnotation] != "5" || r.Annotations[RevisionHistoryAnnotation] != "1,3" {
		t.Errorf("revision %q history %q", r.Annotations[RevisionAnnotation], r.Annotations[RevisionHistoryAnnotation])
	}
}

func TestProportion(t *testing.T) {
	// 10 replicas, surge 3 (25% up): annotated max 13; scaled to 20, surge 5: new max 25.
	d := deployment(20, "25%", "25%")
	r := rs("r", 6)
	r.Annotations = map[string]string{MaxReplicasAnnotation: "13"}
	// 6 * 25 / 13 = 11.5 -> 12: +6.
	if got := Proportion(r, d, 12, 0); got != 6 {
		t.Errorf("Proportion = %d, want 6", got)
	}
	// Never more than what is left to add.
	if got := Proportion(r, d, 12, 10); got != 2 {
		t.Errorf("Proportion capped = %d, want 2", got)
	}
}
