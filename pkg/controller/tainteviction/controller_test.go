package tainteviction

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
)

var (
	unreachable = v1alpha1.Taint{Key: "node.kubernetes.io/unreachable", Effect: v1alpha1.TaintEffectNoExecute}
	notReady    = v1alpha1.Taint{Key: "node.kubernetes.io/not-ready", Effect: v1alpha1.TaintEffectNoExecute}
	noSchedule  = v1alpha1.Taint{Key: "dedicated", Value: "db", Effect: v1alpha1.TaintEffectNoSchedule}
)

func tolerate(key string, seconds *int64) v1alpha1.Toleration {
	return v1alpha1.Toleration{Key: key, Operator: v1alpha1.TolerationOpExists, Effect: v1alpha1.TaintEffectNoExecute, TolerationSeconds: seconds}
}

func pod(name string, tolerations ...v1alpha1.Toleration) *v1alpha1.Pod {
	return &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)},
		Spec:       v1alpha1.PodSpec{NodeName: "n1", Tolerations: tolerations},
	}
}

func node(taints ...v1alpha1.Taint) *v1alpha1.Node {
	return &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: v1alpha1.NodeSpec{Taints: taints}}
}

type fixture struct {
	c        *Controller
	client   *fake.Clientset
	clock    *clocktesting.FakeClock
	recorder *record.FakeRecorder
	factory  externalversions.SharedInformerFactory
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewClientset(objs...)
	factory := externalversions.NewSharedInformerFactory(client, 0)
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	recorder := record.NewFakeRecorder(100)
	c, err := New(client, factory.Core().V1alpha1().Pods(), factory.Core().V1alpha1().Nodes(), recorder, clk)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), c.podsSynced, c.nodesSynced) {
		t.Fatal("caches did not sync")
	}
	return &fixture{c: c, client: client, clock: clk, recorder: recorder, factory: factory}
}

func (f *fixture) sync(t *testing.T, name string) time.Duration {
	t.Helper()
	requeue, err := f.c.syncPod(context.Background(), "default/"+name)
	if err != nil {
		t.Fatalf("sync %s: %v", name, err)
	}
	return requeue
}

func (f *fixture) exists(t *testing.T, name string) bool {
	t.Helper()
	_, err := f.client.CoreV1alpha1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
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

func TestEviction(t *testing.T) {
	tests := []struct {
		name        string
		node        *v1alpha1.Node
		pod         *v1alpha1.Pod
		wantRequeue time.Duration // before any time passes
		wantEvicted bool          // at once
	}{
		{name: "a pod that does not tolerate the taint is evicted at once",
			node: node(unreachable), pod: pod("p"), wantEvicted: true},
		{name: "a pod tolerating only one of two taints is evicted at once",
			node: node(unreachable, notReady), pod: pod("p", tolerate(unreachable.Key, ptr.To[int64](300))), wantEvicted: true},
		{name: "a pod tolerating the taint for 30 s waits 30 s",
			node: node(unreachable), pod: pod("p", tolerate(unreachable.Key, ptr.To[int64](30))), wantRequeue: 30 * time.Second},
		{name: "the shortest tolerationSeconds among the taints wins",
			node: node(unreachable, notReady), pod: pod("p", tolerate(unreachable.Key, ptr.To[int64](60)), tolerate(notReady.Key, ptr.To[int64](10))), wantRequeue: 10 * time.Second},
		{name: "tolerationSeconds 0 evicts at once",
			node: node(unreachable), pod: pod("p", tolerate(unreachable.Key, ptr.To[int64](0))), wantEvicted: true},
		{name: "a toleration without seconds keeps the pod forever",
			node: node(unreachable), pod: pod("p", tolerate(unreachable.Key, nil))},
		{name: "an Exists toleration of every taint keeps the pod",
			node: node(unreachable), pod: pod("p", v1alpha1.Toleration{Operator: v1alpha1.TolerationOpExists})},
		{name: "a NoSchedule taint evicts nobody",
			node: node(noSchedule), pod: pod("p")},
		{name: "a pod on an untainted node stays",
			node: node(), pod: pod("p")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.node, tc.pod)
			requeue := f.sync(t, "p")
			if requeue != tc.wantRequeue {
				t.Errorf("requeue after %v, want %v", requeue, tc.wantRequeue)
			}
			if evicted := !f.exists(t, "p"); evicted != tc.wantEvicted {
				t.Fatalf("evicted = %v, want %v", evicted, tc.wantEvicted)
			}
			ev := f.events()
			if tc.wantEvicted && (len(ev) != 1 || !strings.Contains(ev[0], "TaintManagerEviction")) {
				t.Errorf("events = %v, want one TaintManagerEviction", ev)
			}
			if tc.wantRequeue > 0 {
				f.clock.Step(tc.wantRequeue - time.Second)
				if f.sync(t, "p"); !f.exists(t, "p") {
					t.Fatal("evicted before its tolerationSeconds were up")
				}
				f.clock.Step(time.Second)
				if f.sync(t, "p"); f.exists(t, "p") {
					t.Fatal("not evicted once its tolerationSeconds were up")
				}
			}
		})
	}
}

func TestTaintRemovedInTimeCancelsEviction(t *testing.T) {
	f := newFixture(t, node(unreachable), pod("p", tolerate(unreachable.Key, ptr.To[int64](30))))
	f.sync(t, "p")
	f.clock.Step(20 * time.Second)
	// The node comes back: its taint goes.
	if err := f.factory.Core().V1alpha1().Nodes().Informer().GetStore().Update(node()); err != nil {
		t.Fatal(err)
	}
	f.sync(t, "p")
	if ev := f.events(); len(ev) != 1 || !strings.Contains(ev[0], "Cancelling deletion") {
		t.Errorf("events = %v, want a cancellation", ev)
	}
	// Tainted again: the pod gets its whole 30 s again.
	if err := f.factory.Core().V1alpha1().Nodes().Informer().GetStore().Update(node(unreachable)); err != nil {
		t.Fatal(err)
	}
	f.clock.Step(20 * time.Second)
	if requeue := f.sync(t, "p"); requeue != 30*time.Second || !f.exists(t, "p") {
		t.Errorf("after a new taint the pod waits %v (exists %v), want a fresh 30s", requeue, f.exists(t, "p"))
	}
}

func TestNodeTaintChangeQueuesItsPods(t *testing.T) {
	f := newFixture(t, node(), pod("a"), pod("b"))
	for f.c.queue.Len() > 0 { // drop what the pods' own adds queued
		k, _ := f.c.queue.Get()
		f.c.queue.Done(k)
	}
	f.c.enqueueNode(node(unreachable))
	if got := f.c.queue.Len(); got != 2 {
		t.Errorf("queued %d pods for the node's taint change, want 2", got)
	}
}
