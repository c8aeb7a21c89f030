package deployment

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	dutil "skiff.dev/skiff/pkg/controller/deployment/util"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
)

const ns = "default"

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newDeployment(replicas int32, surge, unavailable string) *appsv1alpha1.Deployment {
	s, u := intstr.Parse(surge), intstr.Parse(unavailable)
	pds, hist := int32(600), int32(10)
	return &appsv1alpha1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web", UID: "uid-web", Generation: 1},
		Spec: appsv1alpha1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: v1alpha1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "app", Image: "busybox", Command: []string{"v1"}}}},
			},
			Strategy: appsv1alpha1.DeploymentStrategy{Type: appsv1alpha1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1alpha1.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u}},
			ProgressDeadlineSeconds: &pds,
			RevisionHistoryLimit:    &hist,
		},
	}
}

// fixture runs the controller against a fake clientset whose informers
// are never started: refresh copies the clientset's objects into the
// caches, as a watch would, and simulates the ReplicaSet controller.
type fixture struct {
	t        *testing.T
	c        *Controller
	client   *fake.Clientset
	factory  externalversions.SharedInformerFactory
	recorder *record.FakeRecorder
	clock    *clocktesting.FakeClock
	ctx      context.Context
	// available is how the simulated ReplicaSet controller reports a
	// ReplicaSet's available pods from its spec and last status.
	available func(rs *appsv1alpha1.ReplicaSet) int32
}

func newFixture(t *testing.T, d *appsv1alpha1.Deployment) *fixture {
	client := fake.NewClientset(d)
	factory := externalversions.NewSharedInformerFactory(client, 0)
	rec := record.NewFakeRecorder(1000)
	clk := clocktesting.NewFakeClock(epoch)
	apps := factory.Apps().V1alpha1()
	c, err := New(client, apps.Deployments(), apps.ReplicaSets(), factory.Core().V1alpha1().Pods(), rec, clk)
	if err != nil {
		t.Fatal(err)
	}
	// The fake clientset sets neither UIDs nor creation times; the
	// controller tells ReplicaSets apart by the one and orders them by the
	// other.
	var n int
	client.PrependReactor("create", "replicasets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		rs := a.(k8stesting.CreateAction).GetObject().(*appsv1alpha1.ReplicaSet)
		n++
		rs.UID = types.UID(fmt.Sprintf("rs-uid-%d", n))
		rs.CreationTimestamp = metav1.NewTime(clk.Now().Add(time.Duration(n) * time.Second))
		return false, nil, nil
	})
	f := &fixture{t: t, c: c, client: client, factory: factory, recorder: rec, clock: clk, ctx: context.Background()}
	// By default a pod becomes available one step after it is asked for.
	f.available = func(rs *appsv1alpha1.ReplicaSet) int32 {
		return min(dutil.RSReplicas(rs), rs.Status.Replicas)
	}
	f.refresh()
	return f
}

// refresh runs the simulated ReplicaSet controller and fills the caches.
func (f *fixture) refresh() {
	f.t.Helper()
	rss, err := f.client.AppsV1alpha1().ReplicaSets(ns).List(f.ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	idx := f.factory.Apps().V1alpha1().ReplicaSets().Informer().GetIndexer()
	var objs []interface{}
	for i := range rss.Items {
		rs := &rss.Items[i]
		avail := f.available(rs)
		rs.Status = appsv1alpha1.ReplicaSetStatus{Replicas: dutil.RSReplicas(rs), ReadyReplicas: avail, AvailableReplicas: avail,
			ObservedGeneration: rs.Generation}
		out, err := f.client.AppsV1alpha1().ReplicaSets(ns).UpdateStatus(f.ctx, rs, metav1.UpdateOptions{})
		if err != nil {
			f.t.Fatal(err)
		}
		objs = append(objs, out)
	}
	if err := idx.Replace(objs, ""); err != nil {
		f.t.Fatal(err)
	}
	d, err := f.client.AppsV1alpha1().Deployments(ns).Get(f.ctx, "web", metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.factory.Apps().V1alpha1().Deployments().Informer().GetIndexer().Replace([]interface{}{d}, ""); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) sync() {
	f.t.Helper()
	if err := f.c.sync(f.ctx, ns+"/web"); err != nil {
		f.t.Fatalf("sync: %v", err)
	}
	f.refresh()
}

func (f *fixture) deployment() *appsv1alpha1.Deployment {
	d, err := f.client.AppsV1alpha1().Deployments(ns).Get(f.ctx, "web", metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func (f *fixture) replicaSets() []*appsv1alpha1.ReplicaSet {
	l, err := f.client.AppsV1alpha1().ReplicaSets(ns).List(f.ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []*appsv1alpha1.ReplicaSet
	for i := range l.Items {
		out = append(out, &l.Items[i])
	}
	return out
}

// changeTemplate is a user's edit of the pod template.
func (f *fixture) changeTemplate(cmd string) {
	d := f.deployment()
	d.Spec.Template.Spec.Containers[0].Command = []string{cmd}
	d.Generation++
	if _, err := f.client.AppsV1alpha1().Deployments(ns).Update(f.ctx, d, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	f.refresh()
}

// rollToCompletion syncs until the rollout completes, checking the
// bounds at every step, and returns the number of steps.
func (f *fixture) rollToCompletion(replicas, maxSurge, maxUnavailable int32) int {
	f.t.Helper()
	for step := 1; step <= 200; step++ {
		f.sync()
		rss := f.replicaSets()
		total, avail := dutil.ReplicaCount(rss), dutil.AvailableReplicaCount(rss)
		if total > replicas+maxSurge {
			f.t.Fatalf("step %d: %d pods wanted, above replicas+maxSurge = %d", step, total, replicas+maxSurge)
		}
		if avail < replicas-maxUnavailable {
			f.t.Fatalf("step %d: %d pods available, below replicas-maxUnavailable = %d", step, avail, replicas-maxUnavailable)
		}
		d := f.deployment()
		if c := dutil.GetCondition(d.Status, appsv1alpha1.DeploymentProgressing); c != nil && c.Reason == dutil.NewRSAvailableReason &&
			dutil.DeploymentComplete(d, &d.Status) {
			return step
		}
	}
	f.t.Fatal("the rollout did not complete in 200 steps")
	return 0
}

func TestRollingUpdateStaysWithinBounds(t *testing.T) {
	tests := []struct {
		replicas                   int32
		surge, unavailable         string
		wantSurge, wantUnavailable int32
	}{
		{3, "25%", "0", 1, 0},
		{3, "0", "1", 0, 1},
		{10, "25%", "25%", 3, 2},
		{10, "50%", "0", 5, 0},
		{5, "1", "1", 1, 1},
		{4, "100%", "0", 4, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d-%s-%s", tc.replicas, tc.surge, tc.unavailable), func(t *testing.T) {
			f := newFixture(t, newDeployment(tc.replicas, tc.surge, tc.unavailable))
			f.rollToCompletion(tc.replicas, tc.wantSurge, tc.replicas) // the first rollout starts from nothing
			f.changeTemplate("v2")
			f.rollToCompletion(tc.replicas, tc.wantSurge, tc.wantUnavailable)
			d := f.deployment()
			if d.Annotations[dutil.RevisionAnnotation] != "2" || d.Status.UpdatedReplicas != tc.replicas || d.Status.AvailableReplicas != tc.replicas {
				t.Errorf("after the rollout: revision %q status %+v", d.Annotations[dutil.RevisionAnnotation], d.Status)
			}
			var sizes []string
			for _, rs := range f.replicaSets() {
				sizes = append(sizes, fmt.Sprintf("%s=%d", rs.Annotations[dutil.RevisionAnnotation], dutil.RSReplicas(rs)))
				hash := rs.Labels[dutil.DefaultDeploymentUniqueLabelKey]
				if hash == "" || rs.Spec.Selector.MatchLabels[dutil.DefaultDeploymentUniqueLabelKey] != hash ||
					rs.Spec.Template.Labels[dutil.DefaultDeploymentUniqueLabelKey] != hash || rs.Name != "web-"+hash {
					t.Errorf("replica set %s: hash label %q selector %v", rs.Name, hash, rs.Spec.Selector)
				}
			}
			if got := strings.Join(sortedStrings(sizes), " "); got != fmt.Sprintf("1=0 2=%d", tc.replicas) {
				t.Errorf("replica sets by revision: %s", got)
			}
		})
	}
}

func sortedStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func TestScalingReplicaSetEvents(t *testing.T) {
	f := newFixture(t, newDeployment(3, "25%", "25%"))
	f.rollToCompletion(3, 1, 3)
	ev := drain(f.recorder)
	rs := f.replicaSets()[0]
	if want := fmt.Sprintf("Normal ScalingReplicaSet Scaled up replica set %s from 0 to 3", rs.Name); !strings.Contains(ev, want) {
		t.Errorf("events %q lack %q", ev, want)
	}
	d := f.deployment()
	avail := dutil.GetCondition(d.Status, appsv1alpha1.DeploymentAvailable)
	if avail == nil || avail.Status != v1alpha1.ConditionTrue || avail.Reason != dutil.MinimumReplicasAvailable {
		t.Errorf("Available condition %+v", avail)
	}
	prog := dutil.GetCondition(d.Status, appsv1alpha1.DeploymentProgressing)
	if prog == nil || prog.Message != fmt.Sprintf("ReplicaSet %q has successfully progressed.", rs.Name) {
		t.Errorf("Progressing condition %+v", prog)
	}
}

func TestProgressDeadlineExceeded(t *testing.T) {
	d := newDeployment(2, "25%", "25%")
	pds := int32(30)
	d.Spec.ProgressDeadlineSeconds = &pds
	f := newFixture(t, d)
	f.available = func(*appsv1alpha1.ReplicaSet) int32 { return 0 } // pods never become ready
	f.sync()
	f.sync()
	cond := dutil.GetCondition(f.deployment().Status, appsv1alpha1.DeploymentProgressing)
	if cond == nil || cond.Status != v1alpha1.ConditionTrue {
		t.Fatalf("Progressing before the deadline: %+v", cond)
	}
	// The unchanged status schedules a sync for the deadline.
	if after := f.c.requeueStuckDeployment(f.deployment(), f.deployment().Status, f.clock.Now()); after <= 0 || after > 30*time.Second {
		t.Errorf("requeue after %v, want within the 30 s deadline", after)
	}
	f.clock.Step(31 * time.Second)
	f.sync()
	cond = dutil.GetCondition(f.deployment().Status, appsv1alpha1.DeploymentProgressing)
	if cond == nil || cond.Status != v1alpha1.ConditionFalse || cond.Reason != dutil.TimedOutReason ||
		!strings.HasSuffix(cond.Message, "has timed out progressing.") {
		t.Fatalf("Progressing after the deadline: %+v", cond)
	}
	// Progress afterwards turns it True again.
	f.available = func(rs *appsv1alpha1.ReplicaSet) int32 { return dutil.RSReplicas(rs) }
	f.refresh()
	f.sync()
	cond = dutil.GetCondition(f.deployment().Status, appsv1alpha1.DeploymentProgressing)
	if cond == nil || cond.Status != v1alpha1.ConditionTrue {
		t.Errorf("Progressing after progress resumed: %+v", cond)
	}
}

func TestPausedDeploymentDoesNotRollButScales(t *testing.T) {
	f := newFixture(t, newDeployment(3, "25%", "25%"))
	f.rollToCompletion(3, 1, 3)
	d := f.deployment()
	d.Spec.Paused = true
	d.Spec.Template.Spec.Containers[0].Command = []string{"v2"}
	five := int32(5)
	d.Spec.Replicas = &five
	d.Generation++
	if _, err := f.client.AppsV1alpha1().Deployments(ns).Update(f.ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.refresh()
	f.sync()
	rss := f.replicaSets()
	if len(rss) != 1 || dutil.RSReplicas(rss[0]) != 5 {
		t.Fatalf("paused: %d replica sets, first scaled to %d; want the one scaled to 5", len(rss), dutil.RSReplicas(rss[0]))
	}
	cond := dutil.GetCondition(f.deployment().Status, appsv1alpha1.DeploymentProgressing)
	if cond == nil || cond.Reason != dutil.PausedDeployReason || cond.Status != v1alpha1.ConditionUnknown {
		t.Errorf("Progressing while paused: %+v", cond)
	}
	d = f.deployment()
	d.Spec.Paused = false
	if _, err := f.client.AppsV1alpha1().Deployments(ns).Update(f.ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.refresh()
	f.rollToCompletion(5, 2, 1)
	if n := len(f.replicaSets()); n != 2 {
		t.Errorf("%d replica sets after resuming, want 2", n)
	}
}

// TestProportionalScalingMidRollout: scaling a Deployment in the middle
// of a rollout grows each ReplicaSet in proportion.
func TestProportionalScalingMidRollout(t *testing.T) {
	f := newFixture(t, newDeployment(10, "3", "2"))
	f.rollToCompletion(10, 3, 10)
	f.available = func(rs *appsv1alpha1.ReplicaSet) int32 { return min(dutil.RSReplicas(rs), rs.Status.AvailableReplicas) }
	f.changeTemplate("v2")
	f.sync() // the new RS is created with 3 (surge), none available; the old loses 2 (maxUnavailable)
	before := map[string]int32{}
	for _, rs := range f.replicaSets() {
		before[rs.Annotations[dutil.RevisionAnnotation]] = dutil.RSReplicas(rs)
	}
	if before["1"] != 8 || before["2"] != 3 {
		t.Fatalf("mid-rollout sizes %v, want 1:8 2:3", before)
	}
	d := f.deployment()
	twenty := int32(20)
	d.Spec.Replicas = &twenty
	d.Generation++
	if _, err := f.client.AppsV1alpha1().Deployments(ns).Update(f.ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.refresh()
	f.sync()
	after := map[string]int32{}
	for _, rs := range f.replicaSets() {
		after[rs.Annotations[dutil.RevisionAnnotation]] = dutil.RSReplicas(rs)
	}
	// 11 of max 13 become 23 of max 23: 8 -> 8*23/13 = 14, 3 -> 3*23/13 = 5, remainder to the largest.
	if after["1"]+after["2"] != 23 || after["1"] <= 8 || after["2"] <= 3 {
		t.Errorf("after scaling to 20: %v, want both grown to a total of 23", after)
	}
}

func TestRevisionHistoryLimitCleansOldReplicaSets(t *testing.T) {
	d := newDeployment(1, "1", "0")
	one := int32(1)
	d.Spec.RevisionHistoryLimit = &one
	f := newFixture(t, d)
	f.rollToCompletion(1, 1, 1)
	for i := 2; i <= 4; i++ {
		f.changeTemplate(fmt.Sprintf("v%d", i))
		f.rollToCompletion(1, 1, 0)
	}
	f.sync()
	var revs []string
	for _, rs := range f.replicaSets() {
		revs = append(revs, rs.Annotations[dutil.RevisionAnnotation])
	}
	if got := strings.Join(sortedStrings(revs), ","); got != "3,4" {
		t.Errorf("revisions kept %s, want 3,4 (the current and one old)", got)
	}
}

func TestRecreateWaitsForOldPods(t *testing.T) {
	d := newDeployment(2, "25%", "25%")
	d.Spec.Strategy = appsv1alpha1.DeploymentStrategy{Type: appsv1alpha1.RecreateDeploymentStrategyType}
	f := newFixture(t, d)
	f.sync()
	f.sync()
	f.changeTemplate("v2")
	// An old pod still running keeps the new ReplicaSet from being made.
	old := f.replicaSets()[0]
	pod := &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "old-pod", UID: types.UID("uid-old-pod"),
		Labels: old.Spec.Template.Labels, OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps.skiff.dev/v1alpha1", Kind: "ReplicaSet",
			Name: old.Name, UID: old.UID, Controller: ptrTrue()}}}, Status: v1alpha1.PodStatus{Phase: v1alpha1.PodRunning}}
	podIdx := f.factory.Core().V1alpha1().Pods().Informer().GetIndexer()
	if err := podIdx.Add(pod); err != nil {
		t.Fatal(err)
	}
	f.sync() // scales the old one to 0
	f.sync()
	if n := len(f.replicaSets()); n != 1 || dutil.RSReplicas(f.replicaSets()[0]) != 0 {
		t.Fatalf("while an old pod runs: %d replica sets", n)
	}
	if err := podIdx.Delete(pod); err != nil {
		t.Fatal(err)
	}
	f.sync()
	rss := f.replicaSets()
	if len(rss) != 2 {
		t.Fatalf("%d replica sets after the old pods went, want 2", len(rss))
	}
	for _, rs := range rss {
		if rs.UID != old.UID && dutil.RSReplicas(rs) != 2 {
			t.Errorf("new replica set wants %d, want 2", dutil.RSReplicas(rs))
		}
	}
}

func ptrTrue() *bool { t := true; return &t }

func drain(r *record.FakeRecorder) string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			return strings.Join(out, "\n")
		}
	}
}
