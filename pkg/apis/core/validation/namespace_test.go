package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func validNamespace() *corev1.Namespace {
	return &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "team-a", ResourceVersion: "1"},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
	}
}

func TestValidateNamespace(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(ns *corev1.Namespace)
		want   []want
	}{
		{name: "a namespace with the kubernetes finalizer is valid", mutate: func(*corev1.Namespace) {}},
		{name: "the name is a DNS label", mutate: func(ns *corev1.Namespace) { ns.Name = "team.a" },
			want: []want{invalid("metadata.name")}},
		{name: "the name is required", mutate: func(ns *corev1.Namespace) { ns.Name = "" },
			want: []want{required("metadata.name")}},
		{name: "a namespace is not in a namespace", mutate: func(ns *corev1.Namespace) { ns.Namespace = "default" },
			want: []want{forbidden("metadata.namespace")}},
		{name: "a finalizer without a domain must be standard", mutate: func(ns *corev1.Namespace) {
			ns.Spec.Finalizers = append(ns.Spec.Finalizers, "mine")
		}, want: []want{invalid("spec.finalizers[1]").with("neither a standard finalizer name nor is it fully qualified")}},
		{name: "a qualified finalizer is valid", mutate: func(ns *corev1.Namespace) {
			ns.Spec.Finalizers = append(ns.Spec.Finalizers, "example.com/cleanup")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns := validNamespace()
			tc.mutate(ns)
			expectErrors(t, ValidateNamespace(ns), tc.want...)
		})
	}
}

func TestValidateNamespaceStatusUpdate(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name   string
		mutate func(ns *corev1.Namespace)
		want   []want
	}{
		{name: "an active namespace stays Active", mutate: func(*corev1.Namespace) {}},
		{name: "a namespace is not Terminating before deletion", mutate: func(ns *corev1.Namespace) {
			ns.Status.Phase = corev1.NamespaceTerminating
		}, want: []want{invalid("status.phase").with("may only be 'Active'")}},
		{name: "a deleted namespace must be Terminating", mutate: func(ns *corev1.Namespace) {
			ns.DeletionTimestamp = &now
		}, want: []want{invalid("status.phase").with("may only be 'Terminating'"), invalid("metadata.deletionTimestamp")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validNamespace()
			ns := old.DeepCopy()
			tc.mutate(ns)
			expectErrors(t, ValidateNamespaceStatusUpdate(ns, old), tc.want...)
		})
	}
}

func TestValidateNamespaceFinalizeUpdate(t *testing.T) {
	old := validNamespace()
	ns := old.DeepCopy()
	ns.Spec.Finalizers = nil
	expectErrors(t, ValidateNamespaceFinalizeUpdate(ns, old))
	ns.Spec.Finalizers = []corev1.FinalizerName{"bad"}
	expectErrors(t, ValidateNamespaceFinalizeUpdate(ns, old), invalid("spec.finalizers[0]"))
}
