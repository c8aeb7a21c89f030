package nodeaffinity

import (
	"context"
	"reflect"
	"testing"

	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

func TestFilter(t *testing.T) {
	gpuNode := st.MakeNode("n").Label("accelerator", "gpu").Label("zone", "a").Label("cores", "64").Obj()
	match := []string(nil)
	noMatch := []string{ErrReason}
	tests := []struct {
		name        string
		pod         *v1alpha1.Pod
		wantSkip    bool
		wantReasons []string
	}{
		{name: "no selector, no affinity: filter skipped", pod: st.MakePod("p").Obj(), wantSkip: true},
		{name: "nodeSelector matches", pod: st.MakePod("p").NodeSelector(map[string]string{"accelerator": "gpu"}).Obj(), wantReasons: match},
		{name: "nodeSelector value differs", pod: st.MakePod("p").NodeSelector(map[string]string{"accelerator": "tpu"}).Obj(), wantReasons: noMatch},
		{name: "nodeSelector label missing", pod: st.MakePod("p").NodeSelector(map[string]string{"disk": "ssd"}).Obj(), wantReasons: noMatch},
		{name: "affinity In matches", pod: st.MakePod("p").RequiredAffinity(st.Term("zone", v1alpha1.NodeSelectorOpIn, "a", "b")).Obj(), wantReasons: match},
		{name: "affinity NotIn excludes", pod: st.MakePod("p").RequiredAffinity(st.Term("zone", v1alpha1.NodeSelectorOpNotIn, "a")).Obj(), wantReasons: noMatch},
		{name: "affinity Exists", pod: st.MakePod("p").RequiredAffinity(st.Term("accelerator", v1alpha1.NodeSelectorOpExists)).Obj(), wantReasons: match},
		{name: "affinity DoesNotExist", pod: st.MakePod("p").RequiredAffinity(st.Term("accelerator", v1alpha1.NodeSelectorOpDoesNotExist)).Obj(), wantReasons: noMatch},
		{name: "affinity Gt", pod: st.MakePod("p").RequiredAffinity(st.Term("cores", v1alpha1.NodeSelectorOpGt, "32")).Obj(), wantReasons: match},
		{name: "affinity Lt", pod: st.MakePod("p").RequiredAffinity(st.Term("cores", v1alpha1.NodeSelectorOpLt, "32")).Obj(), wantReasons: noMatch},
		{name: "affinity terms are ORed", pod: st.MakePod("p").RequiredAffinity(
			st.Term("zone", v1alpha1.NodeSelectorOpIn, "z"), st.Term("zone", v1alpha1.NodeSelectorOpIn, "a")).Obj(), wantReasons: match},
		{name: "requirements within a term are ANDed", pod: st.MakePod("p").RequiredAffinity(v1alpha1.NodeSelectorTerm{MatchExpressions: []v1alpha1.NodeSelectorRequirement{
			{Key: "zone", Operator: v1alpha1.NodeSelectorOpIn, Values: []string{"a"}},
			{Key: "accelerator", Operator: v1alpha1.NodeSelectorOpIn, Values: []string{"tpu"}},
		}}).Obj(), wantReasons: noMatch},
		{name: "nodeSelector and affinity must both match", pod: st.MakePod("p").NodeSelector(map[string]string{"accelerator": "gpu"}).
			RequiredAffinity(st.Term("zone", v1alpha1.NodeSelectorOpIn, "b")).Obj(), wantReasons: noMatch},
		{name: "empty term list matches no node", pod: st.MakePod("p").RequiredAffinity().Obj(), wantReasons: noMatch},
		{name: "empty term matches no node", pod: st.MakePod("p").RequiredAffinity(v1alpha1.NodeSelectorTerm{}).Obj(), wantReasons: noMatch},
		{name: "Gt with a non-integer matches no node", pod: st.MakePod("p").RequiredAffinity(st.Term("cores", v1alpha1.NodeSelectorOpGt, "many")).Obj(), wantReasons: noMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			state := framework.NewCycleState()
			p := New()
			_, s := p.PreFilter(ctx, state, tt.pod)
			if tt.wantSkip {
				if !s.IsSkip() {
					t.Fatalf("PreFilter = %v, want Skip", s.Code())
				}
				return
			}
			if !s.IsSuccess() {
				t.Fatalf("PreFilter: %v", s.AsError())
			}
			got := p.Filter(ctx, state, tt.pod, framework.NewNodeInfo(gpuNode))
			if !reflect.DeepEqual(got.Reasons(), tt.wantReasons) {
				t.Errorf("reasons = %q, want %q", got.Reasons(), tt.wantReasons)
			}
		})
	}
}

func TestScore(t *testing.T) {
	nodes := []*v1alpha1.Node{
		st.MakeNode("ssd-zone-a").Label("disk", "ssd").Label("zone", "a").Obj(),
		st.MakeNode("ssd").Label("disk", "ssd").Obj(),
		st.MakeNode("plain").Obj(),
	}
	tests := []struct {
		name string
		pod  *v1alpha1.Pod
		want []int64
	}{
		{"no preferences: all equal", st.MakePod("p").Obj(), []int64{0, 0, 0}},
		{"weights add up and the best node gets 100",
			st.MakePod("p").PreferredAffinity(30, st.Term("disk", v1alpha1.NodeSelectorOpIn, "ssd")).
				PreferredAffinity(10, st.Term("zone", v1alpha1.NodeSelectorOpIn, "a")).Obj(),
			[]int64{100, 75, 0}},
		{"a term that does not parse is ignored",
			st.MakePod("p").PreferredAffinity(30, st.Term("disk", v1alpha1.NodeSelectorOpGt, "ssd")).
				PreferredAffinity(10, st.Term("zone", v1alpha1.NodeSelectorOpExists)).Obj(),
			[]int64{100, 0, 0}},
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

func TestQueueingHint(t *testing.T) {
	pod := st.MakePod("p").NodeSelector(map[string]string{"disk": "ssd"}).Obj()
	tests := []struct {
		name     string
		old, new *v1alpha1.Node
		want     framework.QueueingHint
	}{
		{"added node matches", nil, st.MakeNode("n").Label("disk", "ssd").Obj(), framework.Queue},
		{"added node does not match", nil, st.MakeNode("n").Obj(), framework.QueueSkip},
		{"label change makes it match", st.MakeNode("n").Obj(), st.MakeNode("n").Label("disk", "ssd").Obj(), framework.Queue},
		{"it matched before too", st.MakeNode("n").Label("disk", "ssd").Obj(), st.MakeNode("n").Label("disk", "ssd").Label("x", "y").Obj(), framework.QueueSkip},
		{"still no match", st.MakeNode("n").Obj(), st.MakeNode("n").Label("disk", "hdd").Obj(), framework.QueueSkip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var old any
			if tt.old != nil {
				old = tt.old
			}
			got, err := isSchedulableAfterNodeChange(klog.Background(), pod, old, tt.new)
			if err != nil || got != tt.want {
				t.Errorf("hint = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
