package apiserver

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	applycorev1 "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"

	"skiff.dev/skiff/pkg/apiserver"
	"skiff.dev/skiff/test/integration/framework"
)

// TestLegacyCoreGroup: /api/v1 serves upstream's Namespace and Event, and
// nothing else of the core group.
func TestLegacyCoreGroup(t *testing.T) {
	s := framework.StartTestServer(t, framework.WithNamespaceLifecycle())
	t.Run("events", func(t *testing.T) { testEventCRUD(t, s.Kube) })
	t.Run("discovery", func(t *testing.T) {
		resources, err := s.Kube.Discovery().ServerResourcesForGroupVersion("v1")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range resources.APIResources {
			names = append(names, r.Name)
		}
		if got, want := strings.Join(names, ","), "events,namespaces,namespaces/finalize,namespaces/status"; got != want {
			t.Errorf("/api/v1 serves %s, want %s", got, want)
		}
	})
	t.Run("namespaces", func(t *testing.T) { testNamespaceLifecycle(t, s) })
}

func testNamespaceLifecycle(t *testing.T, s *framework.TestServer) {
	ctx := testContext(t)
	namespaces := s.Kube.CoreV1().Namespaces()

	// The system namespaces exist from the start.
	for _, name := range apiserver.SystemNamespaces {
		ns, err := namespaces.Get(ctx, name, metav1.GetOptions{})
		if err != nil || ns.Status.Phase != corev1.NamespaceActive {
			t.Errorf("system namespace %s = %v, %v; want it Active", name, ns, err)
		}
	}

	// A new namespace is Active, with the namespace controller's finalizer
	// and its name label, whatever the client says of its status.
	created, err := namespaces.Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "team-a"},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	if created.Status.Phase != corev1.NamespaceActive || len(created.Spec.Finalizers) != 1 || created.Spec.Finalizers[0] != corev1.FinalizerKubernetes ||
		created.Labels[corev1.LabelMetadataName] != "team-a" {
		t.Errorf("created namespace = %+v, want Active with finalizer kubernetes and its name label", created)
	}
	if _, err := namespaces.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "Team_A"}}, metav1.CreateOptions{}); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "metadata.name") {
		t.Errorf("create a badly named namespace: %v, want 422 on metadata.name", err)
	}
	byPhase, err := namespaces.List(ctx, metav1.ListOptions{FieldSelector: "status.phase=Active,metadata.name=team-a"})
	if err != nil || len(byPhase.Items) != 1 {
		t.Errorf("list by status.phase and name = %v, %v; want team-a", byPhase, err)
	}

	// A pod in a namespace that does not exist is refused, as upstream does.
	_, err = s.Client.CoreV1alpha1().Pods("nowhere").Create(ctx, newPod("p"), metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), `namespaces "nowhere" not found`) {
		t.Errorf("pod in a missing namespace: %v, want 404 namespaces \"nowhere\" not found", err)
	}
	if _, err := s.Client.CoreV1alpha1().Pods("team-a").Create(ctx, newPod("p"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("pod in team-a: %v", err)
	}

	// default and skiff-system may not be deleted.
	if err := namespaces.Delete(ctx, "default", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("delete default: %v, want 403", err)
	}

	// Deleting marks the namespace Terminating and keeps it while it has its
	// finalizer; nothing new may be created in it.
	if err := namespaces.Delete(ctx, "team-a", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete team-a: %v", err)
	}
	ns, err := namespaces.Get(ctx, "team-a", metav1.GetOptions{})
	if err != nil || ns.Status.Phase != corev1.NamespaceTerminating || ns.DeletionTimestamp == nil {
		t.Fatalf("deleted namespace = %+v, %v; want it Terminating", ns, err)
	}
	// The admission plugin learns of it through its informer; wait for that.
	var lastErr error
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, lastErr = s.Client.CoreV1alpha1().Pods("team-a").Create(ctx, newPod("late"), metav1.CreateOptions{})
		return lastErr != nil, nil
	})
	if err != nil || !apierrors.IsForbidden(lastErr) || !strings.Contains(lastErr.Error(), "unable to create new content in namespace team-a because it is being terminated") {
		t.Errorf("pod in a terminating namespace: %v, want 403 with upstream's message", lastErr)
	}
	// The main endpoint and the status endpoint leave spec.finalizers alone.
	ns.Spec.Finalizers = nil
	if ns, err = namespaces.Update(ctx, ns, metav1.UpdateOptions{}); err != nil || len(ns.Spec.Finalizers) != 1 {
		t.Fatalf("update that drops the finalizer = %+v, %v; want the finalizer kept", ns, err)
	}
	ns.Status.Phase = corev1.NamespaceActive
	if _, err := namespaces.UpdateStatus(ctx, ns, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "status.phase") {
		t.Errorf("making a deleted namespace Active again: %v, want 422 on status.phase", err)
	}
	// Finalize removes it, and with it the namespace, as upstream's
	// store does when a deleted object's last finalizer goes.
	ns.Spec.Finalizers = nil
	if _, err := namespaces.Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("finalize: %v", err)
	}
	if _, err := namespaces.Get(ctx, "team-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("finalized and deleted namespace: %v, want it gone", err)
	}
}

func testEventCRUD(t *testing.T, c kubernetes.Interface) {
	ctx := testContext(t)
	const ns = "crud-events"
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	events := c.CoreV1().Events(ns)
	w, err := events.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()

	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "web.1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "web", UID: "uid-web", APIVersion: "core.skiff.dev/v1alpha1"},
		Reason:         "Scheduled", Message: "assigned to n1", Type: "Normal", Count: 1,
		Source:         corev1.EventSource{Component: "skiff-scheduler"},
		FirstTimestamp: now, LastTimestamp: now,
	}
	if _, err := events.Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	expectWatch(t, w, watch.Added, "web.1")

	got, err := events.Get(ctx, "web.1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	got.Count = 2
	if _, err := events.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update (a repeated event): %v", err)
	}
	expectWatch(t, w, watch.Modified, "web.1")
	patched, err := events.Patch(ctx, "web.1", types.StrategicMergePatchType, []byte(`{"count":3,"message":"again"}`), metav1.PatchOptions{})
	if err != nil || patched.Count != 3 || patched.Message != "again" {
		t.Fatalf("patch = %+v, %v", patched, err)
	}
	expectWatch(t, w, watch.Modified, "web.1")
	if _, err := events.Patch(ctx, "web.1", types.MergePatchType, []byte(`{"count":4}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("merge patch: %v", err)
	}
	expectWatch(t, w, watch.Modified, "web.1")
	if _, err := events.Patch(ctx, "web.1", types.JSONPatchType, []byte(`[{"op":"replace","path":"/count","value":5}]`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("json patch: %v", err)
	}
	expectWatch(t, w, watch.Modified, "web.1")
	applied, err := events.Apply(ctx, applycorev1.Event("web.1", ns).WithCount(6), metav1.ApplyOptions{FieldManager: "tester", Force: true})
	if err != nil || applied.Count != 6 || applied.Reason != "Scheduled" {
		t.Fatalf("apply = %+v, %v", applied, err)
	}
	expectWatch(t, w, watch.Modified, "web.1")

	// Events select by the object they are about, as `kubectl describe` asks.
	sel, err := events.List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=web,involvedObject.kind=Pod,reason=Scheduled"})
	if err != nil || len(sel.Items) != 1 {
		t.Fatalf("list by involvedObject = %v, %v; want the event", sel, err)
	}
	for _, selector := range []string{
		"involvedObject.uid=uid-web", "involvedObject.apiVersion=core.skiff.dev/v1alpha1", "involvedObject.namespace=" + ns,
		"source=skiff-scheduler", "type=Normal", "reportingComponent=",
	} {
		if l, err := events.List(ctx, metav1.ListOptions{FieldSelector: selector}); err != nil || len(l.Items) != 1 {
			t.Errorf("list by %s = %v, %v; want the event", selector, l, err)
		}
	}
	if _, err := events.List(ctx, metav1.ListOptions{FieldSelector: "message=x"}); !apierrors.IsBadRequest(err) {
		t.Errorf("list by an unsupported field: %v, want 400", err)
	}
	none, err := events.List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=other"})
	if err != nil || len(none.Items) != 0 {
		t.Fatalf("list by another involvedObject = %v, %v; want none", none, err)
	}

	// A recorder may PUT an event it has not created, as upstream's does.
	putNew := ev.DeepCopy()
	putNew.Name = "web.2"
	if _, err := events.Update(ctx, putNew, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update of an event that does not exist yet: %v", err)
	}
	expectWatch(t, w, watch.Added, "web.2")

	if err := events.Delete(ctx, "web.1", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	expectWatch(t, w, watch.Deleted, "web.1")
}
