package transform

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

func TestTrimManagedFieldsKeepsTheRest(t *testing.T) {
	pod := &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: "p", Namespace: "default", Labels: map[string]string{"app": "web"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate}},
	}, Spec: v1alpha1.PodSpec{NodeName: "n1"}}
	out, err := TrimManagedFields(pod)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*v1alpha1.Pod)
	if got.ManagedFields != nil {
		t.Errorf("managedFields = %+v, want none", got.ManagedFields)
	}
	if got.Name != "p" || got.Labels["app"] != "web" || got.Spec.NodeName != "n1" {
		t.Errorf("trimmed pod lost more than its managedFields: %+v", got)
	}
}

// A tombstone or any value that is not an object passes through untouched:
// an informer's transform sees what its list and watch return.
func TestTrimManagedFieldsPassesOtherValues(t *testing.T) {
	tomb := cache.DeletedFinalStateUnknown{Key: "default/p"}
	out, err := TrimManagedFields(tomb)
	if err != nil || out != tomb {
		t.Errorf("TrimManagedFields(tombstone) = %v, %v; want it unchanged", out, err)
	}
}
