package pod

import (
	"context"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/storage"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/install"
)

func testScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	install.Install(s)
	return s
}

func ptrTo[T any](v T) *T { return &v }

// storedPod is a pod as it sits in storage after a kubelet has reported on it.
func storedPod() *core.Pod {
	now := metav1.Now()
	return &core.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "default", Generation: 3, ResourceVersion: "10",
			Labels: map[string]string{"app": "web"},
		},
		Spec: core.PodSpec{
			Containers:                    []core.Container{{Name: "c", Image: "nginx:1", ImagePullPolicy: core.PullIfNotPresent}},
			RestartPolicy:                 core.RestartPolicyAlways,
			TerminationGracePeriodSeconds: ptrTo[int64](30),
			NodeName:                      "n1",
			SchedulerName:                 "skiff-scheduler",
		},
		Status: core.PodStatus{
			Phase:     core.PodRunning,
			PodIP:     "10.0.0.5",
			StartTime: &now,
			Conditions: []core.PodCondition{
				{Type: core.PodScheduled, Status: core.ConditionTrue},
			},
		},
	}
}

func TestPodPrepareForCreateStartsPending(t *testing.T) {
	s := NewStrategy(testScheme())
	pod := storedPod()
	pod.Generation = 7
	pod.Status.Reason = "Evicted"

	s.PrepareForCreate(context.Background(), pod)

	if want := (core.PodStatus{Phase: core.PodPending}); !apiequality.Semantic.DeepEqual(pod.Status, want) {
		t.Errorf("status after create = %+v, want only phase Pending", pod.Status)
	}
	if pod.Generation != 1 {
		t.Errorf("generation after create = %d, want 1", pod.Generation)
	}
	if pod.Spec.NodeName != "n1" || len(pod.Spec.Containers) != 1 {
		t.Errorf("create changed the spec: %+v", pod.Spec)
	}
}

func TestPodPrepareForUpdate(t *testing.T) {
	tests := []struct {
		name           string
		change         func(p *core.Pod)
		wantGeneration int64
	}{
		{
			name:           "a metadata change keeps the generation",
			change:         func(p *core.Pod) { p.Labels["tier"] = "front" },
			wantGeneration: 3,
		},
		{
			name:           "a status change is dropped and keeps the generation",
			change:         func(p *core.Pod) { p.Status.Phase = core.PodFailed; p.Status.PodIP = "10.9.9.9" },
			wantGeneration: 3,
		},
		{
			name:           "an image change bumps the generation",
			change:         func(p *core.Pod) { p.Spec.Containers[0].Image = "nginx:2" },
			wantGeneration: 4,
		},
		{
			name: "a spec and status change bumps the generation and keeps the status",
			change: func(p *core.Pod) {
				p.Spec.Tolerations = append(p.Spec.Tolerations, core.Toleration{Key: "k", Operator: core.TolerationOpExists})
				p.Status = core.PodStatus{}
			},
			wantGeneration: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStrategy(testScheme())
			old := storedPod()
			updated := old.DeepCopy()
			tt.change(updated)
			wantSpec := updated.Spec

			s.PrepareForUpdate(context.Background(), updated, old)

			if !apiequality.Semantic.DeepEqual(updated.Status, old.Status) {
				t.Errorf("status = %+v, want the stored status %+v", updated.Status, old.Status)
			}
			if !apiequality.Semantic.DeepEqual(updated.Spec, wantSpec) {
				t.Errorf("spec = %+v, want the client's spec %+v", updated.Spec, wantSpec)
			}
			if updated.Generation != tt.wantGeneration {
				t.Errorf("generation = %d, want %d", updated.Generation, tt.wantGeneration)
			}
		})
	}
}

func TestPodStatusPrepareForUpdate(t *testing.T) {
	s := NewStatusStrategy(NewStrategy(testScheme()))
	old := storedPod()
	old.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "u1"}}

	updated := old.DeepCopy()
	updated.Spec.NodeName = "elsewhere"
	updated.Spec.Containers[0].Image = "evil:1"
	now := metav1.Now()
	updated.DeletionTimestamp = &now
	updated.OwnerReferences = nil
	updated.Labels["added"] = "by-status-writer"
	updated.Status.Phase = core.PodSucceeded
	updated.Status.PodIP = "10.0.0.6"

	s.PrepareForUpdate(context.Background(), updated, old)

	if !apiequality.Semantic.DeepEqual(updated.Spec, old.Spec) {
		t.Errorf("spec = %+v, want the stored spec %+v", updated.Spec, old.Spec)
	}
	if updated.DeletionTimestamp != nil {
		t.Errorf("deletionTimestamp = %v, want the stored nil", updated.DeletionTimestamp)
	}
	if !apiequality.Semantic.DeepEqual(updated.OwnerReferences, old.OwnerReferences) {
		t.Errorf("ownerReferences = %+v, want the stored ones", updated.OwnerReferences)
	}
	if updated.Status.Phase != core.PodSucceeded || updated.Status.PodIP != "10.0.0.6" {
		t.Errorf("status = %+v, want the new status kept", updated.Status)
	}
	if updated.Generation != old.Generation {
		t.Errorf("generation = %d, want %d: status writes do not change the spec", updated.Generation, old.Generation)
	}
}

func TestPodStatusStrategyValidatesStatus(t *testing.T) {
	s := NewStatusStrategy(NewStrategy(testScheme()))
	old := storedPod()
	updated := old.DeepCopy()
	updated.Status.Phase = "Exploded"
	if errs := s.ValidateUpdate(context.Background(), updated, old); len(errs) == 0 {
		t.Error("an unknown phase through pods/status was accepted")
	}
	ok := old.DeepCopy()
	ok.Status.Phase = core.PodSucceeded
	if errs := s.ValidateUpdate(context.Background(), ok, old); len(errs) != 0 {
		t.Errorf("a valid status update was refused: %v", errs)
	}
}

func TestPodResetFields(t *testing.T) {
	main := NewStrategy(testScheme()).GetResetFields()["core.skiff.dev/v1alpha1"]
	if main == nil || !main.Has(mustPath("status")) || main.Has(mustPath("spec")) {
		t.Errorf("main endpoint reset fields = %v, want status only", main)
	}
	status := NewStatusStrategy(NewStrategy(testScheme())).GetResetFields()["core.skiff.dev/v1alpha1"]
	if status == nil || !status.Has(mustPath("spec")) || status.Has(mustPath("status")) {
		t.Errorf("status endpoint reset fields = %v, want spec and not status", status)
	}
}

func TestPodCheckGracefulDelete(t *testing.T) {
	tests := []struct {
		name      string
		nodeName  string
		phase     core.PodPhase
		specGrace *int64
		optsGrace *int64
		want      int64
	}{
		{name: "an unbound pod goes at once", phase: core.PodPending, specGrace: ptrTo[int64](30), want: 0},
		{name: "an unbound pod goes at once even when a grace is asked for", phase: core.PodPending, specGrace: ptrTo[int64](30), optsGrace: ptrTo[int64](60), want: 0},
		{name: "a bound pod gets its spec's grace", nodeName: "n1", phase: core.PodRunning, specGrace: ptrTo[int64](30), want: 30},
		{name: "a bound pod gets the grace the delete asks for", nodeName: "n1", phase: core.PodRunning, specGrace: ptrTo[int64](30), optsGrace: ptrTo[int64](5), want: 5},
		{name: "a bound pod deleted with grace 0 goes at once", nodeName: "n1", phase: core.PodRunning, specGrace: ptrTo[int64](30), optsGrace: ptrTo[int64](0), want: 0},
		{name: "a bound pod with no grace anywhere goes at once", nodeName: "n1", phase: core.PodRunning, want: 0},
		{name: "a succeeded pod goes at once", nodeName: "n1", phase: core.PodSucceeded, specGrace: ptrTo[int64](30), want: 0},
		{name: "a failed pod goes at once", nodeName: "n1", phase: core.PodFailed, specGrace: ptrTo[int64](30), optsGrace: ptrTo[int64](10), want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := storedPod()
			pod.Spec.NodeName = tt.nodeName
			pod.Status.Phase = tt.phase
			pod.Spec.TerminationGracePeriodSeconds = tt.specGrace
			opts := &metav1.DeleteOptions{GracePeriodSeconds: tt.optsGrace}

			graceful := NewStrategy(testScheme()).CheckGracefulDelete(context.Background(), pod, opts)

			if !graceful {
				t.Fatal("CheckGracefulDelete = false, want true: pods always take part in graceful deletion")
			}
			if opts.GracePeriodSeconds == nil || *opts.GracePeriodSeconds != tt.want {
				t.Errorf("grace period = %v, want %d", derefOr(opts.GracePeriodSeconds), tt.want)
			}
		})
	}
	t.Run("no delete options means not graceful", func(t *testing.T) {
		if NewStrategy(testScheme()).CheckGracefulDelete(context.Background(), storedPod(), nil) {
			t.Error("CheckGracefulDelete(nil options) = true, want false")
		}
	})
}

func mustPath(parts ...interface{}) fieldpath.Path { return fieldpath.MakePathOrDie(parts...) }

func derefOr(p *int64) interface{} {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func TestPodSelectableFields(t *testing.T) {
	pod := storedPod()
	gotLabels, gotFields, err := GetAttrs(pod)
	if err != nil {
		t.Fatalf("GetAttrs: %v", err)
	}
	if gotLabels.Get("app") != "web" {
		t.Errorf("labels = %v, want app=web", gotLabels)
	}
	want := fields.Set{
		"metadata.name":      "web",
		"metadata.namespace": "default",
		"spec.nodeName":      "n1",
		"spec.schedulerName": "skiff-scheduler",
		"status.phase":       "Running",
	}
	if !apiequality.Semantic.DeepEqual(gotFields, want) {
		t.Errorf("fields = %v, want %v", gotFields, want)
	}
	if _, _, err := GetAttrs(&core.Node{}); err == nil {
		t.Error("GetAttrs(node) returned no error")
	}
}

func TestMatchPod(t *testing.T) {
	pod := storedPod()
	tests := []struct {
		label, field string
		want         bool
	}{
		{field: "spec.nodeName=n1", want: true},
		{field: "spec.nodeName=n2", want: false},
		{field: "spec.nodeName=", want: false},
		{field: "status.phase=Running,spec.schedulerName=skiff-scheduler", want: true},
		{field: "status.phase!=Running", want: false},
		{field: "metadata.name=web", want: true},
		{label: "app=web", field: "spec.nodeName=n1", want: true},
		{label: "app=db", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.label+"|"+tt.field, func(t *testing.T) {
			ls, err := labels.Parse(tt.label)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := fields.ParseSelector(tt.field)
			if err != nil {
				t.Fatal(err)
			}
			predicate := MatchPod(ls, fs)
			got, err := predicate.Matches(pod)
			if err != nil {
				t.Fatalf("Matches: %v", err)
			}
			if got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNodeNameIndex(t *testing.T) {
	pod := storedPod()
	got, err := NodeNameIndexFunc(pod)
	if err != nil || len(got) != 1 || got[0] != "n1" {
		t.Errorf("NodeNameIndexFunc(bound pod) = %v, %v; want [n1]", got, err)
	}
	pod.Spec.NodeName = ""
	got, err = NodeNameIndexFunc(pod)
	if err != nil || len(got) != 1 || got[0] != "" {
		t.Errorf("NodeNameIndexFunc(unbound pod) = %v, %v; want [\"\"]", got, err)
	}
	if _, err := NodeNameIndexFunc(&core.Node{}); err == nil {
		t.Error("NodeNameIndexFunc(node) returned no error")
	}
	if got := NodeNameTriggerFunc(storedPod()); got != "n1" {
		t.Errorf("NodeNameTriggerFunc = %q, want n1", got)
	}
	indexers := Indexers()
	if _, ok := (*indexers)[storage.FieldIndex("spec.nodeName")]; !ok {
		t.Errorf("Indexers() = %v, want an index on spec.nodeName", *indexers)
	}
	if p := MatchPod(labels.Everything(), fields.OneTermEqualSelector("spec.nodeName", "n1")); len(p.IndexFields) != 1 || p.IndexFields[0] != "spec.nodeName" {
		t.Errorf("MatchPod index fields = %v, want [spec.nodeName]", p.IndexFields)
	}
}
