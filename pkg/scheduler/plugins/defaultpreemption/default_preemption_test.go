package defaultpreemption

import (
	"context"
	"reflect"
	"sort"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clienttesting "k8s.io/client-go/testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/plugins/interpodaffinity"
	"skiff.dev/skiff/pkg/scheduler/plugins/noderesourcesfit"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

func low(name, node string, prio int32, cpu string) *v1alpha1.Pod {
	return st.MakePod(name).Node(node).Priority(prio).Req(cpu, "").Obj()
}

func TestPostFilter(t *testing.T) {
	tests := []struct {
		name        string
		pod         *v1alpha1.Pod
		nodes       []*v1alpha1.Node
		existing    []*v1alpha1.Pod
		wantNode    string
		wantVictims []string
		wantMsg     string
	}{
		{name: "the node whose victims have the lowest priority",
			pod:   st.MakePod("p").Priority(100).Req("2", "").Obj(),
			nodes: []*v1alpha1.Node{st.MakeNode("a").Capacity("2", "8Gi", "110").Obj(), st.MakeNode("b").Capacity("2", "8Gi", "110").Obj()},
			existing: []*v1alpha1.Pod{low("a1", "a", 10, "1"), low("a2", "a", 10, "1"),
				low("b1", "b", 5, "1"), low("b2", "b", 5, "1")},
			wantNode: "b", wantVictims: []string{"b1", "b2"}},
		{name: "minimal victims: the more important pods are given back while the pod still fits",
			pod:   st.MakePod("p").Priority(100).Req("2", "").Obj(),
			nodes: []*v1alpha1.Node{st.MakeNode("a").Capacity("4", "8Gi", "110").Obj()},
			existing: []*v1alpha1.Pod{low("p1", "a", 1, "1"), low("p2", "a", 2, "1"),
				low("p3", "a", 3, "1")},
			wantNode: "a", wantVictims: []string{"p1"}},
		{name: "fewer victims win between equal priorities",
			pod:   st.MakePod("p").Priority(100).Req("2", "").Obj(),
			nodes: []*v1alpha1.Node{st.MakeNode("a").Capacity("2", "8Gi", "110").Obj(), st.MakeNode("b").Capacity("2", "8Gi", "110").Obj()},
			existing: []*v1alpha1.Pod{low("a1", "a", 5, "1"), low("a2", "a", 5, "1"),
				low("b1", "b", 5, "2")},
			wantNode: "b", wantVictims: []string{"b1"}},
		{name: "pods of equal or higher priority are never victims",
			pod:      st.MakePod("p").Priority(5).Req("2", "").Obj(),
			nodes:    []*v1alpha1.Node{st.MakeNode("a").Capacity("2", "8Gi", "110").Obj()},
			existing: []*v1alpha1.Pod{low("a1", "a", 5, "2")},
			wantMsg:  "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."},
		{name: "preemptionPolicy Never",
			pod:      st.MakePod("p").Priority(100).PreemptionPolicy(v1alpha1.PreemptNever).Req("2", "").Obj(),
			nodes:    []*v1alpha1.Node{st.MakeNode("a").Capacity("2", "8Gi", "110").Obj()},
			existing: []*v1alpha1.Pod{low("a1", "a", 5, "2")},
			wantMsg:  "not eligible due to preemptionPolicy=Never."},
		{name: "anti-affinity: the pod it must avoid is the victim",
			pod:      st.MakePod("p").Priority(100).PodAntiAffinity(st.PodAffinityTerm("kubernetes.io/hostname", "app", "web")).Obj(),
			nodes:    []*v1alpha1.Node{st.MakeNode("a").Zone("z").Obj()},
			existing: []*v1alpha1.Pod{st.MakePod("w").Label("app", "web").Node("a").Priority(1).Obj(), low("other", "a", 1, "1")},
			wantNode: "a", wantVictims: []string{"w"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lister := st.Snapshot(tt.nodes, tt.existing)
			var objs []runtime.Object
			for _, p := range tt.existing {
				objs = append(objs, p)
			}
			client := fake.NewSimpleClientset(objs...)
			fw, err := framework.NewFramework([]framework.Registration{
				{Plugin: noderesourcesfit.New()},
				{Factory: interpodaffinity.New, Weight: 1},
				{Factory: New},
			}, 2, framework.Options{Snapshot: lister, ClientSet: client})
			if err != nil {
				t.Fatal(err)
			}
			ctx, state := context.Background(), framework.NewCycleState()
			statuses := framework.NodeToStatus{}
			if _, s := fw.RunPreFilterPlugins(ctx, state, tt.pod); !s.IsSuccess() {
				t.Fatalf("PreFilter: %v", s.AsError())
			}
			for _, n := range lister {
				if s := fw.RunFilterPlugins(ctx, state, tt.pod, n); !s.IsSuccess() {
					statuses[n.Node().Name] = s
				}
			}
			if len(statuses) != len(lister) {
				t.Fatalf("the pod fits somewhere already: %v", statuses)
			}
			res, s := fw.RunPostFilterPlugins(ctx, state, tt.pod, statuses)
			if tt.wantMsg != "" {
				if s.IsSuccess() || s.Message() != tt.wantMsg {
					t.Fatalf("status %v %q, want %q", s.Code(), s.Message(), tt.wantMsg)
				}
				return
			}
			if !s.IsSuccess() {
				t.Fatalf("PostFilter: %v %q", s.Code(), s.Message())
			}
			if res.NominatedNodeName != tt.wantNode {
				t.Errorf("nominated %q, want %q", res.NominatedNodeName, tt.wantNode)
			}
			var deleted []string
			for _, a := range client.Actions() {
				if d, ok := a.(clienttesting.DeleteAction); ok && a.GetResource().Resource == "pods" {
					deleted = append(deleted, d.GetName())
				}
			}
			sort.Strings(deleted)
			if !reflect.DeepEqual(deleted, tt.wantVictims) {
				t.Errorf("deleted %v, want %v", deleted, tt.wantVictims)
			}
		})
	}
}

func TestPickOneNodeForPreemption(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := func(name string, prio int32, started time.Duration) *v1alpha1.Pod {
		p := st.MakePod(name).Priority(prio).Obj()
		p.Status.StartTime = &metav1.Time{Time: t0.Add(started)}
		return p
	}
	tests := []struct {
		name string
		cs   []candidate
		want string
	}{
		{"lowest highest priority", []candidate{
			{"a", []*v1alpha1.Pod{v("a1", 10, 0)}},
			{"b", []*v1alpha1.Pod{v("b1", 5, 0), v("b2", 5, 0), v("b3", 5, 0)}},
		}, "b"},
		{"then lowest sum of priorities", []candidate{
			{"a", []*v1alpha1.Pod{v("a1", 5, 0), v("a2", 4, 0)}},
			{"b", []*v1alpha1.Pod{v("b1", 5, 0), v("b2", 1, 0)}},
		}, "b"},
		{"then fewest victims", []candidate{
			{"a", []*v1alpha1.Pod{v("a1", 5, 0), v("a2", 5, 0)}},
			{"b", []*v1alpha1.Pod{v("b1", 5, 0)}},
		}, "b"},
		{"then the latest started highest-priority victims", []candidate{
			{"a", []*v1alpha1.Pod{v("a1", 5, 0)}},
			{"b", []*v1alpha1.Pod{v("b1", 5, time.Hour)}},
		}, "b"},
		{"then the first", []candidate{
			{"a", []*v1alpha1.Pod{v("a1", 5, 0)}},
			{"b", []*v1alpha1.Pod{v("b1", 5, 0)}},
		}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pickOneNodeForPreemption(tt.cs); got.node != tt.want {
				t.Errorf("picked %s, want %s", got.node, tt.want)
			}
		})
	}
}
