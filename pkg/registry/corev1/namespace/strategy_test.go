package namespace

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestPrepareForCreate(t *testing.T) {
	s := NewStrategy(runtime.NewScheme())
	ns := &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "team-a"},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"example.com/mine"}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating},
	}
	s.PrepareForCreate(context.Background(), ns)
	s.Canonicalize(ns)
	if ns.Status.Phase != corev1.NamespaceActive {
		t.Errorf("phase = %s, want Active whatever the client sent", ns.Status.Phase)
	}
	if len(ns.Spec.Finalizers) != 2 || ns.Spec.Finalizers[1] != corev1.FinalizerKubernetes {
		t.Errorf("finalizers = %v, want the client's and kubernetes", ns.Spec.Finalizers)
	}
	if ns.Labels[corev1.LabelMetadataName] != "team-a" {
		t.Errorf("labels = %v, want %s=team-a", ns.Labels, corev1.LabelMetadataName)
	}
	// Creating again keeps one kubernetes finalizer.
	s.PrepareForCreate(context.Background(), ns)
	if len(ns.Spec.Finalizers) != 2 {
		t.Errorf("finalizers after a second prepare = %v", ns.Spec.Finalizers)
	}
}

func TestEndpointsWriteTheirOwnPart(t *testing.T) {
	old := &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "team-a"},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
	}
	changed := func() *corev1.Namespace {
		ns := old.DeepCopy()
		ns.Labels = map[string]string{"team": "a"}
		ns.Spec.Finalizers = nil
		ns.Status.Phase = corev1.NamespaceTerminating
		return ns
	}
	scheme := runtime.NewScheme()
	tests := []struct {
		name          string
		prepare       func(ctx context.Context, obj, old runtime.Object)
		wantFinalizer bool
		wantPhase     corev1.NamespacePhase
	}{
		{"the main endpoint keeps spec.finalizers and status", NewStrategy(scheme).PrepareForUpdate, true, corev1.NamespaceActive},
		{"namespaces/status keeps spec", NewStatusStrategy(scheme).PrepareForUpdate, true, corev1.NamespaceTerminating},
		{"namespaces/finalize keeps status", NewFinalizeStrategy(scheme).PrepareForUpdate, false, corev1.NamespaceActive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns := changed()
			tc.prepare(context.Background(), ns, old)
			if got := len(ns.Spec.Finalizers) == 1; got != tc.wantFinalizer {
				t.Errorf("finalizers = %v, want kept=%v", ns.Spec.Finalizers, tc.wantFinalizer)
			}
			if ns.Status.Phase != tc.wantPhase {
				t.Errorf("phase = %s, want %s", ns.Status.Phase, tc.wantPhase)
			}
			if ns.Labels["team"] != "a" {
				t.Errorf("labels = %v, want metadata written", ns.Labels)
			}
		})
	}
}

func TestSelectableFields(t *testing.T) {
	_, fields, err := GetAttrs(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}})
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{"metadata.name": "team-a", "status.phase": "Active", "name": "team-a"} {
		if fields[f] != want {
			t.Errorf("field %s = %q, want %q", f, fields[f], want)
		}
	}
}
