package noderesourcesfit

import (
	"context"
	"reflect"
	"testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

func TestFilter(t *testing.T) {
	node := st.MakeNode("n").Capacity("2", "4Gi", "3").Obj()
	tests := []struct {
		name        string
		pod         *v1alpha1.Pod
		existing    []*v1alpha1.Pod
		node        *v1alpha1.Node
		wantReasons []string
	}{
		{name: "empty node, pod fits", pod: st.MakePod("p").Req("1", "1Gi").Obj(), node: node},
		{name: "pod takes exactly what is left",
			pod: st.MakePod("p").Req("1", "3Gi").Obj(), existing: []*v1alpha1.Pod{st.MakePod("a").Req("1", "1Gi").Obj()}, node: node},
		{name: "cpu short by one millicore",
			pod: st.MakePod("p").Req("1001m", "").Obj(), existing: []*v1alpha1.Pod{st.MakePod("a").Req("1", "").Obj()}, node: node,
			wantReasons: []string{ReasonInsufficientCPU}},
		{name: "memory short",
			pod: st.MakePod("p").Req("", "2Gi").Obj(), existing: []*v1alpha1.Pod{st.MakePod("a").Req("", "3Gi").Obj()}, node: node,
			wantReasons: []string{ReasonInsufficientMemory}},
		{name: "both short: both reported",
			pod: st.MakePod("p").Req("3", "5Gi").Obj(), node: node,
			wantReasons: []string{ReasonInsufficientCPU, ReasonInsufficientMemory}},
		{name: "requests of all containers add up",
			pod: st.MakePod("p").Req("1", "").Container("1500m", "").Obj(), node: node,
			wantReasons: []string{ReasonInsufficientCPU}},
		{name: "a limit without a request counts as the request",
			pod: st.MakePod("p").Limits("3", "").Obj(), node: node,
			wantReasons: []string{ReasonInsufficientCPU}},
		{name: "node already holds its maximum of pods",
			pod: st.MakePod("p").Obj(), node: node,
			existing:    []*v1alpha1.Pod{st.MakePod("a").Obj(), st.MakePod("b").Obj(), st.MakePod("c").Obj()},
			wantReasons: []string{ReasonTooManyPods}},
		{name: "pod requesting nothing fits an over-committed node",
			pod: st.MakePod("p").Obj(), existing: []*v1alpha1.Pod{st.MakePod("a").Req("3", "5Gi").Obj()}, node: node},
		{name: "node reporting no pods allocatable takes none",
			pod: st.MakePod("p").Obj(), node: st.MakeNode("n").Capacity("2", "4Gi", "").Obj(),
			wantReasons: []string{ReasonTooManyPods}},
		{name: "node reporting no cpu rejects a pod that asks for cpu",
			pod: st.MakePod("p").Req("100m", "").Obj(), node: st.MakeNode("n").Capacity("", "4Gi", "10").Obj(),
			wantReasons: []string{ReasonInsufficientCPU}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			state := framework.NewCycleState()
			p := New()
			if _, s := p.PreFilter(ctx, state, tt.pod); !s.IsSuccess() {
				t.Fatalf("PreFilter: %v", s.AsError())
			}
			s := p.Filter(ctx, state, tt.pod, st.NodeInfo(tt.node, tt.existing...))
			if !reflect.DeepEqual(s.Reasons(), tt.wantReasons) {
				t.Errorf("reasons = %q, want %q", s.Reasons(), tt.wantReasons)
			}
			if tt.wantReasons != nil && s.Code() != framework.Unschedulable {
				t.Errorf("code = %v, want Unschedulable", s.Code())
			}
		})
	}
}
