package framework_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

// recorder is a plugin at the binding-side extension points that logs its
// calls and answers from table.
type recorder struct {
	name    string
	log     *[]string
	reserve *framework.Status
	permit  *framework.Status
	wait    time.Duration
	bind    *framework.Status
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Reserve(context.Context, *framework.CycleState, *v1alpha1.Pod, string) *framework.Status {
	*r.log = append(*r.log, r.name+".Reserve")
	return r.reserve
}
func (r *recorder) Unreserve(context.Context, *framework.CycleState, *v1alpha1.Pod, string) {
	*r.log = append(*r.log, r.name+".Unreserve")
}
func (r *recorder) Permit(context.Context, *framework.CycleState, *v1alpha1.Pod, string) (*framework.Status, time.Duration) {
	return r.permit, r.wait
}
func (r *recorder) Bind(context.Context, *framework.CycleState, *v1alpha1.Pod, string) *framework.Status {
	*r.log = append(*r.log, r.name+".Bind")
	return r.bind
}

func TestReserveFailureAndUnreserveInReverse(t *testing.T) {
	var log []string
	a := &recorder{name: "a", log: &log}
	b := &recorder{name: "b", log: &log, reserve: framework.NewStatus(framework.Unschedulable, "no")}
	f, _ := framework.NewFramework([]framework.Registration{{Plugin: a}, {Plugin: b}}, 1)
	ctx, state, pod := context.Background(), framework.NewCycleState(), st.MakePod("p").Obj()
	if s := f.RunReservePluginsReserve(ctx, state, pod, "n"); !s.IsRejected() || s.Plugin() != "b" {
		t.Fatalf("Reserve = %v from %q, want b's rejection", s.Code(), s.Plugin())
	}
	f.RunReservePluginsUnreserve(ctx, state, pod, "n")
	if want := []string{"a.Reserve", "b.Reserve", "b.Unreserve", "a.Unreserve"}; !reflect.DeepEqual(log, want) {
		t.Errorf("calls %v, want %v", log, want)
	}
}

func TestBindPluginsSkipToTheNext(t *testing.T) {
	var log []string
	skipper := &recorder{name: "skipper", log: &log, bind: framework.NewStatus(framework.Skip)}
	binder := &recorder{name: "binder", log: &log}
	last := &recorder{name: "last", log: &log}
	f, _ := framework.NewFramework([]framework.Registration{{Plugin: skipper}, {Plugin: binder}, {Plugin: last}}, 1)
	if s := f.RunBindPlugins(context.Background(), framework.NewCycleState(), st.MakePod("p").Obj(), "n"); !s.IsSuccess() {
		t.Fatal(s.AsError())
	}
	if want := []string{"skipper.Bind", "binder.Bind"}; !reflect.DeepEqual(log, want) {
		t.Errorf("calls %v, want %v", log, want)
	}
}

func TestPermitWait(t *testing.T) {
	tests := []struct {
		name    string
		verdict func(wp *framework.WaitingPod)
		wait    time.Duration
		want    framework.Code
	}{
		{"allowed", func(wp *framework.WaitingPod) { wp.Allow("gate") }, time.Minute, framework.Success},
		{"rejected", func(wp *framework.WaitingPod) { wp.Reject("gate", "not now") }, time.Minute, framework.Unschedulable},
		{"timed out", func(*framework.WaitingPod) {}, 10 * time.Millisecond, framework.Unschedulable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gate := &recorder{name: "gate", log: &[]string{}, permit: framework.NewStatus(framework.Wait), wait: tt.wait}
			f, _ := framework.NewFramework([]framework.Registration{{Plugin: gate}}, 1)
			ctx, pod := context.Background(), st.MakePod("p").Obj()
			if s := f.RunPermitPlugins(ctx, framework.NewCycleState(), pod, "n"); s.Code() != framework.Wait {
				t.Fatalf("Permit = %v, want Wait", s.Code())
			}
			wp := f.GetWaitingPod(pod.UID)
			if wp == nil {
				t.Fatal("no waiting pod")
			}
			tt.verdict(wp)
			if s := f.WaitOnPermit(ctx, pod); s.Code() != tt.want {
				t.Errorf("WaitOnPermit = %v %q, want %v", s.Code(), s.Message(), tt.want)
			}
		})
	}
}

// nominator returns fixed nominated pods.
type nominator map[string][]*framework.PodInfo

func (n nominator) NominatedPodsForNode(name string) []*framework.PodInfo { return n[name] }

// roomFilter lets a pod onto a node holding fewer than max pods.
type roomFilter struct{ max int }

func (roomFilter) Name() string { return "room" }
func (r roomFilter) Filter(_ context.Context, _ *framework.CycleState, _ *v1alpha1.Pod, n *framework.NodeInfo) *framework.Status {
	if len(n.Pods) >= r.max {
		return framework.NewStatus(framework.Unschedulable, "full")
	}
	return nil
}

func TestFilterWithNominatedPods(t *testing.T) {
	nominated := framework.NewPodInfo(st.MakePod("nominated").Priority(10).Obj())
	f, _ := framework.NewFramework([]framework.Registration{{Plugin: roomFilter{max: 1}}}, 1,
		framework.Options{Nominator: nominator{"n": {nominated}}})
	node := st.NodeInfo(st.MakeNode("n").Obj())
	ctx, state := context.Background(), framework.NewCycleState()
	if s := f.RunFilterPluginsWithNominatedPods(ctx, state, st.MakePod("lower").Priority(5).Obj(), node); !s.IsRejected() {
		t.Error("a lower-priority pod took the room kept for a nominated pod")
	}
	if s := f.RunFilterPluginsWithNominatedPods(ctx, state, st.MakePod("higher").Priority(20).Obj(), node); !s.IsSuccess() {
		t.Errorf("a higher-priority pod was kept out by a nominated pod: %q", s.Message())
	}
	if len(node.Pods) != 0 {
		t.Error("the nominated pod was added to the snapshot's node")
	}
}
