package nodeready

import (
	"context"
	"reflect"
	"testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name        string
		node        *v1alpha1.Node
		wantReasons []string
	}{
		{"Ready True", st.MakeNode("n").Obj(), nil},
		{"Ready False", st.MakeNode("n").Ready(v1alpha1.ConditionFalse).Obj(), []string{ErrReason}},
		{"Ready Unknown", st.MakeNode("n").Ready(v1alpha1.ConditionUnknown).Obj(), []string{ErrReason}},
		{"kubelet never reported a condition", st.MakeNode("n").NoConditions().Obj(), []string{ErrReason}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New().Filter(context.Background(), framework.NewCycleState(), st.MakePod("p").Obj(), framework.NewNodeInfo(tt.node))
			if !reflect.DeepEqual(s.Reasons(), tt.wantReasons) {
				t.Errorf("reasons = %q, want %q", s.Reasons(), tt.wantReasons)
			}
		})
	}
}
