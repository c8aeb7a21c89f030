package balancedallocation

import (
	"context"
	"testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

func TestScore(t *testing.T) {
	node := st.MakeNode("n").Capacity("4", "8Gi", "110").Obj()
	tests := []struct {
		name     string
		pod      *v1alpha1.Pod
		node     *v1alpha1.Node
		existing []*v1alpha1.Pod
		want     int64
	}{
		{"same share of cpu and memory: perfectly balanced", st.MakePod("p").Req("1", "2Gi").Obj(), node, nil, 100},
		{"half the cpu, no memory", st.MakePod("p").Req("2", "").Obj(), node, nil, 75},
		{"all the cpu, no memory", st.MakePod("p").Req("4", "").Obj(), node, nil, 50},
		{"pod evens out a memory-heavy node",
			st.MakePod("p").Req("2", "").Obj(), node, []*v1alpha1.Pod{st.MakePod("a").Req("", "4Gi").Obj()}, 100},
		{"fractions are capped at 1",
			st.MakePod("p").Req("8", "").Obj(), node, nil, 50},
		{"pod requesting nothing scores 0", st.MakePod("p").Obj(), node, nil, 0},
		{"node with only cpu allocatable has nothing to balance",
			st.MakePod("p").Req("1", "").Obj(), st.MakeNode("n").Capacity("4", "", "10").Obj(), nil, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, s := New().Score(context.Background(), framework.NewCycleState(), tt.pod, st.NodeInfo(tt.node, tt.existing...))
			if !s.IsSuccess() {
				t.Fatalf("Score: %v", s.AsError())
			}
			if got != tt.want {
				t.Errorf("score = %d, want %d", got, tt.want)
			}
		})
	}
}
