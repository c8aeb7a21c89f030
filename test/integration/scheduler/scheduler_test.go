// Package scheduler runs skiff-scheduler (app.Run, as the binary does)
// against an in-process skiff-apiserver, under the scheduler's own identity
// system:kube-scheduler.
package scheduler

import (
	"context"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/scheduler/app"
	"skiff.dev/skiff/pkg/scheduler/options"
	st "skiff.dev/skiff/pkg/scheduler/testing"
	"skiff.dev/skiff/test/integration/framework"
)

const ns = "sched-it"

// startScheduler runs a scheduler as system:kube-scheduler until the test
// ends (or the returned stop is called), and checks it exits cleanly.
func startScheduler(t *testing.T, s *framework.TestServer, configure func(o *options.Options)) (stop func()) {
	t.Helper()
	o := options.NewOptions()
	o.ClientConfig = s.ConfigFor("system:kube-scheduler")
	o.LeaderElection.LeaderElect = false
	o.Serving.SecureServing.BindPort = 0
	if configure != nil {
		configure(o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, o) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("scheduler exited with %v, want a clean exit", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	var lastErr error
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 60*time.Second, true,
		func(context.Context) (bool, error) {
			ok, err := cond()
			lastErr = err
			return ok, nil
		})
	if err != nil {
		t.Fatalf("timed out waiting for %s (last error: %v)", what, lastErr)
	}
}

// createNode creates a node and then writes its status, as a kubelet does.
func createNode(t *testing.T, c clientset.Interface, n *v1alpha1.Node) {
	t.Helper()
	ctx := context.Background()
	n = n.DeepCopy()
	n.UID = ""
	status := n.Status
	created, err := c.CoreV1alpha1().Nodes().Create(ctx, n, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create node %s: %v", n.Name, err)
	}
	created.Status = status
	if _, err := c.CoreV1alpha1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("write status of node %s: %v", n.Name, err)
	}
}

func createPod(t *testing.T, c clientset.Interface, p *v1alpha1.Pod) {
	t.Helper()
	p = p.DeepCopy()
	p.Namespace, p.UID = ns, ""
	if _, err := c.CoreV1alpha1().Pods(ns).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s: %v", p.Name, err)
	}
}

func getPod(c clientset.Interface, name string) (*v1alpha1.Pod, error) {
	return c.CoreV1alpha1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
}

func waitBound(t *testing.T, c clientset.Interface, name string) string {
	t.Helper()
	var node string
	eventually(t, "pod "+name+" to be bound", func() (bool, error) {
		p, err := getPod(c, name)
		if err != nil {
			return false, err
		}
		node = p.Spec.NodeName
		return node != "", nil
	})
	return node
}

func scheduledCondition(p *v1alpha1.Pod) *v1alpha1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == v1alpha1.PodScheduled {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// waitUnschedulable waits for PodScheduled=False and returns its message.
func waitUnschedulable(t *testing.T, c clientset.Interface, name string) string {
	t.Helper()
	var msg string
	eventually(t, "pod "+name+" to be marked unschedulable", func() (bool, error) {
		p, err := getPod(c, name)
		if err != nil {
			return false, err
		}
		cond := scheduledCondition(p)
		if cond == nil || cond.Status != v1alpha1.ConditionFalse {
			return false, nil
		}
		if cond.Reason != v1alpha1.PodReasonUnschedulable {
			return false, fmt.Errorf("PodScheduled reason %q, want Unschedulable", cond.Reason)
		}
		msg = cond.Message
		return true, nil
	})
	return msg
}

// events returns the events about a pod with the given reason.
// They are core/v1 Events about a core.skiff.dev/v1alpha1 Pod.
func events(s *framework.TestServer, pod, reason string) ([]corev1.Event, error) {
	list, err := s.Kube.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Name == pod && e.InvolvedObject.Kind == "Pod" && e.InvolvedObject.APIVersion == v1alpha1.SchemeGroupVersion.String() && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out, nil
}

func TestPodsLandOnlyWhereTheyFit(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	for _, n := range []*v1alpha1.Node{
		st.MakeNode("roomy").Capacity("4", "8Gi", "110").Label("disk", "ssd").Obj(),
		st.MakeNode("tiny").Capacity("500m", "8Gi", "110").Label("disk", "ssd").Obj(),
		st.MakeNode("cordoned").Unschedulable().Label("disk", "ssd").Obj(),
		st.MakeNode("gpu").Taint("dedicated", "gpu", v1alpha1.TaintEffectNoSchedule).Obj(),
		st.MakeNode("not-ready").Ready(v1alpha1.ConditionFalse).Label("disk", "ssd").Obj(),
		st.MakeNode("hdd").Capacity("4", "8Gi", "110").Label("disk", "hdd").Obj(),
	} {
		createNode(t, c, n)
	}
	startScheduler(t, s, nil)

	tests := []struct {
		pod     *v1alpha1.Pod
		allowed []string
	}{
		{st.MakePod("needs-two-cpus").Req("2", "").NodeSelector(map[string]string{"disk": "ssd"}).Obj(), []string{"roomy"}},
		{st.MakePod("wants-hdd").NodeSelector(map[string]string{"disk": "hdd"}).Obj(), []string{"hdd"}},
		{st.MakePod("affinity-not-ssd").RequiredAffinity(st.Term("disk", v1alpha1.NodeSelectorOpNotIn, "ssd")).Obj(), []string{"hdd"}},
		{st.MakePod("tolerates-gpu").Toleration("dedicated", v1alpha1.TolerationOpEqual, "gpu", v1alpha1.TaintEffectNoSchedule).
			RequiredAffinity(st.Term("dedicated", v1alpha1.NodeSelectorOpDoesNotExist)).Obj(), []string{"roomy", "tiny", "gpu", "hdd"}},
		{st.MakePod("small").Req("100m", "").NodeSelector(map[string]string{"disk": "ssd"}).Obj(), []string{"roomy", "tiny"}},
	}
	for _, tt := range tests {
		createPod(t, c, tt.pod)
	}
	for _, tt := range tests {
		t.Run(tt.pod.Name, func(t *testing.T) {
			node := waitBound(t, c, tt.pod.Name)
			ok := false
			for _, a := range tt.allowed {
				ok = ok || a == node
			}
			if !ok {
				t.Errorf("bound to %s, want one of %v", node, tt.allowed)
			}
		})
	}
}

func TestUnschedulableMessageAndEvents(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	createNode(t, c, st.MakeNode("cordoned").Unschedulable().Obj())
	createNode(t, c, st.MakeNode("gpu").Taint("dedicated", "gpu", v1alpha1.TaintEffectNoSchedule).Obj())
	createNode(t, c, st.MakeNode("small-1").Capacity("1", "8Gi", "110").Obj())
	createNode(t, c, st.MakeNode("small-2").Capacity("1", "8Gi", "110").Obj())
	startScheduler(t, s, nil)

	createPod(t, c, st.MakePod("too-big").Req("2", "").Obj())
	want := "0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable, 2 Insufficient cpu." +
		" preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."
	if got := waitUnschedulable(t, c, "too-big"); got != want {
		t.Errorf("PodScheduled message\n got: %s\nwant: %s", got, want)
	}
	eventually(t, "a FailedScheduling event", func() (bool, error) {
		evs, err := events(s, "too-big", "FailedScheduling")
		if err != nil || len(evs) == 0 {
			return false, err
		}
		e := evs[0]
		if e.Type != corev1.EventTypeWarning || e.Message != want || e.Source.Component != v1alpha1.DefaultSchedulerName {
			return false, fmt.Errorf("event %s %q from %q, want Warning %q from %s", e.Type, e.Message, e.Source.Component, want, v1alpha1.DefaultSchedulerName)
		}
		return true, nil
	})

	createPod(t, c, st.MakePod("fits").Req("500m", "").Obj())
	node := waitBound(t, c, "fits")
	eventually(t, "a Scheduled event", func() (bool, error) {
		evs, err := events(s, "fits", "Scheduled")
		if err != nil || len(evs) == 0 {
			return false, err
		}
		wantMsg := fmt.Sprintf("Successfully assigned %s/fits to %s", ns, node)
		if evs[0].Type != corev1.EventTypeNormal || evs[0].Message != wantMsg {
			return false, fmt.Errorf("event %s %q, want Normal %q", evs[0].Type, evs[0].Message, wantMsg)
		}
		return true, nil
	})
	p, err := getPod(c, "fits")
	if err != nil {
		t.Fatal(err)
	}
	if cond := scheduledCondition(p); cond == nil || cond.Status != v1alpha1.ConditionTrue {
		t.Errorf("PodScheduled of a bound pod = %+v, want True", cond)
	}
}

func TestCapacityIsNeverExceeded(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	const nodes, pods, perNode = 10, 200, 10
	for i := range nodes {
		createNode(t, c, st.MakeNode(fmt.Sprintf("node-%02d", i)).Capacity("1", "8Gi", "110").Obj())
	}
	startScheduler(t, s, nil)

	// Create the pods from several goroutines at once, racing the
	// scheduler: 200 pods of 100m for 10 nodes of 1 cpu.
	var wg sync.WaitGroup
	errs := make(chan error, pods)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < pods; i += 8 {
				p := st.MakePod(fmt.Sprintf("racer-%03d", i)).Req("100m", "").Obj()
				p.Namespace, p.UID = ns, ""
				if _, err := c.CoreV1alpha1().Pods(ns).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("create pod: %v", err)
	}

	var perNodeCount map[string]int
	var unschedulable int
	eventually(t, "every pod to be bound or marked unschedulable", func() (bool, error) {
		list, err := c.CoreV1alpha1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		perNodeCount, unschedulable = map[string]int{}, 0
		for i := range list.Items {
			p := &list.Items[i]
			switch cond := scheduledCondition(p); {
			case p.Spec.NodeName != "":
				perNodeCount[p.Spec.NodeName]++
			case cond != nil && cond.Status == v1alpha1.ConditionFalse:
				unschedulable++
			}
		}
		bound := 0
		for _, n := range perNodeCount {
			bound += n
		}
		return bound+unschedulable == pods, nil
	})
	bound := 0
	for node, n := range perNodeCount {
		bound += n
		if n > perNode {
			t.Errorf("node %s holds %d pods of 100m, has room for %d", node, n, perNode)
		}
	}
	if bound != nodes*perNode || unschedulable != pods-nodes*perNode {
		t.Errorf("%d bound and %d unschedulable, want %d and %d", bound, unschedulable, nodes*perNode, pods-nodes*perNode)
	}
}

func TestUnschedulablePodIsScheduledWhenANodeIsLabelled(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	createNode(t, c, st.MakeNode("plain").Obj())
	startScheduler(t, s, nil)

	createPod(t, c, st.MakePod("wants-ssd").NodeSelector(map[string]string{"disk": "ssd"}).Obj())
	if got, want := waitUnschedulable(t, c, "wants-ssd"), "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."+
		" preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	patch := []byte(`{"metadata":{"labels":{"disk":"ssd"}}}`)
	if _, err := c.CoreV1alpha1().Nodes().Patch(context.Background(), "plain", "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if node := waitBound(t, c, "wants-ssd"); node != "plain" {
		t.Errorf("bound to %s, want plain", node)
	}
}

func TestUnschedulablePodIsScheduledWhenRoomIsFreed(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	createNode(t, c, st.MakeNode("only").Capacity("1", "8Gi", "110").Obj())
	startScheduler(t, s, nil)

	createPod(t, c, st.MakePod("hog").Req("1", "").Obj())
	waitBound(t, c, "hog")
	createPod(t, c, st.MakePod("waiter").Req("500m", "").Obj())
	if got, want := waitUnschedulable(t, c, "waiter"), "0/1 nodes are available: 1 Insufficient cpu."+
		" preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if err := c.CoreV1alpha1().Pods(ns).Delete(context.Background(), "hog", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	if node := waitBound(t, c, "waiter"); node != "only" {
		t.Errorf("bound to %s, want only", node)
	}
}

func TestTwoSchedulersWithLeaderElectionBindEachPodOnce(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	createNode(t, c, st.MakeNode("a").Obj())
	createNode(t, c, st.MakeNode("b").Obj())
	elect := func(o *options.Options) {
		o.LeaderElection.LeaderElect = true
		o.LeaderElection.LeaseDuration = 3 * time.Second
		o.LeaderElection.RenewDeadline = 2 * time.Second
		o.LeaderElection.RetryPeriod = 250 * time.Millisecond
	}
	holder := func() (string, error) {
		l, err := c.CoreV1alpha1().Leases("skiff-system").Get(context.Background(), "skiff-scheduler", metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		if l.Spec.HolderIdentity == nil {
			return "", nil
		}
		return *l.Spec.HolderIdentity, nil
	}
	stopFirst := startScheduler(t, s, elect)
	var firstID string
	eventually(t, "the first scheduler to lead", func() (bool, error) {
		h, err := holder()
		firstID = h
		return h != "", err
	})
	startScheduler(t, s, elect)

	var names []string
	for i := range 50 {
		names = append(names, fmt.Sprintf("elected-%02d", i))
		createPod(t, c, st.MakePod(names[i]).Obj())
	}
	for _, n := range names {
		waitBound(t, c, n)
	}
	// Events are written after the bind, and a scheduler that stops drops
	// the ones still queued, as kube-scheduler does; so the leader's are
	// checked before it stops.
	onlyTheLeaderScheduled(t, s, names)

	// The leader stops and releases the lease; the standby takes over.
	stopFirst()
	eventually(t, "the second scheduler to lead", func() (bool, error) {
		h, err := holder()
		return h != "" && h != firstID, err
	})
	createPod(t, c, st.MakePod("after-failover").Obj())
	waitBound(t, c, "after-failover")
	onlyTheLeaderScheduled(t, s, append(names, "after-failover"))
}

// onlyTheLeaderScheduled checks that each pod got one Scheduled event, and
// that no binding lost a race to another scheduler.
func onlyTheLeaderScheduled(t *testing.T, s *framework.TestServer, names []string) {
	t.Helper()
	for _, n := range names {
		eventually(t, "the Scheduled event of "+n, func() (bool, error) {
			evs, err := events(s, n, "Scheduled")
			if err != nil {
				return false, err
			}
			for _, e := range evs {
				if e.Count > 1 {
					return false, fmt.Errorf("Scheduled event of %s counted %d times", n, e.Count)
				}
			}
			if len(evs) > 1 {
				return false, fmt.Errorf("pod %s scheduled %d times", n, len(evs))
			}
			return len(evs) == 1, nil
		})
		failed, err := events(s, n, "FailedScheduling")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range failed {
			if strings.Contains(e.Message, "binding rejected") {
				t.Errorf("pod %s: %s", n, e.Message)
			}
		}
	}
}
