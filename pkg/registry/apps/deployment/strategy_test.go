package deployment

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"skiff.dev/skiff/pkg/apis/apps"
	"skiff.dev/skiff/pkg/apis/apps/install"
	"skiff.dev/skiff/pkg/apis/core"
)

func testScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	install.Install(s)
	return s
}

// storedDeployment is a Deployment as it sits in storage mid-rollout.
func storedDeployment() *apps.Deployment {
	surge, unavailable := intstr.FromString("25%"), intstr.FromInt32(0)
	return &apps.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "default", Generation: 4, ResourceVersion: "10",
			Labels: map[string]string{"app": "web"},
		},
		Spec: apps.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: core.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: core.PodSpec{
					Containers:    []core.Container{{Name: "main", Image: "busybox:1.36", ImagePullPolicy: core.PullIfNotPresent}},
					RestartPolicy: core.RestartPolicyAlways,
				},
			},
			Strategy: apps.DeploymentStrategy{
				Type:          apps.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &apps.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable},
			},
			RevisionHistoryLimit:    ptr.To[int32](10),
			ProgressDeadlineSeconds: ptr.To[int32](600),
		},
		Status: apps.DeploymentStatus{
			ObservedGeneration: 4, Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 3,
			Conditions: []apps.DeploymentCondition{{Type: apps.DeploymentProgressing, Status: core.ConditionTrue}},
		},
	}
}

func TestPrepareForCreateClearsStatus(t *testing.T) {
	d := storedDeployment()
	NewStrategy(testScheme()).PrepareForCreate(context.Background(), d)
	if d.Generation != 1 {
		t.Errorf("generation = %d, want 1", d.Generation)
	}
	if d.Status.Replicas != 0 || d.Status.ObservedGeneration != 0 || len(d.Status.Conditions) != 0 {
		t.Errorf("status = %+v, want it empty: only the controller reports what exists", d.Status)
	}
}

func TestPrepareForUpdate(t *testing.T) {
	tests := []struct {
		name           string
		mutate         func(*apps.Deployment)
		wantGeneration int64
	}{
		{name: "a label change", mutate: func(d *apps.Deployment) { d.Labels["tier"] = "front" }, wantGeneration: 4},
		{name: "a status change alone", mutate: func(d *apps.Deployment) { d.Status.ReadyReplicas = 0 }, wantGeneration: 4},
		{name: "a new image", mutate: func(d *apps.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "busybox:1.37" }, wantGeneration: 5},
		{name: "scaling", mutate: func(d *apps.Deployment) { d.Spec.Replicas = ptr.To[int32](5) }, wantGeneration: 5},
		{name: "pausing", mutate: func(d *apps.Deployment) { d.Spec.Paused = true }, wantGeneration: 5},
		{name: "an annotation, which the controller copies to ReplicaSets", mutate: func(d *apps.Deployment) {
			d.Annotations = map[string]string{"note": "x"}
		}, wantGeneration: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := storedDeployment()
			d := old.DeepCopy()
			tc.mutate(d)
			d.Status = apps.DeploymentStatus{Replicas: 99} // whatever the client sent
			NewStrategy(testScheme()).PrepareForUpdate(context.Background(), d, old)
			if d.Generation != tc.wantGeneration {
				t.Errorf("generation = %d, want %d", d.Generation, tc.wantGeneration)
			}
			if d.Status.Replicas != old.Status.Replicas || len(d.Status.Conditions) != 1 {
				t.Errorf("status = %+v, want the stored one", d.Status)
			}
		})
	}
}

func TestStatusStrategyKeepsSpecAndGeneration(t *testing.T) {
	s := NewStatusStrategy(NewStrategy(testScheme()))
	old := storedDeployment()
	d := old.DeepCopy()
	d.Spec.Replicas = ptr.To[int32](50)
	d.Spec.Paused = true
	d.Status.AvailableReplicas = 4
	d.Status.ReadyReplicas = 4
	s.PrepareForUpdate(context.Background(), d, old)
	if *d.Spec.Replicas != 3 || d.Spec.Paused {
		t.Errorf("spec = replicas %d paused %v, want the stored spec", *d.Spec.Replicas, d.Spec.Paused)
	}
	if d.Generation != old.Generation {
		t.Errorf("generation = %d, want %d", d.Generation, old.Generation)
	}
	if d.Status.AvailableReplicas != 4 {
		t.Errorf("status.availableReplicas = %d, want the written 4", d.Status.AvailableReplicas)
	}
	if errs := s.ValidateUpdate(context.Background(), d, old); len(errs) != 0 {
		t.Errorf("valid status update refused: %v", errs)
	}
	d.Status.AvailableReplicas = 9
	if errs := s.ValidateUpdate(context.Background(), d, old); len(errs) == 0 {
		t.Error("status with more available than ready replicas accepted")
	}
}

func TestValidateUpdateKeepsTheSelector(t *testing.T) {
	s := NewStrategy(testScheme())
	old := storedDeployment()
	d := old.DeepCopy()
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "v": "2"}}
	d.Spec.Template.Labels["v"] = "2"
	errs := s.ValidateUpdate(context.Background(), d, old)
	if len(errs) != 1 || errs[0].Field != "spec.selector" {
		t.Errorf("errors %v, want one at spec.selector", errs)
	}
}

func TestResetFields(t *testing.T) {
	main := NewStrategy(testScheme())
	status := NewStatusStrategy(main)
	gv := fieldpath.APIVersion("apps.skiff.dev/v1alpha1")
	if !main.GetResetFields()[gv].Has(fieldpath.MakePathOrDie("status")) {
		t.Error("server-side apply through the main endpoint may set status")
	}
	if !status.GetResetFields()[gv].Has(fieldpath.MakePathOrDie("spec")) {
		t.Error("server-side apply through deployments/status may set spec")
	}
}

func TestGetAttrs(t *testing.T) {
	lbls, fields, err := GetAttrs(storedDeployment())
	if err != nil {
		t.Fatal(err)
	}
	if lbls["app"] != "web" || fields["metadata.name"] != "web" || fields["metadata.namespace"] != "default" {
		t.Errorf("labels %v fields %v", lbls, fields)
	}
	if _, _, err := GetAttrs(&apps.ReplicaSet{}); err == nil {
		t.Error("GetAttrs of a ReplicaSet succeeded")
	}
}
