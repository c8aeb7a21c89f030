package node

import (
	"context"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/install"
)

func testScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	install.Install(s)
	return s
}

// registeredNode is a node as its kubelet registers it: with a status.
func registeredNode() *core.Node {
	return &core.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", Generation: 2, Labels: map[string]string{"zone": "a"}},
		Spec:       core.NodeSpec{Taints: []core.Taint{{Key: "dedicated", Value: "gpu", Effect: core.TaintEffectNoSchedule}}},
		Status: core.NodeStatus{
			Capacity:        core.ResourceList{core.ResourceCPU: resource.MustParse("4"), core.ResourcePods: resource.MustParse("110")},
			Conditions:      []core.NodeCondition{{Type: core.NodeReady, Status: core.ConditionTrue}},
			Addresses:       []core.NodeAddress{{Type: core.NodeInternalIP, Address: "192.168.1.10"}},
			DaemonEndpoints: core.NodeDaemonEndpoints{KubeletEndpoint: core.DaemonEndpoint{Port: 10250}},
		},
	}
}

func TestNodePrepareForCreateKeepsStatus(t *testing.T) {
	node := registeredNode()
	want := node.Status.DeepCopy()
	NewStrategy(testScheme()).PrepareForCreate(context.Background(), node)
	if !apiequality.Semantic.DeepEqual(node.Status, *want) {
		t.Errorf("status after create = %+v, want the registered status %+v", node.Status, *want)
	}
	if node.Generation != 1 {
		t.Errorf("generation after create = %d, want 1", node.Generation)
	}
}

func TestNodePrepareForUpdate(t *testing.T) {
	tests := []struct {
		name           string
		change         func(n *core.Node)
		wantGeneration int64
	}{
		{name: "a label change keeps the generation", change: func(n *core.Node) { n.Labels["zone"] = "b" }, wantGeneration: 2},
		{name: "a status change is dropped", change: func(n *core.Node) {
			n.Status.Conditions[0].Status = core.ConditionFalse
			n.Status.Addresses = nil
		}, wantGeneration: 2},
		{name: "cordoning bumps the generation", change: func(n *core.Node) { n.Spec.Unschedulable = true }, wantGeneration: 3},
		{name: "removing a taint bumps the generation", change: func(n *core.Node) { n.Spec.Taints = nil }, wantGeneration: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := registeredNode()
			updated := old.DeepCopy()
			tt.change(updated)
			wantSpec := updated.Spec

			NewStrategy(testScheme()).PrepareForUpdate(context.Background(), updated, old)

			if !apiequality.Semantic.DeepEqual(updated.Status, old.Status) {
				t.Errorf("status = %+v, want the stored status", updated.Status)
			}
			if !apiequality.Semantic.DeepEqual(updated.Spec, wantSpec) {
				t.Errorf("spec = %+v, want the client's %+v", updated.Spec, wantSpec)
			}
			if updated.Generation != tt.wantGeneration {
				t.Errorf("generation = %d, want %d", updated.Generation, tt.wantGeneration)
			}
		})
	}
}

func TestNodeStatusPrepareForUpdate(t *testing.T) {
	old := registeredNode()
	updated := old.DeepCopy()
	updated.Spec.Unschedulable = true
	updated.Spec.Taints = nil
	updated.Status.Conditions[0].Status = core.ConditionFalse

	NewStatusStrategy(NewStrategy(testScheme())).PrepareForUpdate(context.Background(), updated, old)

	if !apiequality.Semantic.DeepEqual(updated.Spec, old.Spec) {
		t.Errorf("spec = %+v, want the stored spec %+v: a kubelet may not lift its own taints", updated.Spec, old.Spec)
	}
	if updated.Status.Conditions[0].Status != core.ConditionFalse {
		t.Errorf("status = %+v, want the new status kept", updated.Status)
	}
	if updated.Generation != old.Generation {
		t.Errorf("generation = %d, want %d", updated.Generation, old.Generation)
	}
}

func TestNodeResetFields(t *testing.T) {
	main := NewStrategy(testScheme()).GetResetFields()["core.skiff.dev/v1alpha1"]
	status := NewStatusStrategy(NewStrategy(testScheme())).GetResetFields()["core.skiff.dev/v1alpha1"]
	if main == nil || main.String() != ".status" {
		t.Errorf("main endpoint reset fields = %v, want .status", main)
	}
	if status == nil || status.String() != ".spec" {
		t.Errorf("status endpoint reset fields = %v, want .spec", status)
	}
}

func TestNodeSelectableFields(t *testing.T) {
	node := registeredNode()
	node.Spec.Unschedulable = true
	ls, fs, err := GetAttrs(node)
	if err != nil {
		t.Fatalf("GetAttrs: %v", err)
	}
	if ls.Get("zone") != "a" {
		t.Errorf("labels = %v", ls)
	}
	want := fields.Set{"metadata.name": "n1", "spec.unschedulable": "true"}
	if !apiequality.Semantic.DeepEqual(fs, want) {
		t.Errorf("fields = %v, want %v", fs, want)
	}
	predicate := MatchNode(labels.Everything(), fields.OneTermEqualSelector("spec.unschedulable", "false"))
	if ok, err := predicate.Matches(node); err != nil || ok {
		t.Errorf("a cordoned node matched spec.unschedulable=false (err %v)", err)
	}
	if _, _, err := GetAttrs(&core.Pod{}); err == nil {
		t.Error("GetAttrs(pod) returned no error")
	}
}
