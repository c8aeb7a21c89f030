package nodeunschedulable

import (
	"context"
	"reflect"
	"testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/plugins/helper"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name        string
		pod         *v1alpha1.Pod
		node        *v1alpha1.Node
		wantReasons []string
	}{
		{"schedulable node", st.MakePod("p").Obj(), st.MakeNode("n").Obj(), nil},
		{"cordoned node", st.MakePod("p").Obj(), st.MakeNode("n").Unschedulable().Obj(), []string{ErrReason}},
		{"cordoned node, pod tolerates the unschedulable taint",
			st.MakePod("p").Toleration(helper.TaintNodeUnschedulable, v1alpha1.TolerationOpExists, "", v1alpha1.TaintEffectNoSchedule).Obj(),
			st.MakeNode("n").Unschedulable().Obj(), nil},
		{"cordoned node, pod tolerates another taint",
			st.MakePod("p").Toleration("dedicated", v1alpha1.TolerationOpExists, "", "").Obj(),
			st.MakeNode("n").Unschedulable().Obj(), []string{ErrReason}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New().Filter(context.Background(), framework.NewCycleState(), tt.pod, framework.NewNodeInfo(tt.node))
			if !reflect.DeepEqual(s.Reasons(), tt.wantReasons) {
				t.Errorf("reasons = %q, want %q", s.Reasons(), tt.wantReasons)
			}
		})
	}
}
