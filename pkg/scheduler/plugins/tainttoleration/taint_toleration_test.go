package tainttoleration

import (
	"context"
	"reflect"
	"testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

const (
	noSchedule = v1alpha1.TaintEffectNoSchedule
	noExecute  = v1alpha1.TaintEffectNoExecute
	prefer     = v1alpha1.TaintEffectPreferNoSchedule
	equal      = v1alpha1.TolerationOpEqual
	exists     = v1alpha1.TolerationOpExists
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name        string
		pod         *v1alpha1.Pod
		node        *v1alpha1.Node
		wantReasons []string
	}{
		{"untainted node", st.MakePod("p").Obj(), st.MakeNode("n").Obj(), nil},
		{"NoSchedule taint not tolerated", st.MakePod("p").Obj(),
			st.MakeNode("n").Taint("dedicated", "gpu", noSchedule).Obj(),
			[]string{"node(s) had untolerated taint {dedicated: gpu}"}},
		{"NoExecute taint not tolerated", st.MakePod("p").Obj(),
			st.MakeNode("n").Taint("maintenance", "", noExecute).Obj(),
			[]string{"node(s) had untolerated taint {maintenance: }"}},
		{"PreferNoSchedule taint does not filter", st.MakePod("p").Obj(),
			st.MakeNode("n").Taint("spot", "true", prefer).Obj(), nil},
		{"tolerated by key and value", st.MakePod("p").Toleration("dedicated", equal, "gpu", noSchedule).Obj(),
			st.MakeNode("n").Taint("dedicated", "gpu", noSchedule).Obj(), nil},
		{"toleration for another value", st.MakePod("p").Toleration("dedicated", equal, "db", noSchedule).Obj(),
			st.MakeNode("n").Taint("dedicated", "gpu", noSchedule).Obj(),
			[]string{"node(s) had untolerated taint {dedicated: gpu}"}},
		{"toleration for NoSchedule does not cover NoExecute", st.MakePod("p").Toleration("dedicated", exists, "", noSchedule).Obj(),
			st.MakeNode("n").Taint("dedicated", "gpu", noExecute).Obj(),
			[]string{"node(s) had untolerated taint {dedicated: gpu}"}},
		{"first of two taints tolerated: second named", st.MakePod("p").Toleration("a", exists, "", "").Obj(),
			st.MakeNode("n").Taint("a", "1", noSchedule).Taint("b", "2", noSchedule).Obj(),
			[]string{"node(s) had untolerated taint {b: 2}"}},
		{"tolerate everything", st.MakePod("p").Toleration("", exists, "", "").Obj(),
			st.MakeNode("n").Taint("a", "1", noSchedule).Taint("b", "2", noExecute).Obj(), nil},
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

func TestScore(t *testing.T) {
	nodes := []*v1alpha1.Node{
		st.MakeNode("clean").Obj(),
		st.MakeNode("one-soft").Taint("spot", "true", prefer).Obj(),
		st.MakeNode("two-soft").Taint("spot", "true", prefer).Taint("old", "", prefer).Obj(),
		st.MakeNode("hard-only").Taint("dedicated", "gpu", noSchedule).Obj(),
	}
	tests := []struct {
		name string
		pod  *v1alpha1.Pod
		want []int64
	}{
		{"fewer untolerated soft taints score higher", st.MakePod("p").Obj(), []int64{100, 50, 0, 100}},
		{"a tolerated soft taint does not count",
			st.MakePod("p").Toleration("spot", equal, "true", prefer).Obj(), []int64{100, 100, 0, 100}},
		{"a NoSchedule toleration does not cover PreferNoSchedule",
			st.MakePod("p").Toleration("spot", exists, "", noSchedule).Obj(), []int64{100, 50, 0, 100}},
		{"tolerating all soft taints: every node equal",
			st.MakePod("p").Toleration("", exists, "", "").Obj(), []int64{100, 100, 100, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			state := framework.NewCycleState()
			p := New()
			scores := make(framework.NodeScoreList, len(nodes))
			for i, n := range nodes {
				s, status := p.Score(ctx, state, tt.pod, framework.NewNodeInfo(n))
				if !status.IsSuccess() {
					t.Fatalf("Score: %v", status.AsError())
				}
				scores[i] = framework.NodeScore{Name: n.Name, Score: s}
			}
			p.ScoreExtensions().NormalizeScore(ctx, state, tt.pod, scores)
			for i := range scores {
				if scores[i].Score != tt.want[i] {
					t.Errorf("node %s scored %d, want %d", scores[i].Name, scores[i].Score, tt.want[i])
				}
			}
		})
	}
}
