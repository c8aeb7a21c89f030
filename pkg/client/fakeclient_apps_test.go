package client_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	appsac "skiff.dev/skiff/pkg/generated/applyconfiguration/apps/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
)

// TestNewClientsetServesApps guards what the controllers' unit tests need of
// the fake clientset for apps.skiff.dev: create, update of status, watch,
// and server-side apply, whose schema must cover the group.
func TestNewClientsetServesApps(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	replicaSets := cs.AppsV1alpha1().ReplicaSets(ns)
	w, err := replicaSets.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("watching replicasets: %v", err)
	}
	defer w.Stop()

	replicas := int32(2)
	rs := &appsv1alpha1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Labels: map[string]string{"app": "web"}},
		Spec: appsv1alpha1.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: v1alpha1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "app", Image: "busybox"}}},
			},
		},
	}
	if _, err := replicaSets.Create(ctx, rs, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if ev := <-w.ResultChan(); ev.Type != watch.Added {
		t.Errorf("first event %s, want ADDED", ev.Type)
	}
	rs.Status.Replicas = 2
	if _, err := replicaSets.UpdateStatus(ctx, rs, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update status: %v", err)
	}

	apply := appsac.Deployment("web", ns).WithSpec(appsac.DeploymentSpec().WithReplicas(3).WithPaused(true))
	d, err := cs.AppsV1alpha1().Deployments(ns).Apply(ctx, apply, metav1.ApplyOptions{FieldManager: "tester"})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if *d.Spec.Replicas != 3 || !d.Spec.Paused {
		t.Errorf("applied deployment spec %+v", d.Spec)
	}
}
