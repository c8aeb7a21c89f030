package events

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// TestEventAboutASkiffPodIsACoreV1Event: the event lands in /api/v1 in the
// pod's namespace and its involvedObject names the pod as kubectl describe
// and kubectl events match it: core.skiff.dev/v1alpha1 Pod, name, uid.
func TestEventAboutASkiffPodIsACoreV1Event(t *testing.T) {
	client := fake.NewClientset()
	recorder, stop := NewRecorder(client, "skiff-scheduler", "host-1")
	defer stop()
	pod := &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: "team-a", UID: "uid-big", ResourceVersion: "7"}}
	recorder.Eventf(pod, corev1.EventTypeWarning, "FailedScheduling", "0/1 nodes are available: %s", "1 Insufficient cpu.")

	var events *corev1.EventList
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		events, err = client.CoreV1().Events("team-a").List(ctx, metav1.ListOptions{})
		return err == nil && len(events.Items) == 1, nil
	})
	if err != nil {
		t.Fatalf("no event written: %v", err)
	}
	e := events.Items[0]
	want := corev1.ObjectReference{Kind: "Pod", APIVersion: "core.skiff.dev/v1alpha1", Namespace: "team-a", Name: "big", UID: "uid-big", ResourceVersion: "7"}
	if e.InvolvedObject != want {
		t.Errorf("involvedObject = %+v, want %+v", e.InvolvedObject, want)
	}
	if e.Type != corev1.EventTypeWarning || e.Reason != "FailedScheduling" || e.Message != "0/1 nodes are available: 1 Insufficient cpu." ||
		e.Source != (corev1.EventSource{Component: "skiff-scheduler", Host: "host-1"}) {
		t.Errorf("event = %+v", e)
	}
}
