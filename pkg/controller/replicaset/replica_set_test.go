package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/controller"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
)

const ns = "default"

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newRS(name string, n int32, sel map[string]string) *appsv1alpha1.ReplicaSet {
	return &appsv1alpha1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), Generation: 1},
		Spec: appsv1alpha1.ReplicaSetSpec{
			Replicas: &n,
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: v1alpha1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: sel},
				Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "app", Image: "busybox"}}},
			},
		},
	}
}

func newPod(name string, lbls map[string]string, owner *appsv1alpha1.ReplicaSet) *v1alpha1.Pod {
	p := &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), Labels: lbls,
		CreationTimestamp: metav1.NewTime(epoch)}, Status: v1alpha1.PodStatus{Phase: v1alpha1.PodRunning}}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*controller.NewControllerRef(owner, controllerKind)}
	}
	return p
}

type fixture struct {
	c        *Controller
	client   *fake.Clientset
	factory  externalversions.SharedInformerFactory
	recorder *record.FakeRecorder
	clock    *clocktesting.FakeClock
}

// newFixture builds a controller whose informers are never started: the
// test puts objects in their caches by hand, so it decides what the
// controller has seen, which is how informer lag is simulated.
func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewClientset(objs...)
	var n atomic.Int32
	// The fake clientset does not generate names.
	client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*v1alpha1.Pod)
		if p.Name == "" && p.GenerateName != "" {
			p.Name = fmt.Sprintf("%s%05d", p.GenerateName, n.Add(1))
		}
		return false, nil, nil
	})
	factory := externalversions.NewSharedInformerFactory(client, 0)
	rec := record.NewFakeRecorder(1000)
	clk := clocktesting.NewFakeClock(epoch)
	c, err := New(client, factory.Apps().V1alpha1().ReplicaSets(), factory.Core().V1alpha1().Pods(), rec, clk)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{c: c, client: client, factory: factory, recorder: rec, clock: clk}
	for _, o := range objs {
		f.cache(t, o)
	}
	return f
}

// cache puts obj in the informer's cache, as a watch event would.
func (f *fixture) cache(t *testing.T, obj runtime.Object) {
	t.Helper()
	var err error
	switch o := obj.(type) {
	case *appsv1alpha1.ReplicaSet:
		err = f.factory.Apps().V1alpha1().ReplicaSets().Informer().GetIndexer().Add(o)
	case *v1alpha1.Pod:
		err = f.factory.Core().V1alpha1().Pods().Informer().GetIndexer().Add(o)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) actions(verb, resource string) []k8stesting.Action {
	var out []k8stesting.Action
	for _, a := range f.client.Actions() {
		if a.GetVerb() == verb && a.GetResource().Resource == resource {
			out = append(out, a)
		}
	}
	return out
}

func (f *fixture) pods(t *testing.T) []v1alpha1.Pod {
	t.Helper()
	l, err := f.client.CoreV1alpha1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func TestCreatesFromTemplateWithControllerRef(t *testing.T) {
	rs := newRS("web", 3, map[string]string{"app": "web"})
	f := newFixture(t, rs)
	if err := f.c.sync(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	pods := f.pods(t)
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	for _, p := range pods {
		if p.GenerateName != "web-" || p.Labels["app"] != "web" {
			t.Errorf("pod %s: generateName %q labels %v", p.Name, p.GenerateName, p.Labels)
		}
		ref := metav1.GetControllerOf(&p)
		if ref == nil || ref.UID != rs.UID || ref.Kind != "ReplicaSet" || ref.APIVersion != "apps.skiff.dev/v1alpha1" ||
			ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Errorf("pod %s: controllerRef %+v", p.Name, ref)
		}
	}
	events := drain(f.recorder)
	if n := strings.Count(events, "Normal SuccessfulCreate Created pod: web-"); n != 3 {
		t.Errorf("%d SuccessfulCreate events, want 3:\n%s", n, events)
	}
}

// TestExpectationsPreventDoubleCreate: the informer has not reported the
// pods the first sync created; a second sync must not create them again.
// Once the informer catches up, a sync that finds too few pods creates
// again.
func TestExpectationsPreventDoubleCreate(t *testing.T) {
	rs := newRS("web", 3, map[string]string{"app": "web"})
	f := newFixture(t, rs)
	ctx := context.Background()
	for range 3 {
		if err := f.c.sync(ctx, "default/web"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.actions("create", "pods")); n != 3 {
		t.Fatalf("%d creates under informer lag, want 3", n)
	}
	// The informer reports two of them.
	pods := f.pods(t)
	for _, p := range pods[:2] {
		f.cache(t, &p)
		f.c.addPod(&p)
	}
	if err := f.c.sync(ctx, "default/web"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.actions("create", "pods")); n != 3 {
		t.Fatalf("%d creates with one creation unobserved, want 3", n)
	}
	// The third pod's watch event was lost; after the expectations
	// timeout the controller trusts its cache again and replaces it.
	f.clock.Step(controller.ExpectationsTimeout + time.Second)
	if err := f.c.sync(ctx, "default/web"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.actions("create", "pods")); n != 4 {
		t.Fatalf("%d creates after the expectations expired, want 4", n)
	}
}

func TestExpectationsPreventDoubleDelete(t *testing.T) {
	rs := newRS("web", 1, map[string]string{"app": "web"})
	objs := []runtime.Object{rs}
	for i := range 3 {
		objs = append(objs, newPod(fmt.Sprintf("p%d", i), map[string]string{"app": "web"}, rs))
	}
	f := newFixture(t, objs...)
	ctx := context.Background()
	for range 3 {
		if err := f.c.sync(ctx, "default/web"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.actions("delete", "pods")); n != 2 {
		t.Fatalf("%d deletes under informer lag, want 2", n)
	}
	if add, del, _ := f.c.expectations.Pending("default/web"); add != 0 || del != 2 {
		t.Fatalf("pending add=%d del=%d, want 0/2", add, del)
	}
	// The same deletion seen twice (deletionTimestamp, then gone) counts once.
	victim := newPod(f.actions("delete", "pods")[0].(k8stesting.DeleteAction).GetName(), map[string]string{"app": "web"}, rs)
	f.c.deletePod(victim)
	f.c.deletePod(victim)
	if _, del, _ := f.c.expectations.Pending("default/web"); del != 1 {
		t.Fatalf("pending del=%d after one deletion observed twice, want 1", del)
	}
}

func TestSlowStartStopsAfterAFailedBatch(t *testing.T) {
	rs := newRS("web", 10, map[string]string{"app": "web"})
	f := newFixture(t, rs)
	var calls atomic.Int32
	f.client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		calls.Add(1)
		return true, nil, errors.New("quota exceeded")
	})
	err := f.c.sync(context.Background(), "default/web")
	if err == nil {
		t.Fatal("sync succeeded with every create failing")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d create calls, want 1 (the first slow-start batch)", n)
	}
	// The skipped creations are not awaited: the next sync tries again.
	if !f.c.expectations.Satisfied("default/web") {
		t.Error("expectations still wait for creations that were never made")
	}
	got, _ := f.client.AppsV1alpha1().ReplicaSets(ns).Get(context.Background(), "web", metav1.GetOptions{})
	cond := condition(got.Status.Conditions, appsv1alpha1.ReplicaSetReplicaFailure)
	if cond == nil || cond.Reason != "FailedCreate" || !strings.Contains(cond.Message, "quota exceeded") {
		t.Errorf("ReplicaFailure condition %+v", cond)
	}
	if ev := drain(f.recorder); !strings.Contains(ev, "Warning FailedCreate Error creating: ") {
		t.Errorf("events %q", ev)
	}
}

func TestSlowStartBatchSizes(t *testing.T) {
	n, err := slowStartBatch(10, 1, func() error { return nil })
	if n != 10 || err != nil {
		t.Fatalf("slowStartBatch = %d, %v", n, err)
	}
	// 1 + 2 + 4 succeed, the batch of 3 fails at its third call: 7 + 2.
	var calls atomic.Int32
	n, err = slowStartBatch(10, 1, func() error {
		if calls.Add(1) == 10 {
			return errors.New("boom")
		}
		return nil
	})
	if n != 9 || err == nil {
		t.Errorf("slowStartBatch with a failure in the last batch = %d, %v; want 9 and the error", n, err)
	}
}

// TestOverlappingSelectorsNeverSteal: a pod owned by another ReplicaSet is
// not adopted even though it matches, an orphan that matches is, and an
// owned pod whose labels stopped matching is released.
func TestOverlappingSelectorsNeverSteal(t *testing.T) {
	wide := newRS("wide", 2, map[string]string{"app": "web"})
	narrow := newRS("narrow", 1, map[string]string{"app": "web", "tier": "x"})
	objs := []runtime.Object{wide, narrow,
		newPod("narrows", map[string]string{"app": "web", "tier": "x"}, narrow),
		newPod("orphan", map[string]string{"app": "web"}, nil),
		newPod("strayed", map[string]string{"app": "db"}, wide),
	}
	f := newFixture(t, objs...)
	ctx := context.Background()
	if err := f.c.sync(ctx, "default/wide"); err != nil {
		t.Fatal(err)
	}
	owner := func(name string) string {
		p, err := f.client.CoreV1alpha1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ref := metav1.GetControllerOf(p); ref != nil {
			return ref.Name
		}
		return ""
	}
	if got := owner("narrows"); got != "narrow" {
		t.Errorf("narrow's pod is now owned by %q", got)
	}
	if got := owner("orphan"); got != "wide" {
		t.Errorf("orphan owned by %q, want wide", got)
	}
	if got := owner("strayed"); got != "" {
		t.Errorf("pod that stopped matching still owned by %q", got)
	}
	// wide owns one pod (the adopted orphan) and wants two: one create.
	if n := len(f.actions("create", "pods")); n != 1 {
		t.Errorf("%d creates, want 1", n)
	}
	got, _ := f.client.AppsV1alpha1().ReplicaSets(ns).Get(ctx, "wide", metav1.GetOptions{})
	if got.Status.Replicas != 1 || got.Status.ObservedGeneration != 1 {
		t.Errorf("status %+v", got.Status)
	}
}

func TestNoAdoptionWhileBeingDeleted(t *testing.T) {
	rs := newRS("web", 1, map[string]string{"app": "web"})
	now := metav1.NewTime(epoch)
	rs.DeletionTimestamp = &now
	f := newFixture(t, rs, newPod("orphan", map[string]string{"app": "web"}, nil))
	if err := f.c.sync(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.actions("patch", "pods")) + len(f.actions("create", "pods")); n != 0 {
		t.Errorf("%d pod writes for a ReplicaSet being deleted", n)
	}
}

func ready(p *v1alpha1.Pod, since time.Time) *v1alpha1.Pod {
	p.Status.Conditions = []v1alpha1.PodCondition{{Type: v1alpha1.PodReady, Status: v1alpha1.ConditionTrue, LastTransitionTime: metav1.NewTime(since)}}
	return p
}

// TestDeletionRanking follows upstream's order: unscheduled, pending,
// unknown, not ready, then ready; among equals, newer first.
func TestDeletionRanking(t *testing.T) {
	rs := newRS("web", 0, map[string]string{"app": "web"})
	l := map[string]string{"app": "web"}
	mk := func(name, node string, phase v1alpha1.PodPhase, created time.Time) *v1alpha1.Pod {
		p := newPod(name, l, rs)
		p.Spec.NodeName = node
		p.Status.Phase = phase
		p.CreationTimestamp = metav1.NewTime(created)
		return p
	}
	old, young := epoch.Add(-time.Hour), epoch.Add(-time.Minute)
	pods := []*v1alpha1.Pod{
		ready(mk("ready-old", "n1", v1alpha1.PodRunning, old), old),
		mk("unscheduled", "", v1alpha1.PodPending, old),
		ready(mk("ready-young", "n2", v1alpha1.PodRunning, young), young),
		mk("running-notready", "n3", v1alpha1.PodRunning, old),
		mk("unknown", "n4", v1alpha1.PodUnknown, old),
		mk("pending", "n5", v1alpha1.PodPending, old),
		mk("running-notready-young", "n6", v1alpha1.PodRunning, young),
	}
	want := []string{"unscheduled", "pending", "unknown", "running-notready-young", "running-notready", "ready-young", "ready-old"}
	for count := 1; count < len(want); count++ {
		got := PodsToDelete(pods, pods, count)
		var names []string
		for _, p := range got {
			names = append(names, p.Name)
		}
		if fmt.Sprint(names) != fmt.Sprint(want[:count]) {
			t.Errorf("PodsToDelete(%d) = %v, want %v", count, names, want[:count])
		}
	}
	// Doubled-up pods go before lonely ones of the same value.
	a, b, c := ready(mk("alone", "n1", v1alpha1.PodRunning, old), old), ready(mk("shared1", "n2", v1alpha1.PodRunning, old), old), ready(mk("shared2", "n2", v1alpha1.PodRunning, old), old)
	got := PodsToDelete([]*v1alpha1.Pod{a, b, c}, []*v1alpha1.Pod{a, b, c}, 1)
	if got[0].Name == "alone" {
		t.Errorf("deleted the only pod on its node before a doubled-up one")
	}
}

func TestScaleDownDeletesLeastValuable(t *testing.T) {
	rs := newRS("web", 1, map[string]string{"app": "web"})
	l := map[string]string{"app": "web"}
	keep := ready(newPod("keep", l, rs), epoch.Add(-time.Hour))
	keep.Spec.NodeName = "n1"
	f := newFixture(t, rs, keep, newPod("notready", l, rs))
	if err := f.c.sync(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	dels := f.actions("delete", "pods")
	if len(dels) != 1 || dels[0].(k8stesting.DeleteAction).GetName() != "notready" {
		t.Fatalf("deletes %v, want notready", dels)
	}
	if ev := drain(f.recorder); !strings.Contains(ev, "Normal SuccessfulDelete Deleted pod: notready") {
		t.Errorf("events %q", ev)
	}
}

func TestStatusCountsReadyAndAvailable(t *testing.T) {
	rs := newRS("web", 3, map[string]string{"app": "web"})
	rs.Spec.MinReadySeconds = 30
	rs.Spec.Template.Labels = map[string]string{"app": "web", "extra": "y"}
	l := map[string]string{"app": "web"}
	full := map[string]string{"app": "web", "extra": "y"}
	f := newFixture(t, rs,
		ready(newPod("long-ready", full, rs), epoch.Add(-time.Minute)),
		ready(newPod("just-ready", l, rs), epoch.Add(-time.Second)),
		newPod("not-ready", l, rs))
	if err := f.c.sync(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	got, _ := f.client.AppsV1alpha1().ReplicaSets(ns).Get(context.Background(), "web", metav1.GetOptions{})
	s := got.Status
	if s.Replicas != 3 || s.FullyLabeledReplicas != 1 || s.ReadyReplicas != 2 || s.AvailableReplicas != 1 || s.ObservedGeneration != 1 {
		t.Errorf("status %+v", s)
	}
	// The status went through the status subresource as a patch.
	patches := f.actions("patch", "replicasets")
	if len(patches) != 1 || patches[0].GetSubresource() != "status" {
		t.Errorf("status writes %v", patches)
	}
}

func drain(r *record.FakeRecorder) string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			sort.Strings(out)
			return strings.Join(out, "\n")
		}
	}
}
