package nodelifecycle

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
)

const grace = 40 * time.Second

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func node(name string, ready v1alpha1.ConditionStatus, taints ...v1alpha1.Taint) *v1alpha1.Node {
	return &v1alpha1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)},
		Spec:       v1alpha1.NodeSpec{Taints: taints},
		Status: v1alpha1.NodeStatus{Conditions: []v1alpha1.NodeCondition{
			{Type: v1alpha1.NodeReady, Status: ready, Reason: "KubeletReady", LastHeartbeatTime: metav1.NewTime(start)},
			{Type: "MemoryPressure", Status: v1alpha1.ConditionFalse, Reason: "KubeletHasSufficientMemory"},
		}},
	}
}

func lease(name string, renew time.Time) *v1alpha1.Lease {
	return &v1alpha1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: NodeLeaseNamespace, Name: name},
		Spec:       v1alpha1.LeaseSpec{RenewTime: &metav1.MicroTime{Time: renew}},
	}
}

type fixture struct {
	c        *Controller
	client   *fake.Clientset
	clock    *clocktesting.FakeClock
	recorder *record.FakeRecorder
	factory  externalversions.SharedInformerFactory
}

// newFixture runs the controller on objs plus a node "healthy" that is
// Ready, so the cluster is never wholly down (see TestNoNodeReadyEvictsNothing).
func newFixture(t *testing.T, rate float32, objs ...runtime.Object) *fixture {
	t.Helper()
	return newFixtureWithout(t, rate, append(objs, node("healthy", v1alpha1.ConditionTrue))...)
}

func newFixtureWithout(t *testing.T, rate float32, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewClientset(objs...)
	factory := externalversions.NewSharedInformerFactory(client, 0)
	clk := clocktesting.NewFakeClock(start)
	recorder := record.NewFakeRecorder(100)
	c, err := New(client, factory.Core().V1alpha1().Nodes(), factory.Core().V1alpha1().Leases(), recorder, clk,
		Config{GracePeriod: grace, EvictionRate: rate})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), c.nodesSynced, c.leaseSynced) {
		t.Fatal("caches did not sync")
	}
	return &fixture{c: c, client: client, clock: clk, recorder: recorder, factory: factory}
}

// sync runs one sync of the node against the client's current state.
func (f *fixture) sync(t *testing.T, name string) time.Duration {
	t.Helper()
	// Feed the informer what the client holds now, as a watch would.
	list, err := f.client.CoreV1alpha1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range list.Items {
		if err := f.factory.Core().V1alpha1().Nodes().Informer().GetStore().Update(&list.Items[i]); err != nil {
			t.Fatal(err)
		}
	}
	requeue, err := f.c.syncNode(context.Background(), name)
	if err != nil {
		t.Fatalf("sync %s: %v", name, err)
	}
	return requeue
}

func (f *fixture) get(t *testing.T, name string) *v1alpha1.Node {
	t.Helper()
	n, err := f.client.CoreV1alpha1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func conditions(n *v1alpha1.Node) map[v1alpha1.NodeConditionType]v1alpha1.ConditionStatus {
	out := map[v1alpha1.NodeConditionType]v1alpha1.ConditionStatus{}
	for _, c := range n.Status.Conditions {
		out[c.Type] = c.Status
	}
	return out
}

func taintKeys(n *v1alpha1.Node) []string {
	var out []string
	for _, t := range n.Spec.Taints {
		out = append(out, t.Key+":"+string(t.Effect))
	}
	return out
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func TestLeaseExpiryMarksNodeUnknownAndTaintsIt(t *testing.T) {
	f := newFixture(t, 10, node("n1", v1alpha1.ConditionTrue), lease("n1", start))

	if requeue := f.sync(t, "n1"); requeue != grace {
		t.Errorf("a node seen for the first time is looked at again after %v, want the grace period %v", requeue, grace)
	}
	f.clock.Step(grace - time.Second)
	f.sync(t, "n1")
	if got := conditions(f.get(t, "n1"))[v1alpha1.NodeReady]; got != v1alpha1.ConditionTrue {
		t.Fatalf("within the grace period Ready = %s, want True", got)
	}

	f.clock.Step(2 * time.Second)
	f.sync(t, "n1")
	n := f.get(t, "n1")
	conds := conditions(n)
	if conds[v1alpha1.NodeReady] != v1alpha1.ConditionUnknown {
		t.Errorf("after the grace period Ready = %s, want Unknown", conds[v1alpha1.NodeReady])
	}
	if conds["MemoryPressure"] != v1alpha1.ConditionFalse {
		t.Errorf("the kubelet's MemoryPressure condition was changed to %q; it must be left alone", conds["MemoryPressure"])
	}
	if got := taintKeys(n); len(got) != 1 || got[0] != TaintNodeUnreachable+":NoExecute" {
		t.Errorf("taints = %v, want only %s:NoExecute", got, TaintNodeUnreachable)
	}
	if n.Spec.Taints[0].TimeAdded == nil {
		t.Error("the NoExecute taint has no timeAdded")
	}
	if ev := f.events(); len(ev) != 1 || !strings.Contains(ev[0], "NodeNotReady") {
		t.Errorf("events = %v, want one NodeNotReady", ev)
	}
}

func TestRenewedLeaseKeepsNodeReady(t *testing.T) {
	f := newFixture(t, 10, node("n1", v1alpha1.ConditionTrue), lease("n1", start))
	f.sync(t, "n1")
	for i := 0; i < 10; i++ {
		f.clock.Step(grace / 2)
		l := lease("n1", f.clock.Now())
		if err := f.factory.Core().V1alpha1().Leases().Informer().GetStore().Update(l); err != nil {
			t.Fatal(err)
		}
		f.sync(t, "n1")
	}
	n := f.get(t, "n1")
	if got := conditions(n)[v1alpha1.NodeReady]; got != v1alpha1.ConditionTrue {
		t.Errorf("a node renewing its lease has Ready = %s", got)
	}
	if len(n.Spec.Taints) != 0 {
		t.Errorf("a node renewing its lease was tainted: %v", taintKeys(n))
	}
}

func TestTaints(t *testing.T) {
	userTaint := v1alpha1.Taint{Key: "dedicated", Value: "db", Effect: v1alpha1.TaintEffectNoSchedule}
	unreachable := v1alpha1.Taint{Key: TaintNodeUnreachable, Effect: v1alpha1.TaintEffectNoExecute}
	notReady := v1alpha1.Taint{Key: TaintNodeNotReady, Effect: v1alpha1.TaintEffectNoExecute}
	tests := []struct {
		name  string
		node  *v1alpha1.Node
		want  []string
		event string
	}{
		{"a node reporting Ready=False gets not-ready", node("n1", v1alpha1.ConditionFalse, userTaint),
			[]string{"dedicated:NoSchedule", TaintNodeNotReady + ":NoExecute"}, "NodeNotReady"},
		{"a node back to Ready loses unreachable and keeps the user's taint", node("n1", v1alpha1.ConditionTrue, userTaint, unreachable),
			[]string{"dedicated:NoSchedule"}, "NodeReady"},
		{"a node back to Ready loses not-ready", node("n1", v1alpha1.ConditionTrue, notReady), nil, "NodeReady"},
		{"unreachable turns into not-ready when the kubelet reports False", node("n1", v1alpha1.ConditionFalse, unreachable),
			[]string{TaintNodeNotReady + ":NoExecute"}, "NodeNotReady"},
		{"a ready node without taints is left alone", node("n1", v1alpha1.ConditionTrue), nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 10, tc.node, lease("n1", start))
			f.sync(t, "n1")
			got := taintKeys(f.get(t, "n1"))
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("taints = %v, want %v", got, tc.want)
			}
			ev := f.events()
			if tc.event == "" && len(ev) > 0 || tc.event != "" && (len(ev) != 1 || !strings.Contains(ev[0], tc.event)) {
				t.Errorf("events = %v, want %q", ev, tc.event)
			}
		})
	}
}

func TestTaintingIsRateLimited(t *testing.T) {
	// 0.1 nodes a second: the first node is tainted at once, the second
	// must wait for the next token (10 s later).
	f := newFixture(t, 0.1, node("n1", v1alpha1.ConditionFalse), node("n2", v1alpha1.ConditionFalse))
	f.sync(t, "n1")
	if requeue := f.sync(t, "n2"); requeue != retryAfterThrottle {
		t.Errorf("throttled node requeued after %v, want %v", requeue, retryAfterThrottle)
	}
	if got := taintKeys(f.get(t, "n2")); len(got) != 0 {
		t.Fatalf("second node tainted at once (%v) despite the eviction rate", got)
	}
	f.clock.Step(10 * time.Second)
	f.sync(t, "n2")
	if got := taintKeys(f.get(t, "n2")); len(got) != 1 {
		t.Errorf("second node not tainted once a token was available: %v", got)
	}
	// Removing taints is never throttled.
	n1 := f.get(t, "n1")
	n1.Status.Conditions[0].Status = v1alpha1.ConditionTrue
	if _, err := f.client.CoreV1alpha1().Nodes().UpdateStatus(context.Background(), n1, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.sync(t, "n1")
	if got := taintKeys(f.get(t, "n1")); len(got) != 0 {
		t.Errorf("taint of a recovered node not removed at once: %v", got)
	}
}

// TestKubeletReportingReadyIsAHeartbeat: the kubelet's Ready=True write can
// arrive before its Lease renewal (two watches); it must not be marked
// Unknown again meanwhile.
func TestKubeletReportingReadyIsAHeartbeat(t *testing.T) {
	f := newFixture(t, 10, node("n1", v1alpha1.ConditionTrue), lease("n1", start))
	f.sync(t, "n1")
	f.clock.Step(grace + time.Second)
	f.sync(t, "n1")
	if got := conditions(f.get(t, "n1"))[v1alpha1.NodeReady]; got != v1alpha1.ConditionUnknown {
		t.Fatalf("Ready = %s, want Unknown", got)
	}
	f.clock.Step(time.Second)
	n := f.get(t, "n1")
	n.Status.Conditions[0].Status = v1alpha1.ConditionTrue // same heartbeat time
	if _, err := f.client.CoreV1alpha1().Nodes().UpdateStatus(context.Background(), n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.sync(t, "n1")
	n = f.get(t, "n1")
	if got := conditions(n)[v1alpha1.NodeReady]; got != v1alpha1.ConditionTrue {
		t.Errorf("the kubelet's Ready=True was overwritten with %s", got)
	}
	if len(n.Spec.Taints) != 0 {
		t.Errorf("taints of a node back to Ready: %v", taintKeys(n))
	}
}

// TestNoNodeReadyEvictsNothing: with every node unhealthy the fault is far
// likelier between the nodes and the control plane, and upstream's master
// disruption mode taints nothing (and takes its taints off).
func TestNoNodeReadyEvictsNothing(t *testing.T) {
	unreachable := v1alpha1.Taint{Key: TaintNodeUnreachable, Effect: v1alpha1.TaintEffectNoExecute}
	f := newFixtureWithout(t, 10, node("n1", v1alpha1.ConditionTrue), lease("n1", start),
		node("n2", v1alpha1.ConditionUnknown, unreachable), lease("n2", start))
	f.sync(t, "n1")
	f.clock.Step(grace + time.Second)
	if requeue := f.sync(t, "n1"); requeue != monitorPeriod {
		t.Errorf("requeue = %v, want the monitor period %v while no node is ready", requeue, monitorPeriod)
	}
	n1 := f.get(t, "n1")
	if got := conditions(n1)[v1alpha1.NodeReady]; got != v1alpha1.ConditionUnknown {
		t.Errorf("Ready = %s, want Unknown: the condition is still reported", got)
	}
	if len(n1.Spec.Taints) != 0 {
		t.Errorf("n1 tainted %v though no node is ready", taintKeys(n1))
	}
	f.sync(t, "n2")
	if got := taintKeys(f.get(t, "n2")); len(got) != 0 {
		t.Errorf("n2 keeps its taint %v though no node is ready", got)
	}
}

// TestStaleCacheDoesNotRepeatAWrite: right after marking a node Unknown the
// cache still shows it Ready; a sync then must not mark it again (a second
// NodeNotReady event, a new transition time).
func TestStaleCacheDoesNotRepeatAWrite(t *testing.T) {
	n := node("n1", v1alpha1.ConditionTrue)
	n.ResourceVersion = "7"
	f := newFixture(t, 10, n, lease("n1", start))
	f.sync(t, "n1")
	f.clock.Step(grace + time.Second)
	if _, err := f.c.syncNode(context.Background(), "n1"); err != nil {
		t.Fatal(err)
	}
	f.client.ClearActions()
	f.events()
	// The watch has not yet brought the write: the cache shows the node as
	// it was, Ready at resourceVersion 7.
	if err := f.factory.Core().V1alpha1().Nodes().Informer().GetStore().Update(n); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.syncNode(context.Background(), "n1"); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "patch" || a.GetVerb() == "update" {
			t.Errorf("a sync on the stale cache wrote again: %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}
	if ev := f.events(); len(ev) > 0 {
		t.Errorf("a sync on the stale cache recorded %v", ev)
	}
	// Nor is the stale Ready=True taken for the kubelet's heartbeat: once
	// the cache catches up, the node's grace period is still over.
	f.clock.Step(time.Second)
	caughtUp := f.get(t, "n1")
	caughtUp.ResourceVersion = "8" // the API server's version after the write
	if err := f.factory.Core().V1alpha1().Nodes().Informer().GetStore().Update(caughtUp); err != nil {
		t.Fatal(err)
	}
	requeue, err := f.c.syncNode(context.Background(), "n1")
	if err != nil {
		t.Fatal(err)
	}
	if requeue != 0 {
		t.Errorf("the stale view restarted the grace period: next look in %v", requeue)
	}
}
