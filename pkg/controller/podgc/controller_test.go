package podgc

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func pod(name, node string, phase v1alpha1.PodPhase, age int) *v1alpha1.Pod {
	return &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(epoch.Add(-time.Duration(age) * time.Minute))},
		Spec:   v1alpha1.PodSpec{NodeName: node},
		Status: v1alpha1.PodStatus{Phase: phase},
	}
}

func node(name string) *v1alpha1.Node {
	return &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

type fixture struct {
	c      *Controller
	client *fake.Clientset
	clock  *clocktesting.FakeClock
	cancel context.CancelFunc
}

func newFixture(t *testing.T, threshold int, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewClientset(objs...)
	factory := externalversions.NewSharedInformerFactory(client, 0)
	clk := clocktesting.NewFakeClock(epoch)
	c := New(client, factory.Core().V1alpha1().Pods(), factory.Core().V1alpha1().Nodes(), clk, Config{TerminatedPodThreshold: threshold})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), c.podsSynced, c.nodesSynced) {
		t.Fatal("caches did not sync")
	}
	return &fixture{c: c, client: client, clock: clk}
}

// remaining lists the pods that are left, by name.
func (f *fixture) remaining(t *testing.T) string {
	t.Helper()
	list, err := f.client.CoreV1alpha1().Pods("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list.Items {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return fmt.Sprint(names)
}

func TestTerminatedPodsAboveThresholdGoOldestFirst(t *testing.T) {
	f := newFixture(t, 2, node("n1"),
		pod("done-oldest", "n1", v1alpha1.PodSucceeded, 40),
		pod("failed-old", "n1", v1alpha1.PodFailed, 30),
		pod("done-new", "n1", v1alpha1.PodSucceeded, 20),
		pod("failed-newest", "n1", v1alpha1.PodFailed, 10),
		pod("running-ancient", "n1", v1alpha1.PodRunning, 100),
	)
	f.c.gc(context.Background())
	if got, want := f.remaining(t), "[done-new failed-newest running-ancient]"; got != want {
		t.Errorf("left %s, want %s: the two oldest finished pods go, running pods stay", got, want)
	}
}

func TestThresholdZeroKeepsFinishedPods(t *testing.T) {
	f := newFixture(t, 0, node("n1"), pod("a", "n1", v1alpha1.PodSucceeded, 1), pod("b", "n1", v1alpha1.PodFailed, 2))
	f.c.gc(context.Background())
	if got := f.remaining(t); got != "[a b]" {
		t.Errorf("left %s, want every finished pod with --terminated-pod-gc-threshold=0", got)
	}
}

func TestPodsOnDeletedNodeGoAfterQuarantine(t *testing.T) {
	f := newFixture(t, 0, node("alive"),
		pod("on-alive", "alive", v1alpha1.PodRunning, 1),
		pod("on-gone", "gone", v1alpha1.PodRunning, 1),
		pod("unbound", "", v1alpha1.PodPending, 1),
	)
	f.c.gc(context.Background())
	f.clock.Step(DefaultQuarantine - time.Second)
	f.c.gc(context.Background())
	if got := f.remaining(t); got != "[on-alive on-gone unbound]" {
		t.Fatalf("left %s before the quarantine ended; every pod must stay", got)
	}
	f.clock.Step(time.Second)
	f.c.gc(context.Background())
	if got, want := f.remaining(t), "[on-alive unbound]"; got != want {
		t.Errorf("left %s after the quarantine, want %s", got, want)
	}
	// The delete was a force delete: grace period 0.
	for _, a := range f.client.Actions() {
		if d, ok := a.(k8stesting.DeleteAction); ok && d.GetResource().Resource == "pods" {
			if g := d.GetDeleteOptions().GracePeriodSeconds; g == nil || *g != 0 {
				t.Errorf("pod deleted with grace period %v, want 0", g)
			}
			return
		}
	}
	t.Error("no pod delete was sent")
}

func TestNodeBackInTimeKeepsItsPods(t *testing.T) {
	f := newFixture(t, 0, pod("p", "late", v1alpha1.PodRunning, 1))
	f.c.gc(context.Background())
	// The node exists in the API (the cache was only behind).
	if _, err := f.client.CoreV1alpha1().Nodes().Create(context.Background(), node("late"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.clock.Step(DefaultQuarantine)
	f.c.gc(context.Background())
	if got := f.remaining(t); got != "[p]" {
		t.Errorf("left %s; a pod on an existing node must stay", got)
	}
}

func TestUnscheduledTerminatingPodsAreForceDeleted(t *testing.T) {
	terminating := pod("stuck", "", v1alpha1.PodPending, 1)
	terminating.DeletionTimestamp = &metav1.Time{Time: epoch}
	f := newFixture(t, 0, terminating, pod("pending", "", v1alpha1.PodPending, 1))
	f.c.gc(context.Background())
	if got := f.remaining(t); got != "[pending]" {
		t.Errorf("left %s, want only the pending pod", got)
	}
}
