package apiserver

import (
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	applyv1alpha1 "skiff.dev/skiff/pkg/generated/applyconfiguration/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/integration/framework"
)

// TestPodLifecycle covers what the scheduler and kubelet write over a pod's
// life: status through pods/status only, spec through the main endpoint only,
// and graceful deletion of pods on a node.
func TestPodLifecycle(t *testing.T) {
	s := framework.StartTestServer(t)
	mustCreateNode(t, s.Client, newNode("life-n1"))
	t.Run("graceful deletion", func(t *testing.T) { testGracefulDeletion(t, s.Client) })
	t.Run("pod status and spec are separate", func(t *testing.T) { testPodStatusSeparation(t, s.Client) })
	t.Run("node status and spec are separate", func(t *testing.T) { testNodeStatusSeparation(t, s.Client) })
}

func testGracefulDeletion(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "graceful"
	pods := c.CoreV1alpha1().Pods(ns)

	t.Run("an unbound pod is deleted at once", func(t *testing.T) {
		mustCreatePod(t, c, ns, newPod("unbound"))
		if err := pods.Delete(ctx, "unbound", metav1.DeleteOptions{}); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := pods.Get(ctx, "unbound", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("get after delete = %v, want NotFound", err)
		}
	})

	t.Run("a bound pod waits for its kubelet", func(t *testing.T) {
		created := mustCreatePod(t, c, ns, newPod("bound"))
		mustBind(t, c, ns, "bound", "life-n1")
		if err := pods.Delete(ctx, "bound", metav1.DeleteOptions{}); err != nil {
			t.Fatalf("delete: %v", err)
		}
		got, err := pods.Get(ctx, "bound", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get after graceful delete = %v; want the pod kept for its kubelet", err)
		}
		if got.DeletionTimestamp == nil || got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 30 {
			t.Fatalf("deletionTimestamp %v grace %v, want set and 30 (the spec's grace)", got.DeletionTimestamp, got.DeletionGracePeriodSeconds)
		}

		// A delete with a longer grace changes nothing; a shorter one shortens it.
		if err := pods.Delete(ctx, "bound", metav1.DeleteOptions{GracePeriodSeconds: ptrTo[int64](60)}); err != nil {
			t.Fatalf("delete with a longer grace: %v", err)
		}
		if err := pods.Delete(ctx, "bound", metav1.DeleteOptions{GracePeriodSeconds: ptrTo[int64](10)}); err != nil {
			t.Fatalf("delete with a shorter grace: %v", err)
		}
		got, _ = pods.Get(ctx, "bound", metav1.GetOptions{})
		if got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 10 {
			t.Errorf("grace after shortening = %v, want 10", got.DeletionGracePeriodSeconds)
		}

		// The kubelet's final delete names the pod it stopped by UID: a
		// pod recreated under the same name is not deleted by mistake.
		wrongUID := types.UID("00000000-0000-0000-0000-000000000000")
		err = pods.Delete(ctx, "bound", metav1.DeleteOptions{GracePeriodSeconds: ptrTo[int64](0), Preconditions: &metav1.Preconditions{UID: &wrongUID}})
		expectStatus(t, err, 409, "final delete with another pod's UID")
		if err := pods.Delete(ctx, "bound", metav1.DeleteOptions{GracePeriodSeconds: ptrTo[int64](0), Preconditions: &metav1.Preconditions{UID: &created.UID}}); err != nil {
			t.Fatalf("final delete: %v", err)
		}
		if _, err := pods.Get(ctx, "bound", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("get after the final delete = %v, want NotFound", err)
		}
	})

	t.Run("a finished pod is deleted at once", func(t *testing.T) {
		mustCreatePod(t, c, ns, newPod("done"))
		mustBind(t, c, ns, "done", "life-n1")
		p, _ := pods.Get(ctx, "done", metav1.GetOptions{})
		p.Status.Phase = v1alpha1.PodSucceeded
		if _, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update status: %v", err)
		}
		if err := pods.Delete(ctx, "done", metav1.DeleteOptions{}); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := pods.Get(ctx, "done", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("get after delete = %v, want NotFound", err)
		}
	})
}

func testPodStatusSeparation(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "separation"
	pods := c.CoreV1alpha1().Pods(ns)
	mustCreatePod(t, c, ns, newPod("web"))
	mustBind(t, c, ns, "web", "life-n1")
	bound, _ := pods.Get(ctx, "web", metav1.GetOptions{})
	if bound.Generation != 2 {
		t.Fatalf("generation after binding = %d, want 2", bound.Generation)
	}

	// pods/status takes status and ignores spec.
	p := bound.DeepCopy()
	p.Status.Phase = v1alpha1.PodRunning
	p.Status.PodIP = "10.1.0.5"
	p.Status.ContainerStatuses = []v1alpha1.ContainerStatus{{Name: "main", Ready: true, State: v1alpha1.ContainerState{Running: &v1alpha1.ContainerStateRunning{}}}}
	p.Spec.Containers[0].Image = "sneaky:1"
	p.Spec.Tolerations = []v1alpha1.Toleration{{Key: "sneaky", Operator: v1alpha1.TolerationOpExists}}
	updated, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status with a spec change: %v", err)
	}
	if updated.Status.Phase != v1alpha1.PodRunning || updated.Status.PodIP != "10.1.0.5" {
		t.Errorf("status = %+v, want Running with the IP", updated.Status)
	}
	// The only tolerations are DefaultTolerationSeconds' two, added at create.
	if updated.Spec.Containers[0].Image != "busybox:1.36" || len(updated.Spec.Tolerations) != 2 {
		t.Errorf("pods/status changed the spec: image %s tolerations %v", updated.Spec.Containers[0].Image, updated.Spec.Tolerations)
	}
	if updated.Generation != 2 {
		t.Errorf("generation after a status write = %d, want 2", updated.Generation)
	}

	// A patch of pods/status works the same way (kubectl patch --subresource=status).
	patched, err := pods.Patch(ctx, "web", types.MergePatchType,
		[]byte(`{"spec":{"schedulerName":"sneaky"},"status":{"message":"patched"}}`), metav1.PatchOptions{}, "status")
	if err != nil {
		t.Fatalf("status patch: %v", err)
	}
	if patched.Status.Message != "patched" || patched.Spec.SchedulerName != "skiff-scheduler" {
		t.Errorf("status patch: message %q schedulerName %q, want patched and unchanged", patched.Status.Message, patched.Spec.SchedulerName)
	}

	// The main endpoint takes spec and metadata and ignores status.
	m := patched.DeepCopy()
	m.Status.Phase = v1alpha1.PodFailed
	m.Status.PodIP = "10.9.9.9"
	m.Labels["seen"] = "yes"
	updated, err = pods.Update(ctx, m, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update with a status change: %v", err)
	}
	if updated.Status.Phase != v1alpha1.PodRunning || updated.Status.PodIP != "10.1.0.5" {
		t.Errorf("the main endpoint changed status: %+v", updated.Status)
	}
	if updated.Labels["seen"] != "yes" {
		t.Errorf("label change lost: %v", updated.Labels)
	}
	if updated.Generation != 2 {
		t.Errorf("generation after a metadata-only update = %d, want 2", updated.Generation)
	}

	// A spec change bumps the generation, once.
	u := updated.DeepCopy()
	u.Spec.Containers[0].Image = "busybox:1.37"
	updated, err = pods.Update(ctx, u, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("image update: %v", err)
	}
	if updated.Generation != 3 {
		t.Errorf("generation after an image change = %d, want 3", updated.Generation)
	}

	// Server-side apply follows the same split.
	applied, err := pods.ApplyStatus(ctx, applyv1alpha1.Pod("web", ns).WithStatus(applyv1alpha1.PodStatus().WithReason("Applied")),
		metav1.ApplyOptions{FieldManager: "kubelet", Force: true})
	if err != nil {
		t.Fatalf("apply status: %v", err)
	}
	if applied.Status.Reason != "Applied" || applied.Generation != 3 {
		t.Errorf("apply status: reason %q generation %d, want Applied and 3", applied.Status.Reason, applied.Generation)
	}
	applied, err = pods.Apply(ctx, applyv1alpha1.Pod("web", ns).WithStatus(applyv1alpha1.PodStatus().WithReason("Ignored")),
		metav1.ApplyOptions{FieldManager: "user", Force: true})
	if err != nil {
		t.Fatalf("apply with status on the main endpoint: %v", err)
	}
	if applied.Status.Reason != "Applied" {
		t.Errorf("apply on the main endpoint changed status.reason to %q", applied.Status.Reason)
	}

	// pods/status may not move a pod, and the main endpoint may not bind it.
	n := applied.DeepCopy()
	n.Spec.NodeName = "elsewhere"
	_, err = pods.Update(ctx, n, metav1.UpdateOptions{})
	st := expectStatus(t, err, 422, "update that changes nodeName")
	if !hasCause(st, "spec.nodeName") {
		t.Errorf("causes = %s, want spec.nodeName", causesOf(st))
	}

	// An invalid status is refused with its field.
	bad := applied.DeepCopy()
	bad.Status.Phase = "Exploded"
	_, err = pods.UpdateStatus(ctx, bad, metav1.UpdateOptions{})
	st = expectStatus(t, err, 422, "status update with an unknown phase")
	if !hasCause(st, "status.phase") {
		t.Errorf("causes = %s, want status.phase", causesOf(st))
	}
}

func testNodeStatusSeparation(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	nodes := c.CoreV1alpha1().Nodes()
	node := mustCreateNode(t, c, newNode("sep-n1"))

	n := node.DeepCopy()
	n.Spec.Unschedulable = true
	n.Status.Conditions[0].Status = v1alpha1.ConditionFalse
	updated, err := nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	if updated.Spec.Unschedulable {
		t.Error("nodes/status cordoned the node")
	}
	if updated.Status.Conditions[0].Status != v1alpha1.ConditionFalse {
		t.Errorf("conditions = %+v, want Ready=False", updated.Status.Conditions)
	}
	if updated.Generation != 1 {
		t.Errorf("generation after a status write = %d, want 1", updated.Generation)
	}

	u := updated.DeepCopy()
	u.Spec.Unschedulable = true
	u.Status.Conditions[0].Status = v1alpha1.ConditionTrue
	updated, err = nodes.Update(ctx, u, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if !updated.Spec.Unschedulable || updated.Status.Conditions[0].Status != v1alpha1.ConditionFalse {
		t.Errorf("update: unschedulable %v conditions %+v, want cordoned and Ready still False", updated.Spec.Unschedulable, updated.Status.Conditions)
	}
	if updated.Generation != 2 {
		t.Errorf("generation after cordon = %d, want 2", updated.Generation)
	}
}
