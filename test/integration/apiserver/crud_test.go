package apiserver

import (
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	applyv1alpha1 "skiff.dev/skiff/pkg/generated/applyconfiguration/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/integration/framework"
)

// TestCRUD drives every verb on every kind against one server: what kubectl
// and controllers do all day.
func TestCRUD(t *testing.T) {
	s := framework.StartTestServer(t)
	t.Run("pods", func(t *testing.T) { testPodCRUD(t, s.Client) })
	t.Run("nodes", func(t *testing.T) { testNodeCRUD(t, s.Client) })
	t.Run("leases", func(t *testing.T) { testLeaseCRUD(t, s.Client) })
	t.Run("generateName", func(t *testing.T) { testGenerateName(t, s.Client) })
	t.Run("dry run", func(t *testing.T) { testDryRun(t, s.Client) })
	t.Run("finalizers", func(t *testing.T) { testFinalizers(t, s.Client) })
	t.Run("strategic merge patch of one container", func(t *testing.T) { testStrategicContainerPatch(t, s.Client) })
}

// expectWatch reads the next event and checks its type and object name.
func expectWatch(t *testing.T, w watch.Interface, typ watch.EventType, name string) {
	t.Helper()
	ev := nextEvent(t, w)
	m, err := metaName(ev.Object)
	if err != nil {
		t.Fatalf("watch event object %T: %v", ev.Object, err)
	}
	if ev.Type != typ || m != name {
		t.Fatalf("watch event = %s %s, want %s %s", ev.Type, m, typ, name)
	}
}

// expectDeleted reads events until name's DELETED, allowing the MODIFIED
// event of a graceful deletion (deletionTimestamp set, grace 0) before it, as
// upstream's pod storage sends one.
func expectDeleted(t *testing.T, w watch.Interface, name string) {
	t.Helper()
	for {
		ev := nextEvent(t, w)
		m, err := meta.Accessor(ev.Object)
		if err != nil {
			t.Fatalf("watch event object %T: %v", ev.Object, err)
		}
		switch {
		case ev.Type == watch.Deleted && m.GetName() == name:
			return
		case ev.Type == watch.Modified && m.GetName() == name && m.GetDeletionTimestamp() != nil:
			continue
		default:
			t.Fatalf("watch event = %s %s, want DELETED %s", ev.Type, m.GetName(), name)
		}
	}
}

func metaName(obj interface{}) (string, error) {
	type named interface{ GetName() string }
	n, ok := obj.(named)
	if !ok {
		return "", apierrors.NewBadRequest("no name")
	}
	return n.GetName(), nil
}

func testPodCRUD(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "crud"
	pods := c.CoreV1alpha1().Pods(ns)

	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	w, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()

	pod := newPod("web")
	pod.Status.Phase = v1alpha1.PodRunning // ignored: a pod starts Pending
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.UID == "" || created.ResourceVersion == "" || created.CreationTimestamp.IsZero() {
		t.Errorf("created pod lacks server-set metadata: %+v", created.ObjectMeta)
	}
	if created.Status.Phase != v1alpha1.PodPending {
		t.Errorf("created phase = %q, want Pending", created.Status.Phase)
	}
	if created.Spec.RestartPolicy != v1alpha1.RestartPolicyAlways || created.Spec.SchedulerName != "skiff-scheduler" ||
		created.Spec.TerminationGracePeriodSeconds == nil || *created.Spec.TerminationGracePeriodSeconds != 30 {
		t.Errorf("created pod was not defaulted: %+v", created.Spec)
	}
	if created.Generation != 1 {
		t.Errorf("created generation = %d, want 1", created.Generation)
	}
	expectWatch(t, w, watch.Added, "web")

	if _, err := pods.Create(ctx, newPod("web"), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create of web = %v, want AlreadyExists", err)
	}

	got, err := pods.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.UID != created.UID || got.ResourceVersion != created.ResourceVersion {
		t.Errorf("get returned uid %s rv %s, want %s %s", got.UID, got.ResourceVersion, created.UID, created.ResourceVersion)
	}
	if _, err := pods.Get(ctx, "missing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get of a missing pod = %v, want NotFound", err)
	}

	list, err = pods.List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "web" {
		t.Fatalf("list = %v, %v; want [web]", list, err)
	}

	got.Labels["tier"] = "front"
	updated, err := pods.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Labels["tier"] != "front" || updated.ResourceVersion == got.ResourceVersion {
		t.Errorf("update result labels %v rv %s", updated.Labels, updated.ResourceVersion)
	}
	expectWatch(t, w, watch.Modified, "web")

	patches := []struct {
		name  string
		typ   types.PatchType
		data  string
		check func(p *v1alpha1.Pod) bool
	}{
		{"merge", types.MergePatchType, `{"metadata":{"labels":{"merge":"yes"}}}`,
			func(p *v1alpha1.Pod) bool { return p.Labels["merge"] == "yes" && p.Labels["tier"] == "front" }},
		{"json", types.JSONPatchType, `[{"op":"add","path":"/metadata/annotations","value":{"json":"yes"}}]`,
			func(p *v1alpha1.Pod) bool { return p.Annotations["json"] == "yes" }},
		{"strategic", types.StrategicMergePatchType, `{"metadata":{"labels":{"strategic":"yes"}}}`,
			func(p *v1alpha1.Pod) bool { return p.Labels["strategic"] == "yes" && p.Labels["merge"] == "yes" }},
		{"json image", types.JSONPatchType, `[{"op":"replace","path":"/spec/containers/0/image","value":"busybox:1.37"}]`,
			func(p *v1alpha1.Pod) bool { return p.Spec.Containers[0].Image == "busybox:1.37" && p.Generation == 2 }},
	}
	for _, p := range patches {
		patched, err := pods.Patch(ctx, "web", p.typ, []byte(p.data), metav1.PatchOptions{})
		if err != nil {
			t.Fatalf("%s patch: %v", p.name, err)
		}
		if !p.check(patched) {
			t.Errorf("%s patch result: labels %v annotations %v image %s generation %d", p.name, patched.Labels, patched.Annotations, patched.Spec.Containers[0].Image, patched.Generation)
		}
		expectWatch(t, w, watch.Modified, "web")
	}

	// Server-side apply: a second manager owns a label; managedFields say so.
	applied, err := pods.Apply(ctx, applyv1alpha1.Pod("web", ns).WithLabels(map[string]string{"applied": "yes"}),
		metav1.ApplyOptions{FieldManager: "tester", Force: true})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if applied.Labels["applied"] != "yes" || applied.Labels["tier"] != "front" {
		t.Errorf("apply result labels = %v, want applied=yes beside the others", applied.Labels)
	}
	if !hasManager(applied.ManagedFields, "tester") {
		t.Errorf("managedFields %v do not name the apply manager", applied.ManagedFields)
	}
	expectWatch(t, w, watch.Modified, "web")

	// Server-side apply creates too.
	fresh, err := pods.Apply(ctx, applyv1alpha1.Pod("applied", ns).WithSpec(applyv1alpha1.PodSpec().
		WithContainers(applyv1alpha1.Container().WithName("main").WithImage("busybox:1.36"))),
		metav1.ApplyOptions{FieldManager: "tester"})
	if err != nil {
		t.Fatalf("apply-create: %v", err)
	}
	if fresh.Status.Phase != v1alpha1.PodPending || fresh.Spec.RestartPolicy != v1alpha1.RestartPolicyAlways {
		t.Errorf("apply-created pod phase %q restartPolicy %q, want Pending and Always", fresh.Status.Phase, fresh.Spec.RestartPolicy)
	}
	expectWatch(t, w, watch.Added, "applied")

	if err := pods.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	expectDeleted(t, w, "web")
	if _, err := pods.Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after delete = %v, want NotFound (an unbound pod goes at once)", err)
	}
	if err := pods.Delete(ctx, "web", metav1.DeleteOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("second delete = %v, want NotFound", err)
	}
	if err := pods.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatalf("deletecollection: %v", err)
	}
	expectDeleted(t, w, "applied")
}

func hasManager(fields []metav1.ManagedFieldsEntry, manager string) bool {
	for _, f := range fields {
		if f.Manager == manager {
			return true
		}
	}
	return false
}

func testNodeCRUD(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	nodes := c.CoreV1alpha1().Nodes()
	list, err := nodes.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	w, err := nodes.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()

	created := mustCreateNode(t, c, newNode("crud-n1"))
	if len(created.Status.Conditions) != 1 {
		t.Errorf("a node's registration status was dropped: %+v", created.Status)
	}
	expectWatch(t, w, watch.Added, "crud-n1")

	got, err := nodes.Get(ctx, "crud-n1", metav1.GetOptions{})
	if err != nil || got.UID != created.UID {
		t.Fatalf("get = %v, %v", got, err)
	}
	got.Spec.Unschedulable = true
	updated, err := nodes.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil || !updated.Spec.Unschedulable || updated.Generation != 2 {
		t.Fatalf("cordon by update = %+v, %v; want unschedulable, generation 2", updated, err)
	}
	expectWatch(t, w, watch.Modified, "crud-n1")

	for _, p := range []struct {
		typ  types.PatchType
		data string
	}{
		{types.MergePatchType, `{"metadata":{"labels":{"merge":"yes"}}}`},
		{types.JSONPatchType, `[{"op":"add","path":"/metadata/labels/json","value":"yes"}]`},
		{types.StrategicMergePatchType, `{"spec":{"unschedulable":false}}`},
	} {
		if _, err := nodes.Patch(ctx, "crud-n1", p.typ, []byte(p.data), metav1.PatchOptions{}); err != nil {
			t.Fatalf("%s patch: %v", p.typ, err)
		}
		expectWatch(t, w, watch.Modified, "crud-n1")
	}
	applied, err := nodes.Apply(ctx, applyv1alpha1.Node("crud-n1").WithLabels(map[string]string{"applied": "yes"}),
		metav1.ApplyOptions{FieldManager: "tester", Force: true})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	for _, l := range []string{"merge", "json", "applied"} {
		if applied.Labels[l] != "yes" {
			t.Errorf("label %s missing after patches and apply: %v", l, applied.Labels)
		}
	}
	if applied.Spec.Unschedulable {
		t.Error("strategic merge patch did not uncordon the node")
	}
	expectWatch(t, w, watch.Modified, "crud-n1")

	if err := nodes.Delete(ctx, "crud-n1", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	expectWatch(t, w, watch.Deleted, "crud-n1")
	if _, err := nodes.Get(ctx, "crud-n1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after delete = %v, want NotFound", err)
	}
}

func testLeaseCRUD(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	leases := c.CoreV1alpha1().Leases("skiff-node-lease")
	w, err := leases.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()

	now := metav1.NewMicroTime(metav1.Now().Time)
	created, err := leases.Create(ctx, &v1alpha1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "n1"},
		Spec:       v1alpha1.LeaseSpec{HolderIdentity: ptrTo("n1"), LeaseDurationSeconds: ptrTo[int32](40), RenewTime: &now},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	expectWatch(t, w, watch.Added, "n1")

	got, err := leases.Get(ctx, "n1", metav1.GetOptions{})
	if err != nil || *got.Spec.HolderIdentity != "n1" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	later := metav1.NewMicroTime(now.Add(10 * time.Second).Truncate(time.Microsecond))
	got.Spec.RenewTime = &later
	renewed, err := leases.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil || !renewed.Spec.RenewTime.Equal(&later) {
		t.Fatalf("renew = %+v, %v", renewed, err)
	}
	expectWatch(t, w, watch.Modified, "n1")

	// A lease has no unconditional update: a stale holder must not win.
	stale := created.DeepCopy()
	stale.Spec.HolderIdentity = ptrTo("usurper")
	_, err = leases.Update(ctx, stale, metav1.UpdateOptions{})
	expectStatus(t, err, 409, "update of a lease with a stale resourceVersion")
	blind := created.DeepCopy()
	blind.ResourceVersion = ""
	blind.Spec.HolderIdentity = ptrTo("usurper")
	_, err = leases.Update(ctx, blind, metav1.UpdateOptions{})
	expectStatus(t, err, 422, "update of a lease without a resourceVersion")

	for _, p := range []struct {
		typ  types.PatchType
		data string
	}{
		{types.MergePatchType, `{"spec":{"leaseDurationSeconds":41}}`},
		{types.JSONPatchType, `[{"op":"replace","path":"/spec/leaseDurationSeconds","value":42}]`},
		{types.StrategicMergePatchType, `{"spec":{"leaseDurationSeconds":43}}`},
	} {
		if _, err := leases.Patch(ctx, "n1", p.typ, []byte(p.data), metav1.PatchOptions{}); err != nil {
			t.Fatalf("%s patch: %v", p.typ, err)
		}
		expectWatch(t, w, watch.Modified, "n1")
	}
	applied, err := leases.Apply(ctx, applyv1alpha1.Lease("n1", "skiff-node-lease").WithSpec(applyv1alpha1.LeaseSpec().WithLeaseDurationSeconds(44)),
		metav1.ApplyOptions{FieldManager: "tester", Force: true})
	if err != nil || *applied.Spec.LeaseDurationSeconds != 44 || *applied.Spec.HolderIdentity != "n1" {
		t.Fatalf("apply = %+v, %v; want duration 44 and the holder kept", applied, err)
	}
	expectWatch(t, w, watch.Modified, "n1")

	list, err := leases.List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list = %v, %v", list, err)
	}
	if err := leases.Delete(ctx, "n1", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	expectWatch(t, w, watch.Deleted, "n1")
}

func testGenerateName(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	pods := c.CoreV1alpha1().Pods("generate")
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		p := newPod("")
		p.GenerateName = "worker-"
		created, err := pods.Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create with generateName: %v", err)
		}
		if len(created.Name) <= len("worker-") || created.Name[:len("worker-")] != "worker-" {
			t.Errorf("generated name %q does not start with worker-", created.Name)
		}
		if seen[created.Name] {
			t.Errorf("generated name %q twice", created.Name)
		}
		seen[created.Name] = true
		if _, err := pods.Get(ctx, created.Name, metav1.GetOptions{}); err != nil {
			t.Errorf("get generated pod: %v", err)
		}
	}
	n := newNode("")
	n.GenerateName = "gen-node-"
	node, err := c.CoreV1alpha1().Nodes().Create(ctx, n, metav1.CreateOptions{})
	if err != nil || len(node.Name) <= len("gen-node-") {
		t.Fatalf("create node with generateName = %v, %v", node, err)
	}
}

func testDryRun(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	pods := c.CoreV1alpha1().Pods("dryrun")
	all := []string{metav1.DryRunAll}

	created, err := pods.Create(ctx, newPod("ghost"), metav1.CreateOptions{DryRun: all})
	if err != nil {
		t.Fatalf("dry-run create: %v", err)
	}
	if created.Name != "ghost" || created.Status.Phase != v1alpha1.PodPending || created.Spec.SchedulerName == "" {
		t.Errorf("dry-run create returned %+v, want the defaulted pod", created)
	}
	if _, err := pods.Get(ctx, "ghost", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after dry-run create = %v, want NotFound", err)
	}
	// A dry run is validated like the real thing.
	bad := newPod("ghost")
	bad.Spec.Containers[0].Image = ""
	_, err = pods.Create(ctx, bad, metav1.CreateOptions{DryRun: all})
	expectStatus(t, err, 422, "dry-run create of an invalid pod")

	real := mustCreatePod(t, c, "dryrun", newPod("real"))
	if err := pods.Delete(ctx, "real", metav1.DeleteOptions{DryRun: all}); err != nil {
		t.Fatalf("dry-run delete: %v", err)
	}
	got, err := pods.Get(ctx, "real", metav1.GetOptions{})
	if err != nil || got.UID != real.UID || got.DeletionTimestamp != nil {
		t.Errorf("after dry-run delete, get = %v, %v; want the pod untouched", got, err)
	}

	got.Labels["dry"] = "run"
	if _, err := pods.Update(ctx, got, metav1.UpdateOptions{DryRun: all}); err != nil {
		t.Fatalf("dry-run update: %v", err)
	}
	after, _ := pods.Get(ctx, "real", metav1.GetOptions{})
	if after.Labels["dry"] != "" || after.ResourceVersion != real.ResourceVersion {
		t.Errorf("dry-run update was stored: labels %v rv %s (was %s)", after.Labels, after.ResourceVersion, real.ResourceVersion)
	}

	mustCreateNode(t, c, newNode("dryrun-n1"))
	binding := &v1alpha1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "real"}, Target: v1alpha1.ObjectReference{Kind: "Node", Name: "dryrun-n1"}}
	if _, err := pods.Bind(ctx, "real", binding, metav1.CreateOptions{DryRun: all}); err != nil {
		t.Fatalf("dry-run bind: %v", err)
	}
	after, _ = pods.Get(ctx, "real", metav1.GetOptions{})
	if after.Spec.NodeName != "" {
		t.Errorf("dry-run bind was stored: nodeName %q", after.Spec.NodeName)
	}
}

func testFinalizers(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "finalizers"
	pods := c.CoreV1alpha1().Pods(ns)
	p := newPod("held")
	p.Finalizers = []string{"skiff.dev/test-hold"}
	created := mustCreatePod(t, c, ns, p)

	w, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: created.ResourceVersion})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()

	if err := pods.Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	got, err := pods.Get(ctx, "held", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get after delete = %v; want the pod kept by its finalizer", err)
	}
	if got.DeletionTimestamp == nil {
		t.Fatal("deletionTimestamp not set by delete")
	}
	expectWatch(t, w, watch.Modified, "held")

	// Deleting again changes nothing; the pod still waits.
	if err := pods.Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := pods.Get(ctx, "held", metav1.GetOptions{}); err != nil {
		t.Fatalf("pod gone after a second delete while its finalizer remains: %v", err)
	}

	// New finalizers may not be added to an object being deleted... but
	// removing the last one lets the deletion finish.
	if _, err := pods.Patch(ctx, "held", types.JSONPatchType, []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("remove finalizer: %v", err)
	}
	for {
		ev := nextEvent(t, w)
		if ev.Type == watch.Deleted && podName(ev) == "held" {
			break
		}
	}
	if _, err := pods.Get(ctx, "held", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after the finalizer went = %v, want NotFound", err)
	}
}

// testStrategicContainerPatch patches one container's image the way
// `kubectl set image` does: a strategic merge patch naming the container.
// The container's other fields must stay, as they do for core/v1 pods.
func testStrategicContainerPatch(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "strategic"
	mustCreatePod(t, c, ns, newPod("web"))
	patched, err := c.CoreV1alpha1().Pods(ns).Patch(ctx, "web", types.StrategicMergePatchType,
		[]byte(`{"spec":{"containers":[{"name":"main","image":"busybox:1.37"}]}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("strategic merge patch of container main's image: %v", err)
	}
	if got := patched.Spec.Containers[0]; got.Image != "busybox:1.37" || len(got.Command) != 2 {
		t.Errorf("container after patch = %+v, want the new image and the command kept", got)
	}
}
