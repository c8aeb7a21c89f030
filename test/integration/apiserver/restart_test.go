package apiserver

import (
	corev1 "k8s.io/api/core/v1"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/apiserver/options"
	"skiff.dev/skiff/test/integration/framework"
)

// TestRestartKeepsEverything stops the server and starts another on the same
// data dir: every object is there, unchanged, and new writes carry on.
func TestRestartKeepsEverything(t *testing.T) {
	s := framework.StartTestServer(t)
	ctx := testContext(t)
	c := s.Client
	const ns = "restart"

	type record struct{ uid, rv string }
	want := map[string]record{}
	keep := func(kind string, m metav1.Object) {
		want[kind+"/"+m.GetName()] = record{string(m.GetUID()), m.GetResourceVersion()}
	}

	keep("node", mustCreateNode(t, c, newNode("restart-n1")))
	keep("pod", mustCreatePod(t, c, ns, newPod("pending")))
	mustCreatePod(t, c, ns, newPod("bound"))
	mustBind(t, c, ns, "bound", "restart-n1")
	bound, _ := c.CoreV1alpha1().Pods(ns).Get(ctx, "bound", metav1.GetOptions{})
	bound.Status.Phase = v1alpha1.PodRunning
	bound, err := c.CoreV1alpha1().Pods(ns).UpdateStatus(ctx, bound, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	keep("pod", bound)
	now := metav1.NewMicroTime(time.Now())
	lease, err := c.CoreV1alpha1().Leases("skiff-node-lease").Create(ctx, &v1alpha1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "restart-n1"},
		Spec:       v1alpha1.LeaseSpec{HolderIdentity: ptrTo("restart-n1"), RenewTime: &now},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create lease: %v", err)
	}
	keep("lease", lease)
	event, err := s.Kube.CoreV1().Events(ns).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "bound.scheduled"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "bound"},
		Reason:         "Scheduled", Type: "Normal",
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create event: %v", err)
	}
	keep("event", event)
	// A pod on its way out stays on its way out.
	held := newPod("held")
	held.Finalizers = []string{"skiff.dev/test-hold"}
	mustCreatePod(t, c, ns, held)
	if err := c.CoreV1alpha1().Pods(ns).Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete held: %v", err)
	}
	heldNow, _ := c.CoreV1alpha1().Pods(ns).Get(ctx, "held", metav1.GetOptions{})
	keep("pod", heldNow)

	s.Stop()
	// The new server listens on another port and rewrites admin.kubeconfig;
	// the framework would read the stale one first and wait on the old port
	// (framework.waitReady keeps the first kubeconfig it reads), so the
	// stale file goes. The server's state lives in etcd and pki, not here.
	if err := os.Remove(filepath.Join(s.DataDir, options.AdminKubeconfigFile)); err != nil {
		t.Fatalf("remove stale admin kubeconfig: %v", err)
	}
	s2 := framework.StartTestServerInDir(t, s.DataDir)
	c = s2.Client

	got := map[string]record{}
	pods, err := c.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods after restart: %v", err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		got["pod/"+p.Name] = record{string(p.UID), p.ResourceVersion}
		switch p.Name {
		case "bound":
			if p.Spec.NodeName != "restart-n1" || p.Status.Phase != v1alpha1.PodRunning {
				t.Errorf("bound pod after restart: node %q phase %q", p.Spec.NodeName, p.Status.Phase)
			}
		case "held":
			if p.DeletionTimestamp == nil {
				t.Error("held pod lost its deletionTimestamp across the restart")
			}
		}
	}
	nodes, err := c.CoreV1alpha1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list nodes: %v", err)
	}
	for _, n := range nodes.Items {
		got["node/"+n.Name] = record{string(n.UID), n.ResourceVersion}
	}
	leases, err := c.CoreV1alpha1().Leases("skiff-node-lease").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list leases: %v", err)
	}
	for _, l := range leases.Items {
		got["lease/"+l.Name] = record{string(l.UID), l.ResourceVersion}
	}
	events, err := s2.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	for _, e := range events.Items {
		got["event/"+e.Name] = record{string(e.UID), e.ResourceVersion}
	}

	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s lost in the restart", k)
		} else if g != w {
			t.Errorf("%s after restart: uid %s rv %s, want %s %s", k, g.uid, g.rv, w.uid, w.rv)
		}
	}
	if len(got) != len(want) {
		t.Errorf("after restart: %d objects, want %d: %v", len(got), len(want), got)
	}

	// Writes carry on past the old resourceVersions, and bound pods stay bound.
	created := mustCreatePod(t, c, ns, newPod("after-restart"))
	if rv(t, created.ResourceVersion) <= rv(t, heldNow.ResourceVersion) {
		t.Errorf("resourceVersion after restart %s is not past %s", created.ResourceVersion, heldNow.ResourceVersion)
	}
	_, err = c.CoreV1alpha1().Pods(ns).Bind(ctx, "bound", binding("bound", "restart-n1"), metav1.CreateOptions{})
	expectStatus(t, err, 409, "binding a pod bound before the restart")
}

func rv(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q: %v", s, err)
	}
	return v
}
