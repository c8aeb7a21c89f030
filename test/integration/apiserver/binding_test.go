package apiserver

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/integration/framework"
)

// TestBinding covers pods/binding, the only way a pod gets its node: once,
// atomically, never to a pod on its way out.
func TestBinding(t *testing.T) {
	s := framework.StartTestServer(t)
	for i := 0; i < 8; i++ {
		mustCreateNode(t, s.Client, newNode(fmt.Sprintf("bind-n%d", i)))
	}
	t.Run("once only under concurrent binders", func(t *testing.T) { testConcurrentBind(t, s.Client) })
	t.Run("a pod being deleted is refused", func(t *testing.T) { testBindDeleting(t, s.Client) })
	t.Run("bad bindings", func(t *testing.T) { testBadBindings(t, s.Client) })
}

func binding(pod, node string) *v1alpha1.Binding {
	return &v1alpha1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod},
		Target:     v1alpha1.ObjectReference{Kind: "Node", Name: node},
	}
}

func testConcurrentBind(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	// Several rounds: one lucky interleaving proves little.
	for round := 0; round < 5; round++ {
		ns := fmt.Sprintf("race-%d", round)
		mustCreatePod(t, c, ns, newPod("contended"))

		const binders = 8
		errs := make([]error, binders)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < binders; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				_, errs[i] = c.CoreV1alpha1().Pods(ns).Bind(ctx, "contended", binding("contended", fmt.Sprintf("bind-n%d", i)), metav1.CreateOptions{})
			}(i)
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: binders %d and %d both succeeded", round, winner, i)
			case err == nil:
				winner = i
			case !apierrors.IsConflict(err):
				t.Errorf("round %d: binder %d failed with %v, want 409 Conflict", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no binder succeeded: %v", round, errs)
		}
		pod, err := c.CoreV1alpha1().Pods(ns).Get(ctx, "contended", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if want := fmt.Sprintf("bind-n%d", winner); pod.Spec.NodeName != want {
			t.Errorf("round %d: nodeName = %q, want the winner's %q", round, pod.Spec.NodeName, want)
		}
		if !hasCondition(pod, v1alpha1.PodScheduled, v1alpha1.ConditionTrue) {
			t.Errorf("round %d: conditions = %+v, want PodScheduled=True", round, pod.Status.Conditions)
		}
		if pod.Generation != 2 {
			t.Errorf("round %d: generation = %d, want 2 (binding changes the spec)", round, pod.Generation)
		}
	}

	// Binding an already bound pod again, even to the same node, is a conflict.
	_, err := c.CoreV1alpha1().Pods("race-0").Bind(ctx, "contended", binding("contended", "bind-n0"), metav1.CreateOptions{})
	st := expectStatus(t, err, 409, "second bind of a bound pod")
	if !strings.Contains(st.Message, "already") {
		t.Errorf("message %q does not say the pod is already bound", st.Message)
	}
}

func hasCondition(pod *v1alpha1.Pod, typ v1alpha1.PodConditionType, status v1alpha1.ConditionStatus) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == typ && c.Status == status {
			return true
		}
	}
	return false
}

func testBindDeleting(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "bind-deleting"
	p := newPod("leaving")
	p.Finalizers = []string{"skiff.dev/test-hold"}
	mustCreatePod(t, c, ns, p)
	if err := c.CoreV1alpha1().Pods(ns).Delete(ctx, "leaving", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err := c.CoreV1alpha1().Pods(ns).Bind(ctx, "leaving", binding("leaving", "bind-n0"), metav1.CreateOptions{})
	st := expectStatus(t, err, 409, "bind of a pod being deleted")
	if !strings.Contains(st.Message, "deleted") {
		t.Errorf("message %q does not say the pod is being deleted", st.Message)
	}
	got, _ := c.CoreV1alpha1().Pods(ns).Get(ctx, "leaving", metav1.GetOptions{})
	if got.Spec.NodeName != "" {
		t.Errorf("a pod being deleted was bound to %q", got.Spec.NodeName)
	}
	// Let it go.
	if _, err := c.CoreV1alpha1().Pods(ns).Patch(ctx, "leaving", "application/json-patch+json", []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("remove finalizer: %v", err)
	}
}

func testBadBindings(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "bind-bad"
	created := mustCreatePod(t, c, ns, newPod("web"))
	pods := c.CoreV1alpha1().Pods(ns)

	t.Run("empty target name is 422 naming target.name", func(t *testing.T) {
		_, err := pods.Bind(ctx, "web", binding("web", ""), metav1.CreateOptions{})
		st := expectStatus(t, err, 422, "bind to an empty node name")
		if !hasCause(st, "target.name") {
			t.Errorf("causes = %s, want target.name", causesOf(st))
		}
	})
	t.Run("a target that is not a node is 422", func(t *testing.T) {
		b := binding("web", "bind-n0")
		b.Target.Kind = "Pod"
		_, err := pods.Bind(ctx, "web", b, metav1.CreateOptions{})
		st := expectStatus(t, err, 422, "bind to a Pod")
		if !hasCause(st, "target.kind") {
			t.Errorf("causes = %s, want target.kind", causesOf(st))
		}
	})
	t.Run("an invalid node name is 422", func(t *testing.T) {
		_, err := pods.Bind(ctx, "web", binding("web", "Not_A_Node"), metav1.CreateOptions{})
		st := expectStatus(t, err, 422, "bind to an invalid node name")
		if !hasCause(st, "target.name") {
			t.Errorf("causes = %s, want target.name", causesOf(st))
		}
	})
	t.Run("a missing pod is 404", func(t *testing.T) {
		_, err := pods.Bind(ctx, "missing", binding("missing", "bind-n0"), metav1.CreateOptions{})
		expectStatus(t, err, 404, "bind of a missing pod")
	})
	t.Run("a binding naming another pod than the URL is 400", func(t *testing.T) {
		_, err := pods.Bind(ctx, "web", binding("other", "bind-n0"), metav1.CreateOptions{})
		expectStatus(t, err, 400, "bind with mismatched names")
	})
	// The scheduler binds with the pod's UID, so that a pod deleted and
	// created again under the same name is not bound on stale information.
	t.Run("a binding for another incarnation of the pod is a conflict", func(t *testing.T) {
		mustCreatePod(t, c, ns, newPod("reborn"))
		b := binding("reborn", "bind-n0")
		b.UID = "00000000-0000-0000-0000-000000000000"
		_, err := pods.Bind(ctx, "reborn", b, metav1.CreateOptions{})
		expectStatus(t, err, 409, "bind with a stale UID")
		if got, _ := pods.Get(ctx, "reborn", metav1.GetOptions{}); got.Spec.NodeName != "" {
			t.Errorf("a binding with a stale UID bound the pod to %q", got.Spec.NodeName)
		}
	})
	got, _ := pods.Get(ctx, "web", metav1.GetOptions{})
	if got.Spec.NodeName != "" || got.ResourceVersion != created.ResourceVersion {
		t.Errorf("a refused binding changed the pod: nodeName %q rv %s (was %s)", got.Spec.NodeName, got.ResourceVersion, created.ResourceVersion)
	}
	t.Run("a binding with the pod's UID succeeds", func(t *testing.T) {
		b := binding("web", "bind-n3")
		b.UID = created.UID
		st, err := pods.Bind(ctx, "web", b, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("bind: %v", err)
		}
		if st.Status != metav1.StatusSuccess {
			t.Errorf("bind returned %+v, want Success", st)
		}
	})
}

func hasCause(st metav1.Status, field string) bool {
	if st.Details == nil {
		return false
	}
	for _, c := range st.Details.Causes {
		if c.Field == field {
			return true
		}
	}
	return false
}
