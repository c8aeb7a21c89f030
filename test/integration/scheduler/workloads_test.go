package scheduler

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	st "skiff.dev/skiff/pkg/scheduler/testing"
	"skiff.dev/skiff/test/integration/framework"
)

const (
	hostnameKey = "kubernetes.io/hostname"
	zoneKey     = "topology.kubernetes.io/zone"
)

func zonedNode(name, zone string) *v1alpha1.Node {
	return st.MakeNode(name).Zone(zone).Obj()
}

func boundNodes(t *testing.T, c clientset.Interface, names []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names {
		out[n] = waitBound(t, c, n)
	}
	return out
}

func TestRequiredAntiAffinityOnHostnameOnePerNode(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	for i := range 10 {
		createNode(t, c, zonedNode(fmt.Sprintf("node-%d", i), "z"))
	}
	startScheduler(t, s, nil)

	replica := func(i int) *v1alpha1.Pod {
		return st.MakePod(fmt.Sprintf("web-%d", i)).Label("app", "web").
			PodAntiAffinity(st.PodAffinityTerm(hostnameKey, "app", "web")).Obj()
	}
	var names []string
	for i := range 10 {
		createPod(t, c, replica(i))
		names = append(names, fmt.Sprintf("web-%d", i))
	}
	perNode := map[string]int{}
	for pod, node := range boundNodes(t, c, names) {
		perNode[node]++
		if perNode[node] > 1 {
			t.Errorf("pod %s shares node %s", pod, node)
		}
	}
	if len(perNode) != 10 {
		t.Errorf("replicas on %d nodes, want 10", len(perNode))
	}

	createPod(t, c, replica(10))
	msg := waitUnschedulable(t, c, "web-10")
	if want := "0/10 nodes are available: 10 node(s) didn't match pod anti-affinity rules."; !strings.HasPrefix(msg, want) {
		t.Errorf("message %q, want it to start %q", msg, want)
	}
}

func TestSpreadOverThreeZonesStaysBalanced(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	for _, z := range []string{"a", "b", "c"} {
		for i := range 2 {
			createNode(t, c, zonedNode(fmt.Sprintf("%s-%d", z, i), z))
		}
	}
	startScheduler(t, s, nil)

	var names []string
	for i := range 9 {
		name := fmt.Sprintf("spread-%d", i)
		createPod(t, c, st.MakePod(name).Label("app", "spread").
			SpreadConstraint(1, zoneKey, v1alpha1.DoNotSchedule, "app", "spread").Obj())
		names = append(names, name)
		// After each placement no zone may lead the least loaded by more
		// than maxSkew.
		perZone := map[string]int{"a": 0, "b": 0, "c": 0}
		for _, node := range boundNodes(t, c, names) {
			perZone[node[:1]]++
		}
		lo, hi := 1<<30, 0
		for _, n := range perZone {
			lo, hi = min(lo, n), max(hi, n)
		}
		if hi-lo > 1 {
			t.Fatalf("after %d pods the zones hold %v: skew %d > 1", i+1, perZone, hi-lo)
		}
	}
}

// kubeletDeletes plays the kubelets of nodes that do not run: it finishes
// the graceful deletion of every pod marked for deletion.
func kubeletDeletes(t *testing.T, c clientset.Interface) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w, err := c.CoreV1alpha1().Pods(ns).Watch(ctx, metav1.ListOptions{FieldSelector: fields.Everything().String()})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*v1alpha1.Pod)
			if !ok || ev.Type == watch.Deleted || p.DeletionTimestamp == nil {
				continue
			}
			_ = c.CoreV1alpha1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
		}
	}()
}

func TestHighPriorityPodPreemptsTheLowestPriorityVictims(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	createNode(t, c, st.MakeNode("n1").Zone("z").Capacity("2", "8Gi", "110").Obj())
	createNode(t, c, st.MakeNode("n2").Zone("z").Capacity("2", "8Gi", "110").Obj())
	startScheduler(t, s, nil)
	kubeletDeletes(t, c)

	for name, value := range map[string]int32{"low": 1, "mid": 10, "high": 1000} {
		pc := &v1alpha1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value}
		if _, err := c.CoreV1alpha1().PriorityClasses().Create(context.Background(), pc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	withClass := func(w *st.PodWrapper, class string) *v1alpha1.Pod {
		p := w.Obj()
		p.Spec.PriorityClassName = class
		return p
	}
	// n1 fills with priority 10, n2 with priority 1 (pinned by hostname so
	// the fill is known).
	for _, name := range []string{"p10-a", "p10-b"} {
		createPod(t, c, withClass(st.MakePod(name).Req("1", "").NodeSelector(map[string]string{hostnameKey: "n1"}), "mid"))
	}
	for _, name := range []string{"p1-a", "p1-b"} {
		createPod(t, c, withClass(st.MakePod(name).Req("1", "").NodeSelector(map[string]string{hostnameKey: "n2"}), "low"))
	}
	boundNodes(t, c, []string{"p10-a", "p10-b", "p1-a", "p1-b"})

	createPod(t, c, withClass(st.MakePod("important").Req("2", ""), "high"))
	node := waitBound(t, c, "important")
	if node != "n2" {
		t.Errorf("important pod bound to %s, want n2 (its victims have the lowest priority)", node)
	}
	p, err := getPod(c, "important")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status.NominatedNodeName != "n2" {
		t.Errorf("nominatedNodeName %q, want n2", p.Status.NominatedNodeName)
	}
	for _, name := range []string{"p1-a", "p1-b"} {
		eventually(t, "victim "+name+" to be gone", func() (bool, error) {
			_, err := getPod(c, name)
			return err != nil, nil
		})
		eventually(t, "the Preempted event of "+name, func() (bool, error) {
			es, err := events(s, name, "Preempted")
			return len(es) > 0, err
		})
	}
	for _, name := range []string{"p10-a", "p10-b"} {
		if p, err := getPod(c, name); err != nil || p.DeletionTimestamp != nil {
			t.Errorf("pod %s of higher priority was preempted (err %v)", name, err)
		}
	}
}

func TestNodeLabelChangeMakesExactlyThePodsItConcernsSchedulable(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	createNode(t, c, st.MakeNode("n").Obj())
	startScheduler(t, s, nil)

	createPod(t, c, st.MakePod("wants-ssd").NodeSelector(map[string]string{"disk": "ssd"}).Obj())
	createPod(t, c, st.MakePod("wants-gpu").NodeSelector(map[string]string{"gpu": "true"}).Obj())
	waitUnschedulable(t, c, "wants-ssd")
	waitUnschedulable(t, c, "wants-gpu")
	attempts := func(name string) int32 {
		es, err := events(s, name, "FailedScheduling")
		if err != nil {
			t.Fatal(err)
		}
		var n int32
		for _, e := range es {
			n += max(e.Count, 1)
		}
		return n
	}
	eventually(t, "one FailedScheduling event for wants-gpu", func() (bool, error) { return attempts("wants-gpu") >= 1, nil })
	before := attempts("wants-gpu")

	patch := []byte(`{"metadata":{"labels":{"disk":"ssd"}}}`)
	if _, err := c.CoreV1alpha1().Nodes().Patch(context.Background(), "n", "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitBound(t, c, "wants-ssd")
	// A pod created after the label change is scheduled after any pod the
	// change had moved to the active queue (older pods go first), so once
	// it is bound, wants-gpu would have been tried again.
	createPod(t, c, st.MakePod("sentinel").Obj())
	waitBound(t, c, "sentinel")
	if after := attempts("wants-gpu"); after != before {
		t.Errorf("wants-gpu was tried again (%d FailedScheduling, was %d) after a label change that does not concern it", after, before)
	}
	if p, err := getPod(c, "wants-gpu"); err != nil || p.Spec.NodeName != "" {
		t.Errorf("wants-gpu bound to %q (err %v), want pending", p.Spec.NodeName, err)
	}
}
