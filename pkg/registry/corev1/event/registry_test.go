package event

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func recorded() *corev1.Event {
	ago := metav1.NewTime(time.Now().Add(-90 * time.Second))
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "big.1", Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "core.skiff.dev/v1alpha1", Namespace: "default", Name: "big",
			UID: "uid-big", ResourceVersion: "7", FieldPath: "spec.containers{main}"},
		Reason: "FailedScheduling", Message: "0/1 nodes are available", Type: corev1.EventTypeWarning, Count: 3,
		Source:         corev1.EventSource{Component: "skiff-scheduler", Host: "h1"},
		FirstTimestamp: ago, LastTimestamp: ago,
	}
}

// TestSelectableFields: every field selector upstream accepts on events.
func TestSelectableFields(t *testing.T) {
	_, fields, err := GetAttrs(recorded())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"metadata.name": "big.1", "metadata.namespace": "default",
		"involvedObject.kind": "Pod", "involvedObject.apiVersion": "core.skiff.dev/v1alpha1", "involvedObject.namespace": "default",
		"involvedObject.name": "big", "involvedObject.uid": "uid-big", "involvedObject.resourceVersion": "7",
		"involvedObject.fieldPath": "spec.containers{main}", "reason": "FailedScheduling", "reportingComponent": "",
		"source": "skiff-scheduler", "type": "Warning",
	}
	for f, v := range want {
		if got, ok := fields[f]; !ok || got != v {
			t.Errorf("field %s = %q (present %v), want %q", f, got, ok, v)
		}
	}
	if len(SelectableFields)+2 != len(want) {
		t.Errorf("SelectableFields %v does not match the fields tested", SelectableFields)
	}
}

// TestRow: kubectl get events prints LAST SEEN, TYPE, REASON, OBJECT, MESSAGE.
func TestRow(t *testing.T) {
	cells, err := printEvent(recorded())
	if err != nil {
		t.Fatal(err)
	}
	want := []interface{}{"90s", "Warning", "FailedScheduling", "pod/big", "0/1 nodes are available", "skiff-scheduler, h1", "90s", int64(3), "big.1"}
	for i := range want {
		if cells[i] != want[i] {
			t.Errorf("cell %d = %v, want %v", i, cells[i], want[i])
		}
	}
}
