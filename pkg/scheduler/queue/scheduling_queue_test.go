package queue

import (
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/klog/v2"
	clocktesting "k8s.io/utils/clock/testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newQueue() (*PriorityQueue, *clocktesting.FakeClock) {
	clk := clocktesting.NewFakeClock(t0)
	return New(WithClock(clk)), clk
}

// popNames pops n pods and returns their names.
func popNames(t *testing.T, q *PriorityQueue, n int) []string {
	t.Helper()
	var out []string
	for range n {
		p, err := q.Pop()
		if err != nil {
			t.Fatalf("Pop: %v", err)
		}
		out = append(out, p.Pod.Name)
	}
	return out
}

func TestActiveQueueOrder(t *testing.T) {
	q, _ := newQueue()
	q.Add(st.MakePod("young").Created(t0.Add(2 * time.Second)).Obj())
	q.Add(st.MakePod("old").Created(t0).Obj())
	q.Add(st.MakePod("important").Priority(100).Created(t0.Add(time.Hour)).Obj())
	q.Add(st.MakePod("unimportant").Priority(-5).Created(t0.Add(-time.Hour)).Obj())
	got := popNames(t, q, 4)
	want := []string{"important", "old", "young", "unimportant"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pop order = %v, want %v (priority first, then creation time)", got, want)
	}
}

func TestBackoffDoublesUpToTheMaximum(t *testing.T) {
	q, _ := newQueue()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := q.backoffDuration(&QueuedPodInfo{Attempts: i + 1}); got != w {
			t.Errorf("after attempt %d back-off = %v, want %v", i+1, got, w)
		}
	}
}

// state reports where the named pod sits.
func state(q *PriorityQueue, pod *v1alpha1.Pod) string {
	q.lock.Lock()
	defer q.lock.Unlock()
	key := Key(pod)
	switch {
	case q.activeQ.Has(key):
		return "active"
	case q.backoffQ.Has(key):
		return "backoff"
	default:
		if _, ok := q.unschedulable[key]; ok {
			return "unschedulable"
		}
		return "absent"
	}
}

func TestErroredPodWaitsOutItsBackoff(t *testing.T) {
	q, clk := newQueue()
	pod := st.MakePod("p").Obj()
	q.Add(pod)
	for attempt, backoff := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		p, _ := q.Pop()
		if err := q.AddBackoffIfNotPresent(p); err != nil {
			t.Fatal(err)
		}
		clk.Step(backoff - time.Millisecond)
		q.flushBackoffCompleted()
		if s := state(q, pod); s != "backoff" {
			t.Fatalf("attempt %d: just before %v the pod is %s, want backoff", attempt+1, backoff, s)
		}
		clk.Step(time.Millisecond)
		q.flushBackoffCompleted()
		if s := state(q, pod); s != "active" {
			t.Fatalf("attempt %d: after %v the pod is %s, want active", attempt+1, backoff, s)
		}
	}
}

func TestUnschedulablePodMovesOnClusterEvent(t *testing.T) {
	tests := []struct {
		name      string
		waitFirst time.Duration
		want      string
	}{
		{"event after the back-off ended: straight to active", 2 * time.Second, "active"},
		{"event during the back-off: to back-off", 100 * time.Millisecond, "backoff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, clk := newQueue()
			pod := st.MakePod("p").Obj()
			q.Add(pod)
			p, _ := q.Pop()
			if err := q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle()); err != nil {
				t.Fatal(err)
			}
			if s := state(q, pod); s != "unschedulable" {
				t.Fatalf("after failing the pod is %s, want unschedulable", s)
			}
			clk.Step(tt.waitFirst)
			q.flushBackoffCompleted()
			if s := state(q, pod); s != "unschedulable" {
				t.Fatalf("without an event the pod moved to %s", s)
			}
			q.MoveAllToActiveOrBackoff(framework.EventNodeAdd, nil, nil)
			if s := state(q, pod); s != tt.want {
				t.Errorf("after the event the pod is %s, want %s", s, tt.want)
			}
		})
	}
}

func TestEventDuringSchedulingIsNotMissed(t *testing.T) {
	q, _ := newQueue()
	pod := st.MakePod("p").Obj()
	q.Add(pod)
	p, _ := q.Pop()
	cycle := q.SchedulingCycle()
	// A node is added while the pod is being scheduled against the old
	// snapshot; the pod must not wait for an event that already happened.
	q.MoveAllToActiveOrBackoff(framework.EventNodeAdd, nil, nil)
	_ = q.AddUnschedulableIfNotPresent(p, cycle)
	if s := state(q, pod); s != "backoff" {
		t.Errorf("pod is %s, want backoff", s)
	}
}

func TestUpdateOfUnschedulablePod(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *v1alpha1.Pod)
		want   string
	}{
		{"status only (our own PodScheduled condition): stays", func(p *v1alpha1.Pod) {
			p.Status.Conditions = []v1alpha1.PodCondition{{Type: v1alpha1.PodScheduled, Status: v1alpha1.ConditionFalse}}
			p.ResourceVersion = "42"
		}, "unschedulable"},
		{"new toleration: retried", func(p *v1alpha1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, v1alpha1.Toleration{Operator: v1alpha1.TolerationOpExists})
		}, "active"},
		{"label change: retried", func(p *v1alpha1.Pod) { p.Labels = map[string]string{"a": "b"} }, "active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, clk := newQueue()
			pod := st.MakePod("p").Obj()
			q.Add(pod)
			p, _ := q.Pop()
			_ = q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle())
			clk.Step(time.Minute)
			updated := pod.DeepCopy()
			tt.change(updated)
			q.Update(pod, updated)
			if s := state(q, pod); s != tt.want {
				t.Errorf("pod is %s, want %s", s, tt.want)
			}
		})
	}
}

func TestUpdateOfPodNotQueuedAddsIt(t *testing.T) {
	q, _ := newQueue()
	pod := st.MakePod("p").Obj()
	q.Update(nil, pod)
	if s := state(q, pod); s != "active" {
		t.Errorf("pod is %s, want active", s)
	}
}

func TestDeleteRemovesFromEveryPart(t *testing.T) {
	q, _ := newQueue()
	active, backoff, unsched := st.MakePod("a").Obj(), st.MakePod("b").Obj(), st.MakePod("u").Obj()
	q.Add(backoff)
	p, _ := q.Pop()
	_ = q.AddBackoffIfNotPresent(p)
	q.Add(unsched)
	p, _ = q.Pop()
	_ = q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle())
	q.Add(active)
	if got := q.PendingPods(); got != (PendingCounts{1, 1, 1}) {
		t.Fatalf("pending = %+v, want one in each part", got)
	}
	for _, pod := range []*v1alpha1.Pod{active, backoff, unsched} {
		q.Delete(pod)
	}
	if got := q.PendingPods(); got != (PendingCounts{}) {
		t.Errorf("pending after deleting all = %+v, want none", got)
	}
}

func TestAddIfNotPresentRefusesQueuedPod(t *testing.T) {
	q, _ := newQueue()
	pod := st.MakePod("p").Obj()
	q.Add(pod)
	p, _ := q.Pop()
	q.Add(pod) // the informer re-added it while it was in flight
	if err := q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle()); err == nil {
		t.Error("a pod already queued was queued twice")
	}
	if got := q.PendingPods(); got != (PendingCounts{Active: 1}) {
		t.Errorf("pending = %+v, want the one active entry", got)
	}
}

func TestLeftoverUnschedulablePodsAreRetried(t *testing.T) {
	q, clk := newQueue()
	pod := st.MakePod("p").Obj()
	q.Add(pod)
	p, _ := q.Pop()
	_ = q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle())
	clk.Step(DefaultMaxInUnschedulable - time.Second)
	q.flushUnschedulableLeftover()
	if s := state(q, pod); s != "unschedulable" {
		t.Fatalf("pod is %s before the timeout, want unschedulable", s)
	}
	clk.Step(2 * time.Second)
	q.flushUnschedulableLeftover()
	if s := state(q, pod); s != "active" {
		t.Errorf("pod is %s after the timeout, want active", s)
	}
}

func TestPopWaitsAndReturnsErrClosed(t *testing.T) {
	q, _ := newQueue()
	done := make(chan error)
	go func() {
		_, err := q.Pop()
		done <- err
	}()
	q.Close()
	if err := <-done; err != ErrClosed {
		t.Errorf("Pop after Close = %v, want ErrClosed", err)
	}
}

func TestPendingPodsRecorder(t *testing.T) {
	var last PendingCounts
	q := New(WithPendingPodsRecorder(func(c PendingCounts) { last = c }))
	q.Add(st.MakePod("a").Obj())
	q.Add(st.MakePod("b").Obj())
	if last != (PendingCounts{Active: 2}) {
		t.Errorf("recorded %+v, want 2 active", last)
	}
}

func TestNodeSchedulingPropertiesChange(t *testing.T) {
	base := func() *v1alpha1.Node { return st.MakeNode("n").Label("zone", "a").Obj() }
	tests := []struct {
		name   string
		change func(n *v1alpha1.Node)
		want   []framework.ClusterEvent
	}{
		{"heartbeat only", func(n *v1alpha1.Node) {
			n.Status.Conditions[0].LastHeartbeatTime.Time = t0
			n.ResourceVersion = "7"
		}, nil},
		{"label added", func(n *v1alpha1.Node) { n.Labels["disk"] = "ssd" }, []framework.ClusterEvent{framework.EventNodeLabelChange}},
		{"taint removed", nil, []framework.ClusterEvent{framework.EventNodeTaintChange}},
		{"more cpu", func(n *v1alpha1.Node) {
			n.Status.Allocatable[v1alpha1.ResourceCPU] = resource.MustParse("8")
		}, []framework.ClusterEvent{framework.EventNodeAllocatableChange}},
		{"same allocatable written differently", func(n *v1alpha1.Node) {
			n.Status.Allocatable[v1alpha1.ResourceCPU] = resource.MustParse("4000m")
		}, nil},
		{"label and taint changed at once: both events", func(n *v1alpha1.Node) {
			n.Labels["disk"] = "ssd"
			n.Spec.Taints = []v1alpha1.Taint{{Key: "k", Effect: v1alpha1.TaintEffectNoSchedule}}
		}, []framework.ClusterEvent{framework.EventNodeLabelChange, framework.EventNodeTaintChange}},
		{"cordoned", func(n *v1alpha1.Node) { n.Spec.Unschedulable = true }, nil},
		{"became not ready", func(n *v1alpha1.Node) { n.Status.Conditions[0].Status = v1alpha1.ConditionFalse }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldNode, newNode := base(), base()
			if tt.change == nil {
				oldNode.Spec.Taints = []v1alpha1.Taint{{Key: "k", Effect: v1alpha1.TaintEffectNoSchedule}}
			} else {
				tt.change(newNode)
			}
			if got := NodeSchedulingPropertiesChange(oldNode, newNode); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("uncordoned", func(t *testing.T) {
		oldNode := base()
		oldNode.Spec.Unschedulable = true
		if got := NodeSchedulingPropertiesChange(oldNode, base()); !reflect.DeepEqual(got, []framework.ClusterEvent{framework.EventNodeSpecUnschedulable}) {
			t.Errorf("events = %v, want NodeSchedulable", got)
		}
	})
	t.Run("became ready", func(t *testing.T) {
		oldNode := st.MakeNode("n").Label("zone", "a").Ready(v1alpha1.ConditionUnknown).Obj()
		if got := NodeSchedulingPropertiesChange(oldNode, base()); !reflect.DeepEqual(got, []framework.ClusterEvent{framework.EventNodeConditionChange}) {
			t.Errorf("events = %v, want NodeBecameReady", got)
		}
	})
}

// hintsFor registers, for plugin "labels", node label changes that help
// only pods whose "want" label the new node carries; and for plugin "room",
// assigned pod deletions.
func hintsFor() map[string][]framework.ClusterEventWithHint {
	return map[string][]framework.ClusterEventWithHint{
		"labels": {{Event: framework.ClusterEvent{Resource: framework.Node, ActionType: framework.UpdateNodeLabel},
			QueueingHintFn: func(_ klog.Logger, pod *v1alpha1.Pod, _, newObj any) (framework.QueueingHint, error) {
				if newObj.(*v1alpha1.Node).Labels[pod.Labels["want"]] != "" {
					return framework.Queue, nil
				}
				return framework.QueueSkip, nil
			}}},
		"room": {{Event: framework.ClusterEvent{Resource: framework.Pod, ActionType: framework.Delete}}},
	}
}

func rejectedBy(q *PriorityQueue, t *testing.T, pod *v1alpha1.Pod, plugin string) {
	t.Helper()
	q.Add(pod)
	p, _ := q.Pop()
	p.UnschedulablePlugins = map[string]struct{}{plugin: {}}
	if err := q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle()); err != nil {
		t.Fatal(err)
	}
}

func TestQueueingHintsMoveOnlyThePodsAnEventHelps(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	q := New(WithClock(clk), WithQueueingHints(hintsFor()))
	wantsSSD := st.MakePod("ssd").Label("want", "ssd").Obj()
	wantsGPU := st.MakePod("gpu").Label("want", "gpu").Obj()
	needsRoom := st.MakePod("room").Obj()
	rejectedBy(q, t, wantsSSD, "labels")
	rejectedBy(q, t, wantsGPU, "labels")
	rejectedBy(q, t, needsRoom, "room")
	clk.Step(time.Minute) // past every back-off

	node := st.MakeNode("n").Label("ssd", "true").Obj()
	q.MoveAllToActiveOrBackoff(framework.EventNodeLabelChange, st.MakeNode("n").Obj(), node)
	if s := state(q, wantsSSD); s != "active" {
		t.Errorf("pod wanting the new label is %s, want active", s)
	}
	for _, p := range []*v1alpha1.Pod{wantsGPU, needsRoom} {
		if s := state(q, p); s != "unschedulable" {
			t.Errorf("pod %s is %s after a label change that does not help it, want unschedulable", p.Name, s)
		}
	}
	q.MoveAllToActiveOrBackoff(framework.EventAssignedPodDelete, st.MakePod("gone").Obj(), nil)
	if s := state(q, needsRoom); s != "active" {
		t.Errorf("pod waiting for room is %s after a pod left, want active", s)
	}
	if s := state(q, wantsGPU); s != "unschedulable" {
		t.Errorf("pod wanting gpu is %s, want unschedulable", s)
	}
}

func TestEventDuringSchedulingThatDoesNotHelpIsIgnored(t *testing.T) {
	q := New(WithClock(clocktesting.NewFakeClock(t0)), WithQueueingHints(hintsFor()))
	pod := st.MakePod("p").Label("want", "gpu").Obj()
	q.Add(pod)
	p, _ := q.Pop()
	q.MoveAllToActiveOrBackoff(framework.EventNodeLabelChange, nil, st.MakeNode("n").Label("ssd", "true").Obj())
	p.UnschedulablePlugins = map[string]struct{}{"labels": {}}
	_ = q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle())
	if s := state(q, pod); s != "unschedulable" {
		t.Errorf("pod is %s, want unschedulable: the event in flight did not concern it", s)
	}
	if len(q.inFlightPods) != 0 || len(q.inFlightEvents) != 0 {
		t.Errorf("in flight after the cycle: %d pods, %d events; want none", len(q.inFlightPods), len(q.inFlightEvents))
	}
}

func TestRequeueMovesThatPodAlone(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	q := New(WithClock(clk), WithQueueingHints(hintsFor()))
	waiting := st.MakePod("waiting").Obj()
	rejectedBy(q, t, waiting, "room")
	q.Add(st.MakePod("bound").Obj())
	p, _ := q.Pop()
	q.Done(p.Pod.UID)
	q.Requeue(p)
	if s := state(q, p.Pod); s != "backoff" {
		t.Errorf("pod whose binding failed is %s, want backoff", s)
	}
	if s := state(q, waiting); s != "unschedulable" {
		t.Errorf("other pod is %s, want unschedulable", s)
	}
}

// The scheduler's own status patch of a pod it is scheduling (preemption's
// nominatedNodeName) must not queue the pod a second time: it is requeued
// when its cycle ends.
func TestStatusUpdateOfAPodInFlightDoesNotQueueIt(t *testing.T) {
	q, _ := newQueue()
	pod := st.MakePod("p").Obj()
	q.Add(pod)
	p, _ := q.Pop()
	nominated := pod.DeepCopy()
	nominated.Status.NominatedNodeName = "n"
	q.Update(pod, nominated)
	if err := q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle()); err != nil {
		t.Fatalf("requeue after the cycle: %v", err)
	}
	if s := state(q, pod); s != "unschedulable" {
		t.Errorf("pod is %s, want unschedulable", s)
	}
}
