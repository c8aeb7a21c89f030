package interpodaffinity

import (
	"context"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

const (
	hostname = "kubernetes.io/hostname"
	zone     = "topology.kubernetes.io/zone"
)

func newPlugin(t *testing.T, lister framework.NodeInfoLister, namespaces ...*corev1.Namespace) *InterPodAffinity {
	t.Helper()
	extra := map[string]any{}
	if len(namespaces) > 0 {
		client := kubefake.NewClientset()
		f := informers.NewSharedInformerFactory(client, 0)
		inf := f.Core().V1().Namespaces()
		for _, n := range namespaces {
			if err := inf.Informer().GetStore().Add(n); err != nil {
				t.Fatal(err)
			}
		}
		extra[NamespaceListerKey] = inf.Lister()
	}
	fw, err := framework.NewFramework(nil, 1, framework.Options{Snapshot: lister, Extra: extra})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(fw)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*InterPodAffinity)
}

// nodes: a and b in zone z1, c in z2.
func threeNodes() []*v1alpha1.Node {
	return []*v1alpha1.Node{
		st.MakeNode("a").Zone("z1").Obj(),
		st.MakeNode("b").Zone("z1").Obj(),
		st.MakeNode("c").Zone("z2").Obj(),
	}
}

func TestFilter(t *testing.T) {
	web := func(name, node string) *v1alpha1.Pod { return st.MakePod(name).Label("app", "web").Node(node).Obj() }
	tests := []struct {
		name     string
		pod      *v1alpha1.Pod
		existing []*v1alpha1.Pod
		nodes    []*v1alpha1.Node
		// want is each node's reason, "" when it fits.
		want       map[string]string
		wantSkip   bool
		namespaces []*corev1.Namespace
	}{
		{name: "no affinity anywhere: skip",
			pod: st.MakePod("p").Obj(), existing: []*v1alpha1.Pod{web("w", "a")}, wantSkip: true},
		{name: "required anti-affinity on hostname keeps off the node with a match",
			pod:      st.MakePod("p").Label("app", "web").PodAntiAffinity(st.PodAffinityTerm(hostname, "app", "web")).Obj(),
			existing: []*v1alpha1.Pod{web("w", "a")},
			want:     map[string]string{"a": ErrReasonAntiAffinityRulesNotMatch, "b": "", "c": ""}},
		{name: "required anti-affinity on zone keeps off the whole zone",
			pod:      st.MakePod("p").PodAntiAffinity(st.PodAffinityTerm(zone, "app", "web")).Obj(),
			existing: []*v1alpha1.Pod{web("w", "a")},
			want:     map[string]string{"a": ErrReasonAntiAffinityRulesNotMatch, "b": ErrReasonAntiAffinityRulesNotMatch, "c": ""}},
		{name: "required affinity on zone goes to the zone with a match",
			pod:      st.MakePod("p").PodAffinity(st.PodAffinityTerm(zone, "app", "web")).Obj(),
			existing: []*v1alpha1.Pod{web("w", "c")},
			want:     map[string]string{"a": ErrReasonAffinityRulesNotMatch, "b": ErrReasonAffinityRulesNotMatch, "c": ""}},
		{name: "required affinity with no match anywhere: the first pod of a group matching itself fits",
			pod:  st.MakePod("p").Label("app", "web").PodAffinity(st.PodAffinityTerm(zone, "app", "web")).Obj(),
			want: map[string]string{"a": "", "b": "", "c": ""}},
		{name: "required affinity with no match anywhere, not matching itself: nowhere",
			pod:  st.MakePod("p").PodAffinity(st.PodAffinityTerm(zone, "app", "web")).Obj(),
			want: map[string]string{"a": ErrReasonAffinityRulesNotMatch, "b": ErrReasonAffinityRulesNotMatch, "c": ErrReasonAffinityRulesNotMatch}},
		{name: "a node without the topology key never satisfies affinity",
			pod:      st.MakePod("p").Label("app", "web").PodAffinity(st.PodAffinityTerm("rack", "app", "web")).Obj(),
			existing: []*v1alpha1.Pod{web("w", "a")},
			nodes:    []*v1alpha1.Node{st.MakeNode("a").Label("rack", "r1").Obj(), st.MakeNode("b").Obj()},
			want:     map[string]string{"a": "", "b": ErrReasonAffinityRulesNotMatch}},
		{name: "existing pod's anti-affinity keeps the incoming pod away",
			pod: st.MakePod("p").Label("app", "db").Obj(),
			existing: []*v1alpha1.Pod{st.MakePod("lonely").Node("b").
				PodAntiAffinity(st.PodAffinityTerm(zone, "app", "db")).Obj()},
			want: map[string]string{"a": ErrReasonExistingAntiAffinityRulesNotMatch, "b": ErrReasonExistingAntiAffinityRulesNotMatch, "c": ""}},
		{name: "pods in other namespaces do not count by default",
			pod:      st.MakePod("p").PodAntiAffinity(st.PodAffinityTerm(hostname, "app", "web")).Obj(),
			existing: []*v1alpha1.Pod{st.MakePod("w").Namespace("other").Label("app", "web").Node("a").Obj()},
			want:     map[string]string{"a": "", "b": "", "c": ""}},
		{name: "namespaces lists the namespaces that count",
			pod: st.MakePod("p").PodAntiAffinity(func() v1alpha1.PodAffinityTerm {
				t := st.PodAffinityTerm(hostname, "app", "web")
				t.Namespaces = []string{"other"}
				return t
			}()).Obj(),
			existing: []*v1alpha1.Pod{st.MakePod("w").Namespace("other").Label("app", "web").Node("a").Obj(), web("w2", "b")},
			want:     map[string]string{"a": ErrReasonAntiAffinityRulesNotMatch, "b": "", "c": ""}},
		{name: "an empty namespaceSelector selects every namespace",
			pod: st.MakePod("p").PodAntiAffinity(func() v1alpha1.PodAffinityTerm {
				t := st.PodAffinityTerm(hostname, "app", "web")
				t.NamespaceSelector = &metav1.LabelSelector{}
				return t
			}()).Obj(),
			existing: []*v1alpha1.Pod{st.MakePod("w").Namespace("other").Label("app", "web").Node("a").Obj(), web("w2", "b")},
			want:     map[string]string{"a": ErrReasonAntiAffinityRulesNotMatch, "b": ErrReasonAntiAffinityRulesNotMatch, "c": ""}},
		{name: "a namespaceSelector matches the core/v1 Namespaces' labels",
			pod: st.MakePod("p").PodAntiAffinity(func() v1alpha1.PodAffinityTerm {
				t := st.PodAffinityTerm(hostname, "app", "web")
				t.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}
				return t
			}()).Obj(),
			existing: []*v1alpha1.Pod{
				st.MakePod("w1").Namespace("prod").Label("app", "web").Node("a").Obj(),
				st.MakePod("w2").Namespace("dev").Label("app", "web").Node("b").Obj(),
			},
			namespaces: []*corev1.Namespace{
				{ObjectMeta: metav1.ObjectMeta{Name: "prod", Labels: map[string]string{"env": "prod"}}},
				{ObjectMeta: metav1.ObjectMeta{Name: "dev", Labels: map[string]string{"env": "dev"}}},
			},
			want: map[string]string{"a": ErrReasonAntiAffinityRulesNotMatch, "b": "", "c": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := tt.nodes
			if nodes == nil {
				nodes = threeNodes()
			}
			lister := st.Snapshot(nodes, tt.existing)
			p := newPlugin(t, lister, tt.namespaces...)
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

func TestAddRemovePodUpdatesTheCounts(t *testing.T) {
	nodes := threeNodes()
	lister := st.Snapshot(nodes, nil)
	p := newPlugin(t, lister)
	pod := st.MakePod("p").Label("app", "web").PodAntiAffinity(st.PodAffinityTerm(hostname, "app", "web")).Obj()
	ctx, state := context.Background(), framework.NewCycleState()
	if _, s := p.PreFilter(ctx, state, pod); !s.IsSuccess() {
		t.Fatal(s.AsError())
	}
	a := lister[0]
	other := framework.NewPodInfo(st.MakePod("w").Label("app", "web").Node("a").Obj())
	copied := state.Clone()
	if s := p.AddPod(ctx, copied, pod, other, a); !s.IsSuccess() {
		t.Fatal(s.AsError())
	}
	if s := p.Filter(ctx, copied, pod, a); s.Message() != ErrReasonAntiAffinityRulesNotMatch {
		t.Errorf("after AddPod: %q, want the anti-affinity reason", s.Message())
	}
	if s := p.Filter(ctx, state, pod, a); !s.IsSuccess() {
		t.Errorf("the original state changed with its clone: %q", s.Message())
	}
	if s := p.RemovePod(ctx, copied, pod, other, a); !s.IsSuccess() {
		t.Fatal(s.AsError())
	}
	if s := p.Filter(ctx, copied, pod, a); !s.IsSuccess() {
		t.Errorf("after RemovePod: %q, want a fit", s.Message())
	}
}

func TestScore(t *testing.T) {
	web := func(name, node string) *v1alpha1.Pod { return st.MakePod(name).Label("app", "web").Node(node).Obj() }
	tests := []struct {
		name     string
		pod      *v1alpha1.Pod
		existing []*v1alpha1.Pod
		want     map[string]int64
	}{
		{name: "preferred affinity to a zone",
			pod:      st.MakePod("p").PreferredPodAffinity(5, st.PodAffinityTerm(zone, "app", "web")).Obj(),
			existing: []*v1alpha1.Pod{web("w", "c")},
			want:     map[string]int64{"a": 0, "b": 0, "c": 100}},
		{name: "preferred anti-affinity on hostname",
			pod:      st.MakePod("p").PreferredPodAntiAffinity(5, st.PodAffinityTerm(hostname, "app", "web")).Obj(),
			existing: []*v1alpha1.Pod{web("w", "a")},
			want:     map[string]int64{"a": 0, "b": 100, "c": 100}},
		{name: "an existing pod's required affinity attracts the pods it matches",
			pod: st.MakePod("p").Label("app", "cache").Obj(),
			existing: []*v1alpha1.Pod{st.MakePod("w").Node("b").
				PodAffinity(st.PodAffinityTerm(hostname, "app", "cache")).Obj()},
			want: map[string]int64{"a": 0, "b": 100, "c": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lister := st.Snapshot(threeNodes(), tt.existing)
			p := newPlugin(t, lister)
			ctx, state := context.Background(), framework.NewCycleState()
			if s := p.PreScore(ctx, state, tt.pod, lister); !s.IsSuccess() {
				t.Fatalf("PreScore: %v", s.Code())
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

func TestQueueingHints(t *testing.T) {
	p := newPlugin(t, st.Snapshot(nil, nil))
	withAffinity := st.MakePod("p").PodAffinity(st.PodAffinityTerm(zone, "app", "web")).Obj()
	withAnti := st.MakePod("q").PodAntiAffinity(st.PodAffinityTerm(hostname, "app", "web")).Obj()
	web := st.MakePod("w").Label("app", "web").Node("a").Obj()
	db := st.MakePod("d").Label("app", "db").Node("a").Obj()
	tests := []struct {
		name           string
		pod            *v1alpha1.Pod
		oldObj, newObj any
		node           bool
		want           framework.QueueingHint
	}{
		{"a matching pod added helps affinity", withAffinity, nil, web, false, framework.Queue},
		{"another pod added does not", withAffinity, nil, db, false, framework.QueueSkip},
		{"a matching pod deleted helps anti-affinity", withAnti, web, nil, false, framework.Queue},
		{"another pod deleted does not", withAnti, db, nil, false, framework.QueueSkip},
		{"a node gaining the topology key helps", withAffinity, st.MakeNode("a").Obj(), st.MakeNode("a").Zone("z1").Obj(), true, framework.Queue},
		{"a node changing another label does not", withAffinity, st.MakeNode("a").Zone("z1").Obj(), st.MakeNode("a").Zone("z1").Label("x", "y").Obj(), true, framework.QueueSkip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := p.isSchedulableAfterPodChange
			if tt.node {
				fn = p.isSchedulableAfterNodeChange
			}
			old, nw := tt.oldObj, tt.newObj
			got, err := fn(klog.Background(), tt.pod, old, nw)
			if err != nil || got != tt.want {
				t.Errorf("hint = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
