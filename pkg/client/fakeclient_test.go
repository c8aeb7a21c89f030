package client_test

// These tests guard the apply-configuration schema that
// hack/update-codegen.sh embeds in pkg/generated/applyconfiguration/internal
// (from hack/tools/models-schema). With an empty schema,
// fake.NewClientset's field-managed tracker rejects every object and the
// Extract<Kind> functions are not generated at all; client-go users expect
// both to work.

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/watch"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/applyconfiguration"
	acv1alpha1 "skiff.dev/skiff/pkg/generated/applyconfiguration/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/scheme"
)

const ns = "default"

// watchTimeout only guards against a hang; events arrive synchronously.
const watchTimeout = 10 * time.Second

func TestNewClientsetCreateGetListWatch(t *testing.T) {
	ctx := context.Background()
	seeded := &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: "seeded"}}
	cs := fake.NewClientset(seeded)
	pods := cs.CoreV1alpha1().Pods(ns)
	nodes := cs.CoreV1alpha1().Nodes()

	podWatch, err := pods.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("watching pods: %v", err)
	}
	defer podWatch.Stop()
	nodeWatch, err := nodes.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("watching nodes: %v", err)
	}
	defer nodeWatch.Stop()

	const nPods, nNodes = 3, 2
	for i := range nPods {
		pod := &v1alpha1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%d", i), Labels: map[string]string{"app": "web"}},
			Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "app", Image: "busybox"}}},
		}
		if _, err := pods.Create(ctx, pod, metav1.CreateOptions{FieldManager: "creator"}); err != nil {
			t.Fatalf("creating %s: %v", pod.Name, err)
		}
	}
	for i := range nNodes {
		node := &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", i)}}
		if _, err := nodes.Create(ctx, node, metav1.CreateOptions{FieldManager: "creator"}); err != nil {
			t.Fatalf("creating %s: %v", node.Name, err)
		}
	}

	// The field-managed tracker records who wrote what, which only works
	// when the schema knows the type.
	got, err := pods.Get(ctx, "pod-1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting pod-1: %v", err)
	}
	if got.Spec.Containers[0].Image != "busybox" || got.Labels["app"] != "web" {
		t.Errorf("pod-1 = %+v, want the created labels and container", got)
	}
	if !hasManager(got.ManagedFields, "creator", metav1.ManagedFieldsOperationUpdate) {
		t.Errorf("pod-1 managedFields = %+v, want an Update entry for creator", got.ManagedFields)
	}
	if _, err := nodes.Get(ctx, "seeded", metav1.GetOptions{}); err != nil {
		t.Errorf("getting the seeded node: %v", err)
	}

	podList, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing pods: %v", err)
	}
	nodeList, err := nodes.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing nodes: %v", err)
	}
	if len(podList.Items) != nPods || len(nodeList.Items) != nNodes+1 {
		t.Errorf("listed %d pods and %d nodes, want %d and %d", len(podList.Items), len(nodeList.Items), nPods, nNodes+1)
	}

	podAdds := countAdded(t, podWatch, nPods)
	nodeAdds := countAdded(t, nodeWatch, nNodes)
	t.Logf("created %d pods and %d nodes (+1 seeded); listed %d pods and %d nodes; watched %d pod and %d node ADDED events",
		nPods, nNodes, len(podList.Items), len(nodeList.Items), podAdds, nodeAdds)
}

func TestNewClientsetApplyPod(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	pods := cs.CoreV1alpha1().Pods(ns)

	applied, err := pods.Apply(ctx, webPod("busybox:1"), metav1.ApplyOptions{FieldManager: "deployer"})
	if err != nil {
		t.Fatalf("applying web: %v", err)
	}
	if applied.Spec.Containers[0].Image != "busybox:1" || applied.Labels["tier"] != "front" {
		t.Errorf("applied pod = %+v, want image busybox:1 and label tier=front", applied)
	}
	if !hasManager(applied.ManagedFields, "deployer", metav1.ManagedFieldsOperationApply) {
		t.Errorf("managedFields = %+v, want an Apply entry for deployer", applied.ManagedFields)
	}

	// Another manager changing deployer's image conflicts unless it forces:
	// the tracker is doing server-side apply, not a blind overwrite.
	_, conflict := pods.Apply(ctx, webPod("busybox:2"), metav1.ApplyOptions{FieldManager: "intruder"})
	if !apierrors.IsConflict(conflict) {
		t.Fatalf("unforced apply of a field deployer owns: err = %v, want a conflict", conflict)
	}
	forced, err := pods.Apply(ctx, webPod("busybox:2"), metav1.ApplyOptions{FieldManager: "intruder", Force: true})
	if err != nil {
		t.Fatalf("forced apply: %v", err)
	}
	if got := forced.Spec.Containers[0].Image; got != "busybox:2" {
		t.Errorf("image after forced apply = %q, want busybox:2", got)
	}

	// deployer lost the image to intruder but still owns the label and the
	// container's key.
	extracted, err := acv1alpha1.ExtractPod(forced, "deployer")
	if err != nil {
		t.Fatalf("extracting deployer's fields: %v", err)
	}
	if extracted.Labels["tier"] != "front" {
		t.Errorf("deployer's labels = %v, want tier=front", extracted.Labels)
	}
	if c := extracted.Spec.Containers; len(c) != 1 || c[0].Image != nil {
		t.Errorf("deployer's containers = %+v, want one container without an image", c)
	}
	t.Logf("apply created the pod with %d managedFields entries; unforced conflicting apply: %v; forced apply left %d entries",
		len(applied.ManagedFields), conflict, len(forced.ManagedFields))
}

func TestExtractPodAndPodStatus(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	pods := cs.CoreV1alpha1().Pods(ns)

	if _, err := pods.Apply(ctx, webPod("busybox:1"), metav1.ApplyOptions{FieldManager: "deployer"}); err != nil {
		t.Fatalf("applying web: %v", err)
	}
	pod, err := pods.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting web: %v", err)
	}

	// The fake tracker files every write under the main resource, so the
	// status write goes through a field manager for the status subresource,
	// as skiff-apiserver's pods/status does, using the same type converter
	// the fake uses.
	status := acv1alpha1.Pod("web", ns).WithStatus(acv1alpha1.PodStatus().
		WithPhase(v1alpha1.PodRunning).
		WithPodIP("10.0.0.7").
		WithConditions(acv1alpha1.PodCondition().WithType(v1alpha1.PodScheduled).WithStatus(v1alpha1.ConditionTrue)))
	pod = applyStatus(t, pod, status, "kubelet")

	spec, err := acv1alpha1.ExtractPod(pod, "deployer")
	if err != nil {
		t.Fatalf("ExtractPod(deployer): %v", err)
	}
	if spec.Spec == nil || len(spec.Spec.Containers) != 1 || *spec.Spec.Containers[0].Image != "busybox:1" {
		t.Errorf("deployer's spec = %+v, want the applied container", spec.Spec)
	}
	if spec.Labels["tier"] != "front" || spec.Status != nil {
		t.Errorf("deployer's pod: labels %v status %+v, want tier=front and no status", spec.Labels, spec.Status)
	}

	st, err := acv1alpha1.ExtractPodStatus(pod, "kubelet")
	if err != nil {
		t.Fatalf("ExtractPodStatus(kubelet): %v", err)
	}
	if st.Status == nil || *st.Status.Phase != v1alpha1.PodRunning || *st.Status.PodIP != "10.0.0.7" || len(st.Status.Conditions) != 1 {
		t.Errorf("kubelet's status = %+v, want phase Running, podIP and one condition", st.Status)
	}
	if st.Spec != nil || len(st.Labels) != 0 {
		t.Errorf("kubelet's status extraction has spec %+v labels %v, want neither", st.Spec, st.Labels)
	}

	// Each manager owns nothing in the other's subresource.
	if none, err := acv1alpha1.ExtractPodStatus(pod, "deployer"); err != nil || none.Status != nil || none.Spec != nil {
		t.Errorf("ExtractPodStatus(deployer) = %+v, %v; want nothing owned", none, err)
	}
	if none, err := acv1alpha1.ExtractPod(pod, "kubelet"); err != nil || none.Status != nil || none.Spec != nil {
		t.Errorf("ExtractPod(kubelet) = %+v, %v; want nothing owned", none, err)
	}
	t.Logf("managedFields entries: %d; deployer owns %d container(s) and %d label(s); kubelet owns phase=%s podIP=%s and %d condition(s)",
		len(pod.ManagedFields), len(spec.Spec.Containers), len(spec.Labels), *st.Status.Phase, *st.Status.PodIP, len(st.Status.Conditions))
}

// TestApplyAndExtractOtherKinds covers the remaining kinds with generated
// Extract functions: each looks its type up under a name of its own in the
// embedded schema, so a kind missing there fails only its own Extract.
func TestApplyAndExtractOtherKinds(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	c := cs.CoreV1alpha1()
	opts := metav1.ApplyOptions{FieldManager: "owner"}

	node, err := c.Nodes().Apply(ctx, acv1alpha1.Node("n1").WithSpec(acv1alpha1.NodeSpec().WithUnschedulable(true)), opts)
	if err != nil {
		t.Fatalf("applying node: %v", err)
	}
	lease, err := c.Leases(ns).Apply(ctx, acv1alpha1.Lease("l1", ns).WithSpec(acv1alpha1.LeaseSpec().WithHolderIdentity("me")), opts)
	if err != nil {
		t.Fatalf("applying lease: %v", err)
	}

	n, err := acv1alpha1.ExtractNode(node, "owner")
	if err != nil || n.Spec == nil || n.Spec.Unschedulable == nil || !*n.Spec.Unschedulable {
		t.Errorf("ExtractNode = %+v, %v; want spec.unschedulable=true", n, err)
	}
	l, err := acv1alpha1.ExtractLease(lease, "owner")
	if err != nil || l.Spec == nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != "me" {
		t.Errorf("ExtractLease = %+v, %v; want spec.holderIdentity=me", l, err)
	}
	t.Logf("applied and extracted 2 kinds: node unschedulable=%v, lease holder=%q",
		*n.Spec.Unschedulable, *l.Spec.HolderIdentity)
}

// webPod is the apply configuration of pod "web" with one container.
func webPod(image string) *acv1alpha1.PodApplyConfiguration {
	return acv1alpha1.Pod("web", ns).
		WithLabels(map[string]string{"tier": "front"}).
		WithSpec(acv1alpha1.PodSpec().
			WithContainers(acv1alpha1.Container().WithName("app").WithImage(image)))
}

// applyStatus applies cfg to pod's status subresource as manager and
// returns the result, with managedFields as the API server would record them.
func applyStatus(t *testing.T, pod *v1alpha1.Pod, cfg *acv1alpha1.PodApplyConfiguration, manager string) *v1alpha1.Pod {
	t.Helper()
	gvk := v1alpha1.SchemeGroupVersion.WithKind("Pod")
	fm, err := managedfields.NewDefaultFieldManager(
		applyconfiguration.NewTypeConverter(scheme.Scheme),
		scheme.Scheme, scheme.Scheme, scheme.Scheme,
		gvk, gvk.GroupVersion(), "status", nil)
	if err != nil {
		t.Fatalf("status field manager: %v", err)
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cfg)
	if err != nil {
		t.Fatalf("status apply configuration to unstructured: %v", err)
	}
	live := pod.DeepCopy()
	live.SetGroupVersionKind(gvk)
	out, err := fm.Apply(live, &unstructured.Unstructured{Object: u}, manager, false)
	if err != nil {
		t.Fatalf("applying status as %s: %v", manager, err)
	}
	return out.(*v1alpha1.Pod)
}

func hasManager(entries []metav1.ManagedFieldsEntry, manager string, op metav1.ManagedFieldsOperationType) bool {
	for _, e := range entries {
		if e.Manager == manager && e.Operation == op {
			return true
		}
	}
	return false
}

// countAdded reads want ADDED events from w and returns how many it saw.
func countAdded(t *testing.T, w watch.Interface, want int) int {
	t.Helper()
	seen := 0
	deadline := time.After(watchTimeout)
	for seen < want {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed after %d of %d ADDED events", seen, want)
			}
			if ev.Type != watch.Added {
				t.Fatalf("watch event %s, want ADDED", ev.Type)
			}
			seen++
		case <-deadline:
			t.Fatalf("saw %d of %d ADDED events before the hang guard", seen, want)
		}
	}
	return seen
}
