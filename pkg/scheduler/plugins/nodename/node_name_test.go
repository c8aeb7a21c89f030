package nodename

import (
	"context"
	"reflect"
	"testing"

	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

func TestFilter(t *testing.T) {
	node := st.MakeNode("node-a").Obj()
	tests := []struct {
		name        string
		nodeName    string
		wantReasons []string
	}{
		{"pod names no node: every node passes", "", nil},
		{"pod names this node", "node-a", nil},
		{"pod names another node", "node-b", []string{ErrReason}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := st.MakePod("p").Obj()
			pod.Spec.NodeName = tt.nodeName
			s := New().Filter(context.Background(), framework.NewCycleState(), pod, framework.NewNodeInfo(node))
			if !reflect.DeepEqual(s.Reasons(), tt.wantReasons) {
				t.Errorf("reasons = %q, want %q", s.Reasons(), tt.wantReasons)
			}
			if tt.wantReasons != nil && s.Code() != framework.UnschedulableAndUnresolvable {
				t.Errorf("code = %v, want UnschedulableAndUnresolvable", s.Code())
			}
		})
	}
}
