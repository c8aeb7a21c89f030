package leastallocated

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
		{"empty node, pod takes a quarter of each", st.MakePod("p").Req("1", "2Gi").Obj(), node, nil, 75},
		{"cpu half free, memory three quarters free",
			st.MakePod("p").Req("1", "1Gi").Obj(), node, []*v1alpha1.Pod{st.MakePod("a").Req("1", "1Gi").Obj()}, (50 + 75) / 2},
		{"pod fills the node", st.MakePod("p").Req("4", "8Gi").Obj(), node, nil, 0},
		{"over-committed node scores 0, not negative",
			st.MakePod("p").Req("2", "4Gi").Obj(), node, []*v1alpha1.Pod{st.MakePod("a").Req("3", "6Gi").Obj()}, 0},
		{"best-effort pods count as 100m and 200Mi each",
			st.MakePod("p").Obj(), st.MakeNode("n").Capacity("1", "1000Mi", "110").Obj(),
			[]*v1alpha1.Pod{st.MakePod("a").Obj()}, (80 + 60) / 2},
		{"node without allocatable cpu or memory scores 0", st.MakePod("p").Obj(), st.MakeNode("n").Capacity("", "", "10").Obj(), nil, 0},
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

func TestEmptierNodeScoresHigher(t *testing.T) {
	pod := st.MakePod("p").Req("500m", "512Mi").Obj()
	busy := st.NodeInfo(st.MakeNode("busy").Obj(), st.MakePod("a").Req("3", "6Gi").Obj())
	idle := st.NodeInfo(st.MakeNode("idle").Obj())
	b, _ := New().Score(context.Background(), framework.NewCycleState(), pod, busy)
	i, _ := New().Score(context.Background(), framework.NewCycleState(), pod, idle)
	if i <= b {
		t.Errorf("idle node scored %d, busy node %d: want idle higher", i, b)
	}
}
