package replicaset

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"skiff.dev/skiff/pkg/apis/apps"
	"skiff.dev/skiff/pkg/apis/apps/install"
	"skiff.dev/skiff/pkg/apis/core"
)

func testScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	install.Install(s)
	return s
}

func storedReplicaSet() *apps.ReplicaSet {
	labels := map[string]string{"app": "web", "pod-template-hash": "5d8f"}
	return &apps.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-5d8f", Namespace: "default", Generation: 2, ResourceVersion: "7", Labels: labels},
		Spec: apps.ReplicaSetSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: core.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: core.PodSpec{
					Containers: []core.Container{
						{Name: "main", Image: "busybox:1.36", ImagePullPolicy: core.PullIfNotPresent},
						{Name: "sidecar", Image: "envoy:1", ImagePullPolicy: core.PullIfNotPresent},
					},
					RestartPolicy: core.RestartPolicyAlways,
				},
			},
		},
		Status: apps.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 2, ObservedGeneration: 2},
	}
}

func TestStrategy(t *testing.T) {
	ctx := context.Background()
	s := NewStrategy(testScheme())

	created := storedReplicaSet()
	s.PrepareForCreate(ctx, created)
	if created.Generation != 1 || created.Status.Replicas != 0 {
		t.Errorf("created: generation %d status %+v, want 1 and an empty status", created.Generation, created.Status)
	}

	tests := []struct {
		name           string
		mutate         func(*apps.ReplicaSet)
		wantGeneration int64
	}{
		{name: "a label change", mutate: func(rs *apps.ReplicaSet) { rs.Labels["x"] = "y" }, wantGeneration: 2},
		{name: "an annotation", mutate: func(rs *apps.ReplicaSet) {
			rs.Annotations = map[string]string{"deployment.kubernetes.io/revision": "3"}
		}, wantGeneration: 2},
		{name: "scaling", mutate: func(rs *apps.ReplicaSet) { rs.Spec.Replicas = ptr.To[int32](0) }, wantGeneration: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := storedReplicaSet()
			rs := old.DeepCopy()
			tc.mutate(rs)
			rs.Status = apps.ReplicaSetStatus{}
			s.PrepareForUpdate(ctx, rs, old)
			if rs.Generation != tc.wantGeneration || rs.Status.Replicas != 3 {
				t.Errorf("generation %d status.replicas %d, want %d and the stored 3", rs.Generation, rs.Status.Replicas, tc.wantGeneration)
			}
			if errs := s.ValidateUpdate(ctx, rs, old); len(errs) != 0 {
				t.Errorf("valid update refused: %v", errs)
			}
		})
	}

	t.Run("status ignores the spec", func(t *testing.T) {
		old := storedReplicaSet()
		rs := old.DeepCopy()
		rs.Spec.Replicas = ptr.To[int32](9)
		rs.Status.ReadyReplicas = 3
		rs.Status.AvailableReplicas = 3
		status := NewStatusStrategy(s)
		status.PrepareForUpdate(ctx, rs, old)
		if *rs.Spec.Replicas != 3 || rs.Status.ReadyReplicas != 3 || rs.Generation != 2 {
			t.Errorf("replicas %d ready %d generation %d, want 3, 3, 2", *rs.Spec.Replicas, rs.Status.ReadyReplicas, rs.Generation)
		}
	})

	t.Run("the selector is immutable", func(t *testing.T) {
		old := storedReplicaSet()
		rs := old.DeepCopy()
		rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
		errs := s.ValidateUpdate(ctx, rs, old)
		if len(errs) != 1 || errs[0].Field != "spec.selector" {
			t.Errorf("errors %v, want one at spec.selector", errs)
		}
	})
}

func TestSelectableFields(t *testing.T) {
	_, fields, err := GetAttrs(storedReplicaSet())
	if err != nil {
		t.Fatal(err)
	}
	if fields["status.replicas"] != "3" || fields["metadata.name"] != "web-5d8f" {
		t.Errorf("fields %v", fields)
	}
}

func TestTable(t *testing.T) {
	table, err := tableConvertor.ConvertToTable(context.Background(), &apps.ReplicaSetList{Items: []apps.ReplicaSet{*storedReplicaSet()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
	}
	if want := []string{"Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"}; !slices.Equal(names, want) {
		t.Errorf("columns %v, want %v", names, want)
	}
	cells := table.Rows[0].Cells
	want := []interface{}{"web-5d8f", int64(3), int64(3), int64(2), "<unknown>", "main,sidecar", "busybox:1.36,envoy:1", "app=web,pod-template-hash=5d8f"}
	for i := range want {
		if cells[i] != want[i] {
			t.Errorf("cell %s = %#v, want %#v", names[i], cells[i], want[i])
		}
	}
}
