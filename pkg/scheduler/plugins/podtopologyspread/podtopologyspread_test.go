package podtopologyspread

import (
	"context"
	"reflect"
	"testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

func newPlugin(t *testing.T, lister framework.NodeInfoLister) *PodTopologySpread {
	t.Helper()
	fw, err := framework.NewFramework(nil, 1, framework.Options{Snapshot: lister})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(fw)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*PodTopologySpread)
}

// zones: a1, a2 in zone a; b1 in b; c1 in c.
func zonedNodes() []*v1alpha1.Node {
	return []*v1alpha1.Node{
		st.MakeNode("a1").Zone("a").Obj(),
		st.MakeNode("a2").Zone("a").Obj(),
		st.MakeNode("b1").Zone("b").Obj(),
		st.MakeNode("c1").Zone("c").Obj(),
	}
}

func web(name, node string) *v1alpha1.Pod {
	return st.MakePod(name).Label("app", "web").Node(node).Obj()
}

func TestFilter(t *testing.T) {
	ptr := func(p v1alpha1.NodeInclusionPolicy) *v1alpha1.NodeInclusionPolicy { return &p }
	spread := func(maxSkew int32) *st.PodWrapper {
		return st.MakePod("p").Label("app", "web").SpreadConstraint(maxSkew, LabelZone, v1alpha1.DoNotSchedule, "app", "web")
	}
	tests := []struct {
		name     string
		pod      *v1alpha1.Pod
		nodes    []*v1alpha1.Node
		existing []*v1alpha1.Pod
		want     map[string]string
		wantSkip bool
	}{
		{name: "no DoNotSchedule constraints: skip",
			pod:      st.MakePod("p").SpreadConstraint(1, LabelZone, v1alpha1.ScheduleAnyway, "app", "web").Obj(),
			wantSkip: true},
		{name: "maxSkew 1: only the emptiest zones",
			pod:      spread(1).Obj(),
			existing: []*v1alpha1.Pod{web("w1", "a1"), web("w2", "b1")},
			want:     map[string]string{"a1": ErrReasonConstraintsNotMatch, "a2": ErrReasonConstraintsNotMatch, "b1": ErrReasonConstraintsNotMatch, "c1": ""}},
		{name: "balanced zones: anywhere",
			pod:      spread(1).Obj(),
			existing: []*v1alpha1.Pod{web("w1", "a1"), web("w2", "b1"), web("w3", "c1")},
			want:     map[string]string{"a1": "", "a2": "", "b1": "", "c1": ""}},
		{name: "maxSkew 2 allows one more",
			pod:      spread(2).Obj(),
			existing: []*v1alpha1.Pod{web("w1", "a1"), web("w2", "a2")},
			want:     map[string]string{"a1": ErrReasonConstraintsNotMatch, "a2": ErrReasonConstraintsNotMatch, "b1": "", "c1": ""}},
		{name: "pods not matching the selector, or in another namespace, do not count",
			pod: spread(1).Obj(),
			existing: []*v1alpha1.Pod{st.MakePod("x").Label("app", "db").Node("a1").Obj(),
				st.MakePod("y").Namespace("other").Label("app", "web").Node("b1").Obj()},
			want: map[string]string{"a1": "", "a2": "", "b1": "", "c1": ""}},
		{name: "a node without the topology key is unresolvable",
			pod:   spread(1).Obj(),
			nodes: []*v1alpha1.Node{st.MakeNode("a1").Zone("a").Obj(), st.MakeNode("bare").Obj()},
			want:  map[string]string{"a1": "", "bare": ErrReasonNodeLabelNotMatch}},
		{name: "minDomains above the domains found: the minimum counts as 0",
			pod: func() *v1alpha1.Pod {
				w := spread(1)
				five := int32(5)
				w.LastSpreadConstraint().MinDomains = &five
				return w.Obj()
			}(),
			existing: []*v1alpha1.Pod{web("w1", "a1"), web("w2", "b1"), web("w3", "c1")},
			want:     map[string]string{"a1": ErrReasonConstraintsNotMatch, "a2": ErrReasonConstraintsNotMatch, "b1": ErrReasonConstraintsNotMatch, "c1": ErrReasonConstraintsNotMatch}},
		{name: "nodeAffinityPolicy Honor (default): zones the pod cannot go to do not count",
			pod:      spread(1).NodeSelector(map[string]string{"topology.kubernetes.io/zone": "a"}).Obj(),
			existing: []*v1alpha1.Pod{web("w1", "a1")},
			// Only zone a counts: its 1 pod is the minimum, skew 1+1-1 = 1.
			want: map[string]string{"a1": "", "a2": "", "b1": "", "c1": ""}},
		{name: "nodeAffinityPolicy Ignore: every zone counts",
			pod: func() *v1alpha1.Pod {
				w := spread(1).NodeSelector(map[string]string{"topology.kubernetes.io/zone": "a"})
				w.LastSpreadConstraint().NodeAffinityPolicy = ptr(v1alpha1.NodeInclusionPolicyIgnore)
				return w.Obj()
			}(),
			existing: []*v1alpha1.Pod{web("w1", "a1")},
			want:     map[string]string{"a1": ErrReasonConstraintsNotMatch, "a2": ErrReasonConstraintsNotMatch, "b1": "", "c1": ""}},
		{name: "nodeTaintsPolicy Honor: a tainted zone does not count",
			pod: func() *v1alpha1.Pod {
				w := spread(1)
				w.LastSpreadConstraint().NodeTaintsPolicy = ptr(v1alpha1.NodeInclusionPolicyHonor)
				return w.Obj()
			}(),
			nodes: []*v1alpha1.Node{st.MakeNode("a1").Zone("a").Obj(), st.MakeNode("b1").Zone("b").Obj(),
				st.MakeNode("c1").Zone("c").Taint("k", "v", v1alpha1.TaintEffectNoSchedule).Obj()},
			existing: []*v1alpha1.Pod{web("w1", "a1"), web("w2", "b1")},
			want:     map[string]string{"a1": "", "b1": "", "c1": ""}},
		{name: "nodeTaintsPolicy Ignore (default): the tainted empty zone is the minimum",
			pod: spread(1).Obj(),
			nodes: []*v1alpha1.Node{st.MakeNode("a1").Zone("a").Obj(), st.MakeNode("b1").Zone("b").Obj(),
				st.MakeNode("c1").Zone("c").Taint("k", "v", v1alpha1.TaintEffectNoSchedule).Obj()},
			existing: []*v1alpha1.Pod{web("w1", "a1"), web("w2", "b1")},
			want:     map[string]string{"a1": ErrReasonConstraintsNotMatch, "b1": ErrReasonConstraintsNotMatch, "c1": ""}},
		{name: "two constraints must both hold",
			pod:      spread(1).SpreadConstraint(1, LabelHostname, v1alpha1.DoNotSchedule, "app", "web").Obj(),
			existing: []*v1alpha1.Pod{web("w1", "a1"), web("w2", "b1")},
			// Zone c is the only one allowed; by host, c1 is at the minimum.
			want: map[string]string{"a1": ErrReasonConstraintsNotMatch, "a2": ErrReasonConstraintsNotMatch, "b1": ErrReasonConstraintsNotMatch, "c1": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := tt.nodes
			if nodes == nil {
				nodes = zonedNodes()
			}
			lister := st.Snapshot(nodes, tt.existing)
			p := newPlugin(t, lister)
			ctx, state := context.Background(), framework.NewCycleState()
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
			got := map[string]string{}
			for _, n := range lister {
				got[n.Node().Name] = p.Filter(ctx, state, tt.pod, n).Message()
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reasons %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAddRemovePod(t *testing.T) {
	lister := st.Snapshot(zonedNodes(), []*v1alpha1.Pod{web("w1", "a1"), web("w2", "b1")})
	p := newPlugin(t, lister)
	pod := st.MakePod("p").Label("app", "web").SpreadConstraint(1, LabelZone, v1alpha1.DoNotSchedule, "app", "web").Obj()
	ctx, state := context.Background(), framework.NewCycleState()
	if _, s := p.PreFilter(ctx, state, pod); !s.IsSuccess() {
		t.Fatal(s.AsError())
	}
	a1 := lister[0]
	copied := state.Clone()
	if s := p.RemovePod(ctx, copied, pod, a1.Pods[0], a1); !s.IsSuccess() {
		t.Fatal(s.AsError())
	}
	if s := p.Filter(ctx, copied, pod, a1); !s.IsSuccess() {
		t.Errorf("zone a emptied: %q, want a fit", s.Message())
	}
	if s := p.Filter(ctx, state, pod, a1); s.IsSuccess() {
		t.Error("the original state changed with its clone")
	}
}

func TestScore(t *testing.T) {
	tests := []struct {
		name     string
		pod      *v1alpha1.Pod
		existing []*v1alpha1.Pod
		want     map[string]int64
		wantSkip bool
	}{
		{name: "ScheduleAnyway prefers the emptier zone",
			pod:      st.MakePod("p").SpreadConstraint(1, LabelZone, v1alpha1.ScheduleAnyway, "app", "web").Obj(),
			existing: []*v1alpha1.Pod{web("w1", "a1"), web("w2", "a2"), web("w3", "b1")},
			// log(3+2)=1.61 per pod: a 3.2, b 1.6, c 0 -> 100*(3+0-s)/3.
			want: map[string]int64{"a1": 0, "a2": 0, "b1": 33, "c1": 100}},
		{name: "no constraints and no controller: skip",
			pod:      st.MakePod("p").Obj(),
			wantSkip: true},
		{name: "no constraints: the defaults count the pods of the same controller",
			pod: st.MakePod("p").ControlledBy("rs1").Obj(),
			existing: []*v1alpha1.Pod{st.MakePod("s1").ControlledBy("rs1").Node("a1").Obj(),
				st.MakePod("s2").ControlledBy("rs1").Node("a1").Obj(),
				st.MakePod("other").ControlledBy("rs2").Node("c1").Obj()},
			// hostname: maxSkew 3, weight log(4+2); zone: maxSkew 5, weight
			// log(3+2). a1 2*1.79+2 + 2*1.61+4 = 13, a2 2 + 7.2 = 9, b1 and
			// c1 2+4 = 6; normalised 100*(13+6-s)/13.
			want: map[string]int64{"a1": 46, "a2": 76, "b1": 100, "c1": 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lister := st.Snapshot(zonedNodes(), tt.existing)
			p := newPlugin(t, lister)
			ctx, state := context.Background(), framework.NewCycleState()
			s := p.PreScore(ctx, state, tt.pod, lister)
			if tt.wantSkip {
				if !s.IsSkip() {
					t.Fatalf("PreScore = %v, want Skip", s.Code())
				}
				return
			}
			if !s.IsSuccess() {
				t.Fatalf("PreScore: %v", s.AsError())
			}
			scores := framework.NodeScoreList{}
			for _, n := range lister {
				sc, s := p.Score(ctx, state, tt.pod, n)
				if !s.IsSuccess() {
					t.Fatal(s.AsError())
				}
				scores = append(scores, framework.NodeScore{Name: n.Node().Name, Score: sc})
			}
			p.NormalizeScore(ctx, state, tt.pod, scores)
			got := map[string]int64{}
			for _, s := range scores {
				got[s.Name] = s.Score
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("scores %v, want %v", got, tt.want)
			}
		})
	}
}
