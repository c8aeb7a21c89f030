package scheduler

import (
	"context"
	"errors"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/queue"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

// harness runs a Scheduler against the fake API.
type harness struct {
	t        *testing.T
	api      *st.FakeAPI
	recorder *st.Recorder
	sched    *Scheduler
	cancel   context.CancelFunc
	done     chan error
}

func start(t *testing.T, cfg Config, objects ...runtime.Object) *harness {
	t.Helper()
	h := &harness{t: t, api: st.NewFakeAPI(objects...), recorder: &st.Recorder{}, done: make(chan error, 1)}
	factory := externalversions.NewSharedInformerFactory(h.api.Client, 0)
	sched, err := New(h.api.Client, factory, h.recorder, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.sched = sched
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	factory.Start(ctx.Done())
	go func() { h.done <- sched.Run(ctx) }()
	t.Cleanup(func() {
		h.stop()
		factory.Shutdown()
	})
	return h
}

// stop cancels the scheduler and waits until it and its bindings return.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	if err := <-h.done; err != nil {
		h.t.Errorf("Run: %v", err)
	}
}

// idleScheduler is a Scheduler that does not run, with the nodes in its
// cache, for calling one cycle's steps directly.
func idleScheduler(tb testing.TB, cfg Config, nodes ...*v1alpha1.Node) *Scheduler {
	tb.Helper()
	api := st.NewFakeAPI()
	s, err := New(api.Client, externalversions.NewSharedInformerFactory(api.Client, 0), &st.Recorder{}, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range nodes {
		s.cache.AddNode(n)
	}
	return s
}

// poolNodes makes n nodes, the even ones labelled pool=bench.
func poolNodes(n int) []*v1alpha1.Node {
	var out []*v1alpha1.Node
	for i := range n {
		w := st.MakeNode(fmt.Sprintf("node-%04d", i)).Capacity("64", "256Gi", "110")
		if i%2 == 0 {
			w = w.Label("pool", "bench")
		}
		out = append(out, w.Obj())
	}
	return out
}

var podsGVR = v1alpha1.SchemeGroupVersion.WithResource("pods")

func (h *harness) pod(name string) *v1alpha1.Pod {
	h.t.Helper()
	p, err := h.api.Client.CoreV1alpha1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatalf("get pod %s: %v", name, err)
	}
	return p
}

func (h *harness) create(obj runtime.Object) {
	h.t.Helper()
	ctx := context.Background()
	var err error
	switch o := obj.(type) {
	case *v1alpha1.Pod:
		_, err = h.api.Client.CoreV1alpha1().Pods(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *v1alpha1.Node:
		_, err = h.api.Client.CoreV1alpha1().Nodes().Create(ctx, o, metav1.CreateOptions{})
	}
	if err != nil {
		h.t.Fatalf("create: %v", err)
	}
}

// eventually polls cond until it holds; the generous timeout only matters
// when the test is failing.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 30*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		h.t.Fatalf("timed out waiting for %s", what)
	}
}

func (h *harness) waitBound(name string) string {
	h.t.Helper()
	var node string
	h.eventually("pod "+name+" to be bound", func() bool {
		node = h.pod(name).Spec.NodeName
		return node != ""
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

func (h *harness) waitUnschedulable(name string) *v1alpha1.PodCondition {
	h.t.Helper()
	var c *v1alpha1.PodCondition
	h.eventually("pod "+name+" to be marked unschedulable", func() bool {
		c = scheduledCondition(h.pod(name))
		return c != nil && c.Status == v1alpha1.ConditionFalse
	})
	return c
}

func (h *harness) eventsFor(name, reason string) []st.Event {
	var out []st.Event
	for _, e := range h.recorder.Events() {
		if p, ok := e.Object.(*v1alpha1.Pod); ok && p.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

const (
	noSchedule = v1alpha1.TaintEffectNoSchedule
	exists     = v1alpha1.TolerationOpExists
)

func TestPodsLandOnlyWhereTheyFit(t *testing.T) {
	tests := []struct {
		name     string
		nodes    []*v1alpha1.Node
		existing []*v1alpha1.Pod
		pod      *v1alpha1.Pod
		wantNode string // empty: any node
		wantMsg  string // set: the pod must stay unschedulable with this message
	}{
		{name: "only one node has room",
			nodes:    []*v1alpha1.Node{st.MakeNode("small").Capacity("1", "8Gi", "110").Obj(), st.MakeNode("big").Capacity("4", "8Gi", "110").Obj()},
			pod:      st.MakePod("p").Req("2", "1Gi").Obj(),
			wantNode: "big"},
		{name: "pods already bound take room",
			nodes:    []*v1alpha1.Node{st.MakeNode("busy").Obj(), st.MakeNode("idle").Capacity("2", "8Gi", "110").Obj()},
			existing: []*v1alpha1.Pod{st.MakePod("old").Req("3", "").Node("busy").Obj()},
			pod:      st.MakePod("p").Req("2", "").Obj(),
			wantNode: "idle"},
		{name: "finished pods take no room",
			nodes:    []*v1alpha1.Node{st.MakeNode("n").Obj()},
			existing: []*v1alpha1.Pod{st.MakePod("done").Req("4", "").Node("n").Phase(v1alpha1.PodSucceeded).Obj()},
			pod:      st.MakePod("p").Req("2", "").Obj(),
			wantNode: "n"},
		{name: "node selector",
			nodes:    []*v1alpha1.Node{st.MakeNode("a").Label("zone", "a").Obj(), st.MakeNode("b").Label("zone", "b").Obj()},
			pod:      st.MakePod("p").NodeSelector(map[string]string{"zone": "b"}).Obj(),
			wantNode: "b"},
		{name: "required node affinity",
			nodes:    []*v1alpha1.Node{st.MakeNode("a").Label("zone", "a").Obj(), st.MakeNode("b").Label("zone", "b").Obj()},
			pod:      st.MakePod("p").RequiredAffinity(st.Term("zone", v1alpha1.NodeSelectorOpNotIn, "a")).Obj(),
			wantNode: "b"},
		{name: "untolerated taint",
			nodes:    []*v1alpha1.Node{st.MakeNode("gpu").Taint("dedicated", "gpu", noSchedule).Obj(), st.MakeNode("plain").Obj()},
			pod:      st.MakePod("p").Obj(),
			wantNode: "plain"},
		{name: "tolerated taint",
			nodes:    []*v1alpha1.Node{st.MakeNode("gpu").Taint("dedicated", "gpu", noSchedule).Obj()},
			pod:      st.MakePod("p").Toleration("dedicated", exists, "", noSchedule).Obj(),
			wantNode: "gpu"},
		{name: "soft taint is avoided",
			nodes:    []*v1alpha1.Node{st.MakeNode("spot").Taint("spot", "", v1alpha1.TaintEffectPreferNoSchedule).Obj(), st.MakeNode("plain").Obj()},
			pod:      st.MakePod("p").Obj(),
			wantNode: "plain"},
		{name: "cordoned node",
			nodes:    []*v1alpha1.Node{st.MakeNode("cordoned").Unschedulable().Obj(), st.MakeNode("open").Obj()},
			pod:      st.MakePod("p").Obj(),
			wantNode: "open"},
		{name: "not-ready node",
			nodes:    []*v1alpha1.Node{st.MakeNode("sick").Ready(v1alpha1.ConditionFalse).Obj(), st.MakeNode("well").Obj()},
			pod:      st.MakePod("p").Obj(),
			wantNode: "well"},
		{name: "emptier node preferred",
			nodes:    []*v1alpha1.Node{st.MakeNode("busy").Obj(), st.MakeNode("idle").Obj()},
			existing: []*v1alpha1.Pod{st.MakePod("old").Req("2", "4Gi").Node("busy").Obj()},
			pod:      st.MakePod("p").Req("1", "1Gi").Obj(),
			wantNode: "idle"},
		{name: "no node fits: reasons counted and sorted",
			nodes: []*v1alpha1.Node{
				st.MakeNode("cordoned").Unschedulable().Obj(),
				st.MakeNode("gpu").Taint("dedicated", "gpu", noSchedule).Obj(),
				st.MakeNode("small-1").Capacity("1", "8Gi", "110").Obj(),
				st.MakeNode("small-2").Capacity("1", "8Gi", "110").Obj(),
			},
			pod:     st.MakePod("p").Req("2", "").Obj(),
			wantMsg: "0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."},
		{name: "no nodes at all",
			pod:     st.MakePod("p").Obj(),
			wantMsg: "no nodes available to schedule pods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objects []runtime.Object
			for _, n := range tt.nodes {
				objects = append(objects, n)
			}
			for _, p := range tt.existing {
				objects = append(objects, p)
			}
			objects = append(objects, tt.pod)
			h := start(t, Config{}, objects...)

			if tt.wantMsg == "" {
				if got := h.waitBound(tt.pod.Name); tt.wantNode != "" && got != tt.wantNode {
					t.Errorf("pod bound to %s, want %s", got, tt.wantNode)
				}
				h.eventually("the Scheduled event", func() bool { return len(h.eventsFor(tt.pod.Name, "Scheduled")) == 1 })
				e := h.eventsFor(tt.pod.Name, "Scheduled")[0]
				wantMsg := fmt.Sprintf("Successfully assigned default/%s to %s", tt.pod.Name, h.pod(tt.pod.Name).Spec.NodeName)
				if e.Type != corev1.EventTypeNormal || e.Message != wantMsg {
					t.Errorf("event = %s %q, want Normal %q", e.Type, e.Message, wantMsg)
				}
				return
			}

			c := h.waitUnschedulable(tt.pod.Name)
			if c.Reason != v1alpha1.PodReasonUnschedulable || c.Message != tt.wantMsg {
				t.Errorf("condition = %s %q, want Unschedulable %q", c.Reason, c.Message, tt.wantMsg)
			}
			h.eventually("the FailedScheduling event", func() bool { return len(h.eventsFor(tt.pod.Name, "FailedScheduling")) > 0 })
			e := h.eventsFor(tt.pod.Name, "FailedScheduling")[0]
			if e.Type != corev1.EventTypeWarning || e.Message != tt.wantMsg {
				t.Errorf("event = %s %q, want Warning %q", e.Type, e.Message, tt.wantMsg)
			}
			if n := h.pod(tt.pod.Name).Spec.NodeName; n != "" {
				t.Errorf("pod bound to %s, want it unbound", n)
			}
		})
	}
}

func TestPodsForOtherSchedulersAreLeftAlone(t *testing.T) {
	h := start(t, Config{SchedulerName: "mine"},
		st.MakeNode("n").Obj(),
		st.MakePod("theirs").SchedulerName("other-scheduler").Obj(),
		st.MakePod("ours").SchedulerName("mine").Obj())
	h.waitBound("ours")
	h.stop()
	if n := h.pod("theirs").Spec.NodeName; n != "" || h.api.BindCalls("default", "theirs") != 0 {
		t.Errorf("pod of another scheduler was bound to %q", n)
	}
}

func TestCapacityIsNeverExceeded(t *testing.T) {
	objects := []runtime.Object{}
	for i := range 10 {
		objects = append(objects, st.MakeNode(fmt.Sprintf("node-%d", i)).Capacity("2", "4Gi", "110").Obj())
	}
	for i := range 30 {
		objects = append(objects, st.MakePod(fmt.Sprintf("pod-%02d", i)).Req("1", "1Gi").Obj())
	}
	h := start(t, Config{Parallelism: 4}, objects...)

	bound := func() map[string]int {
		list, _ := h.api.Client.CoreV1alpha1().Pods("default").List(context.Background(), metav1.ListOptions{})
		perNode := map[string]int{}
		for _, p := range list.Items {
			if p.Spec.NodeName != "" {
				perNode[p.Spec.NodeName]++
			}
		}
		return perNode
	}
	total := func(m map[string]int) (n int) {
		for _, v := range m {
			n += v
		}
		return n
	}
	h.eventually("20 pods bound", func() bool { return total(bound()) == 20 })
	h.eventually("10 pods marked unschedulable", func() bool {
		list, _ := h.api.Client.CoreV1alpha1().Pods("default").List(context.Background(), metav1.ListOptions{})
		n := 0
		for i := range list.Items {
			if c := scheduledCondition(&list.Items[i]); c != nil && c.Status == v1alpha1.ConditionFalse {
				n++
			}
		}
		return n == 10
	})
	h.stop()
	for node, n := range bound() {
		if n > 2 {
			t.Errorf("node %s holds %d pods of 1 cpu, has 2 cpu", node, n)
		}
	}
	if n := total(bound()); n != 20 {
		t.Errorf("%d pods bound, want 20", n)
	}
}

func TestUnschedulablePodIsScheduledWhenANodeIsLabelled(t *testing.T) {
	node := st.MakeNode("n").Obj()
	h := start(t, Config{}, node, st.MakePod("p").NodeSelector(map[string]string{"disk": "ssd"}).Obj())
	h.waitUnschedulable("p")

	labelled := node.DeepCopy()
	labelled.Labels["disk"] = "ssd"
	if _, err := h.api.Client.CoreV1alpha1().Nodes().Update(context.Background(), labelled, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := h.waitBound("p"); got != "n" {
		t.Errorf("bound to %s, want n", got)
	}
}

func TestUnschedulablePodIsScheduledWhenRoomIsFreed(t *testing.T) {
	h := start(t, Config{},
		st.MakeNode("n").Capacity("2", "4Gi", "110").Obj(),
		st.MakePod("hog").Req("2", "").Node("n").Obj(),
		st.MakePod("p").Req("1", "").Obj())
	c := h.waitUnschedulable("p")
	if want := "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."; c.Message != want {
		t.Errorf("message %q, want %q", c.Message, want)
	}
	if err := h.api.Client.CoreV1alpha1().Pods("default").Delete(context.Background(), "hog", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitBound("p")
}

func TestUnschedulablePodIsScheduledWhenANodeIsAdded(t *testing.T) {
	h := start(t, Config{}, st.MakePod("p").Obj())
	h.waitUnschedulable("p")
	h.create(st.MakeNode("new").Obj())
	h.waitBound("p")
}

func TestFailedBindingIsRetried(t *testing.T) {
	var once sync.Once
	h := start(t, Config{}, st.MakeNode("n").Obj())
	h.api.SetBindError(func(*v1alpha1.Binding) error {
		var err error
		once.Do(func() { err = apierrors.NewInternalError(errors.New("etcd hiccup")) })
		return err
	})
	h.create(st.MakePod("p").Obj())
	h.waitBound("p")
	if n := h.api.BindCalls("default", "p"); n != 2 {
		t.Errorf("%d binding calls, want 2 (one failed, one retried)", n)
	}
	h.eventually("a FailedScheduling event for the rejected binding", func() bool {
		for _, e := range h.eventsFor("p", "FailedScheduling") {
			if strings.Contains(e.Message, "binding rejected") {
				return true
			}
		}
		return false
	})
}

func TestConflictOnBindingDropsThePod(t *testing.T) {
	h := start(t, Config{}, st.MakeNode("n").Obj())
	h.api.SetBindError(func(b *v1alpha1.Binding) error {
		return apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, b.Name, errors.New("already assigned"))
	})
	h.create(st.MakePod("p").Obj())
	h.eventually("the binding attempt", func() bool { return h.api.BindCalls("default", "p") == 1 })
	h.stop() // waits for the binding goroutine to settle
	if got := h.sched.Queue().PendingPods(); got != (queue.PendingCounts{}) {
		t.Errorf("pod requeued after 409: %+v", got)
	}
	if h.sched.Cache().PodCount() != 0 {
		t.Error("the assumption survived the 409")
	}
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	tests := []struct {
		name       string
		percentage int32
		nodes      int32
		want       int32
	}{
		{"small cluster: all nodes", 0, 50, 50},
		{"adaptive at 500 nodes: 46%", 0, 500, 230},
		{"adaptive at 5000 nodes: 10%", 0, 5000, 500},
		{"adaptive floor of 5%", 0, 10000, 500},
		{"never fewer than 100", 0, 150, 100},
		{"explicit percentage", 20, 1000, 200},
		{"explicit percentage still finds 100", 1, 1000, 100},
		{"100% means every node", 100, 1000, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := numFeasibleNodesToFind(tt.percentage, tt.nodes); got != tt.want {
				t.Errorf("numFeasibleNodesToFind(%d, %d) = %d, want %d", tt.percentage, tt.nodes, got, tt.want)
			}
		})
	}
}

func TestSelectHost(t *testing.T) {
	if got := selectHost([]int64{10, 300, 20}); got != 1 {
		t.Errorf("selectHost picked %d, want the highest score at 1", got)
	}
	picked := map[int]bool{}
	for range 200 {
		picked[selectHost([]int64{5, 9, 1, 9})] = true
	}
	if !picked[1] || !picked[3] || picked[0] || picked[2] {
		t.Errorf("ties picked %v, want both tied nodes (1 and 3) and no other", picked)
	}
}

func TestSearchStartRotates(t *testing.T) {
	var objects []runtime.Object
	for i := range 200 {
		objects = append(objects, st.MakeNode(fmt.Sprintf("node-%03d", i)).Obj())
	}
	objects = append(objects, st.MakePod("a").Obj(), st.MakePod("b").Obj())
	h := start(t, Config{PercentageOfNodesToScore: 10}, objects...)
	h.waitBound("a")
	h.waitBound("b")
	h.stop()
	// Each cycle stops after 100 feasible nodes and the next one starts
	// where it stopped.
	if got := h.sched.nextStartNodeIndex; got != 0 {
		t.Errorf("after two cycles of 100 nodes the search starts at %d, want 0 (wrapped around 200)", got)
	}
}

func TestUnschedulableConditionIsWrittenOnlyWhenItChanges(t *testing.T) {
	old := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	withCondition := func(msg string) *v1alpha1.Pod {
		p := st.MakePod("p").Obj()
		p.Status.Conditions = []v1alpha1.PodCondition{
			{Type: v1alpha1.PodReady, Status: v1alpha1.ConditionFalse},
			{Type: v1alpha1.PodScheduled, Status: v1alpha1.ConditionFalse, Reason: v1alpha1.PodReasonUnschedulable, Message: msg, LastTransitionTime: old},
		}
		return p
	}
	tests := []struct {
		name          string
		pod           *v1alpha1.Pod
		wantPatch     bool
		wantTransTime bool // LastTransitionTime kept from before
	}{
		{"no condition yet", st.MakePod("p").Obj(), true, false},
		{"same message", withCondition("0/1 nodes are available: 1 Insufficient cpu."), false, false},
		{"new message keeps the transition time", withCondition("0/1 nodes are available: 1 Insufficient memory."), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := st.NewFakeAPI(tt.pod)
			s := &Scheduler{client: api.Client}
			if err := s.setUnschedulable(context.Background(), tt.pod, "0/1 nodes are available: 1 Insufficient cpu.", ""); err != nil {
				t.Fatal(err)
			}
			patches := 0
			for _, a := range api.Client.Actions() {
				if a.GetVerb() == "patch" && a.GetSubresource() == "status" {
					patches++
				}
			}
			if (patches > 0) != tt.wantPatch {
				t.Fatalf("%d status patches, want patch: %v", patches, tt.wantPatch)
			}
			got, _ := api.Client.Tracker().Get(podsGVR, "default", "p")
			pod := got.(*v1alpha1.Pod)
			c := scheduledCondition(pod)
			if c == nil || c.Status != v1alpha1.ConditionFalse || c.Message != "0/1 nodes are available: 1 Insufficient cpu." {
				t.Fatalf("condition = %+v", c)
			}
			if tt.wantTransTime && !c.LastTransitionTime.Equal(&old) {
				t.Errorf("transition time %v, want it kept at %v", c.LastTransitionTime, old)
			}
			if tt.pod.Status.Conditions != nil && len(pod.Status.Conditions) != 2 {
				t.Errorf("other conditions lost: %+v", pod.Status.Conditions)
			}
		})
	}
}

// TestUnschedulableConditionKeepsOtherWritersConditions: a condition another
// component set after the informer showed the pod survives the scheduler's
// PodScheduled write.
func TestUnschedulableConditionKeepsOtherWritersConditions(t *testing.T) {
	seen := st.MakePod("p").Obj()
	stored := seen.DeepCopy()
	stored.Status.Conditions = append(stored.Status.Conditions, v1alpha1.PodCondition{Type: "example.com/gate", Status: v1alpha1.ConditionTrue})
	api := st.NewFakeAPI(stored)
	s := &Scheduler{client: api.Client}
	if err := s.setUnschedulable(context.Background(), seen, "0/1 nodes are available: 1 Insufficient cpu.", ""); err != nil {
		t.Fatal(err)
	}
	got, _ := api.Client.Tracker().Get(podsGVR, "default", "p")
	pod := got.(*v1alpha1.Pod)
	if c := scheduledCondition(pod); c == nil || c.Status != v1alpha1.ConditionFalse {
		t.Errorf("PodScheduled = %+v, want False", c)
	}
	if len(pod.Status.Conditions) != 2 {
		t.Errorf("conditions %+v: want the other writer's example.com/gate kept", pod.Status.Conditions)
	}
}

// One node update that changes a label and a taint is two events; each must
// reach the pods whose plugins registered it. (onNodeUpdate used to send
// only the first, so the pod waiting for the taint to go stayed put.)
func TestOneNodeUpdateSendsEveryEvent(t *testing.T) {
	node := st.MakeNode("n").Taint("k", "v", noSchedule).Obj()
	wantsLabel := st.MakePod("wants-label").NodeSelector(map[string]string{"disk": "ssd"}).
		Toleration("k", v1alpha1.TolerationOpEqual, "v", noSchedule).Obj()
	intolerant := st.MakePod("intolerant").Obj()
	h := start(t, Config{}, node, wantsLabel, intolerant)
	h.waitUnschedulable("wants-label")
	h.waitUnschedulable("intolerant")

	changed := node.DeepCopy()
	changed.Labels["disk"] = "ssd"
	changed.Spec.Taints = nil
	if _, err := h.api.Client.CoreV1alpha1().Nodes().Update(context.Background(), changed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitBound("wants-label")
	h.waitBound("intolerant")
}

// An event moves only the pods whose rejecting plugin registered it and
// whose hint says it helps: a node labelled for one pod leaves the pod
// waiting for another label (and the pod waiting for room) unschedulable.
func TestNodeLabelChangeMovesOnlyThePodsItConcerns(t *testing.T) {
	node := st.MakeNode("n").Capacity("1", "8Gi", "110").Obj()
	ssd := st.MakePod("ssd").NodeSelector(map[string]string{"disk": "ssd"}).Obj()
	gpu := st.MakePod("gpu").NodeSelector(map[string]string{"gpu": "true"}).Obj()
	big := st.MakePod("big").Req("2", "").Obj()
	h := start(t, Config{}, node, ssd, gpu, big)
	for _, p := range []string{"ssd", "gpu", "big"} {
		h.waitUnschedulable(p)
	}
	h.eventually("all three waiting as unschedulable", func() bool { return h.sched.Queue().PendingPods().Unschedulable == 3 })

	labelled := node.DeepCopy()
	labelled.Labels["disk"] = "ssd"
	if _, err := h.api.Client.CoreV1alpha1().Nodes().Update(context.Background(), labelled, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitBound("ssd")
	// ssd's binding is the last event; the other two must still wait.
	h.stop()
	if got := h.sched.Queue().PendingPods(); got.Unschedulable != 2 || got.Active != 0 || got.Backoff != 0 {
		t.Errorf("queue %+v, want the two other pods still unschedulable", got)
	}
}

// TestUnschedulableWithNominationIsOneWrite: a preemptor's PodScheduled
// condition and its nominated node go to pods/status in one patch, as
// upstream's updatePod, and a repeat of both writes nothing.
func TestUnschedulableWithNominationIsOneWrite(t *testing.T) {
	pod := st.MakePod("p").Obj()
	api := st.NewFakeAPI(pod)
	s := &Scheduler{client: api.Client}
	msg := "0/1 nodes are available: 1 Insufficient cpu."
	if err := s.setUnschedulable(context.Background(), pod, msg, "node-1"); err != nil {
		t.Fatal(err)
	}
	got, _ := api.Client.Tracker().Get(podsGVR, "default", "p")
	stored := got.(*v1alpha1.Pod)
	if stored.Status.NominatedNodeName != "node-1" {
		t.Errorf("nominatedNodeName = %q, want node-1", stored.Status.NominatedNodeName)
	}
	if c := scheduledCondition(stored); c == nil || c.Status != v1alpha1.ConditionFalse || c.Message != msg {
		t.Errorf("PodScheduled = %+v, want False with %q", c, msg)
	}
	if err := s.setUnschedulable(context.Background(), stored, msg, "node-1"); err != nil {
		t.Fatal(err)
	}
	patches := 0
	for _, a := range api.Client.Actions() {
		if a.GetVerb() == "patch" && a.GetSubresource() == "status" {
			patches++
		}
	}
	if patches != 1 {
		t.Errorf("%d status patches, want 1 (both fields at once, nothing on the repeat)", patches)
	}
}

func TestRejectedNodesCountInTheSearchAndOnlyAFailureIsDiagnosed(t *testing.T) {
	// 200 nodes, half of them in the pool; 10% to score is 100 feasible.
	s := idleScheduler(t, Config{PercentageOfNodesToScore: 10}, poolNodes(200)...)
	ctx := context.Background()
	cycle := func(pod *v1alpha1.Pod) ([]*framework.NodeInfo, framework.Diagnosis) {
		t.Helper()
		s.cache.UpdateSnapshot(s.snapshot)
		state := framework.NewCycleState()
		if _, status := s.framework.RunPreFilterPlugins(ctx, state, pod); !status.IsSuccess() {
			t.Fatalf("PreFilter: %v", status.AsError())
		}
		feasible, diagnosis, err := s.findNodesThatPassFilters(ctx, state, pod, nil)
		if err != nil {
			t.Fatal(err)
		}
		return feasible, diagnosis
	}

	feasible, diagnosis := cycle(st.MakePod("fits").NodeSelector(map[string]string{"pool": "bench"}).Obj())
	if len(feasible) != 100 {
		t.Fatalf("%d feasible nodes, want all 100 of the pool", len(feasible))
	}
	if diagnosis.NodeToStatus != nil || diagnosis.UnschedulablePlugins != nil {
		t.Errorf("a pod that fits got a diagnosis of %d nodes", len(diagnosis.NodeToStatus))
	}
	// The 100 nodes outside the pool were searched too: the next cycle
	// starts after all 200, where this one started.
	if s.nextStartNodeIndex != 0 {
		t.Errorf("next search starts at %d, want 0", s.nextStartNodeIndex)
	}

	feasible, diagnosis = cycle(st.MakePod("fits-nowhere").NodeSelector(map[string]string{"pool": "none"}).Obj())
	if len(feasible) != 0 || len(diagnosis.NodeToStatus) != 200 {
		t.Fatalf("%d feasible and %d diagnosed nodes, want 0 and 200", len(feasible), len(diagnosis.NodeToStatus))
	}
	if _, ok := diagnosis.UnschedulablePlugins["NodeAffinity"]; !ok || len(diagnosis.UnschedulablePlugins) != 1 {
		t.Errorf("unschedulable plugins %v, want NodeAffinity", diagnosis.UnschedulablePlugins)
	}
}
