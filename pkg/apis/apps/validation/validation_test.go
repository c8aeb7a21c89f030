package validation

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"skiff.dev/skiff/pkg/apis/apps"
	"skiff.dev/skiff/pkg/apis/core"
)

func validTemplate() core.PodTemplateSpec {
	return core.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: core.PodSpec{
			Containers:    []core.Container{{Name: "main", Image: "busybox:1.36", ImagePullPolicy: core.PullIfNotPresent}},
			RestartPolicy: core.RestartPolicyAlways,
		},
	}
}

// validDeployment is a Deployment as defaulting leaves it.
func validDeployment() *apps.Deployment {
	surge, unavailable := intstr.FromString("25%"), intstr.FromString("25%")
	return &apps.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "1"},
		Spec: apps.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: validTemplate(),
			Strategy: apps.DeploymentStrategy{
				Type:          apps.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &apps.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable},
			},
			RevisionHistoryLimit:    ptr.To[int32](10),
			ProgressDeadlineSeconds: ptr.To[int32](600),
		},
	}
}

func validReplicaSet() *apps.ReplicaSet {
	return &apps.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-5d8f", Namespace: "default", ResourceVersion: "1"},
		Spec: apps.ReplicaSetSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: validTemplate(),
		},
	}
}

// expectFields fails unless errs are exactly at the wanted field paths.
func expectFields(t *testing.T, errs field.ErrorList, want ...string) {
	t.Helper()
	got := map[string]bool{}
	for _, e := range errs {
		got[e.Field] = true
	}
	for _, f := range want {
		if !got[f] {
			t.Errorf("no error at %s; errors: %v", f, errs)
		}
		delete(got, f)
	}
	for f := range got {
		t.Errorf("unexpected error at %s; errors: %v", f, errs)
	}
}

func intOrString(s string) *intstr.IntOrString {
	v := intstr.Parse(s)
	return &v
}

func TestValidateDeployment(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*apps.Deployment)
		fields []string
	}{
		{name: "a valid deployment", mutate: func(*apps.Deployment) {}},
		{name: "a Recreate deployment", mutate: func(d *apps.Deployment) {
			d.Spec.Strategy = apps.DeploymentStrategy{Type: apps.RecreateDeploymentStrategyType}
		}},
		{name: "zero replicas", mutate: func(d *apps.Deployment) { d.Spec.Replicas = ptr.To[int32](0) }},
		{name: "a selector by expression", mutate: func(d *apps.Deployment) {
			d.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "api"}}}}
		}},
		{name: "an integer maxSurge with zero maxUnavailable", mutate: func(d *apps.Deployment) {
			d.Spec.Strategy.RollingUpdate = &apps.RollingUpdateDeployment{MaxSurge: intOrString("1"), MaxUnavailable: intOrString("0")}
		}},
		{name: "a bad name", mutate: func(d *apps.Deployment) { d.Name = "Web_1" }, fields: []string{"metadata.name"}},
		{name: "negative replicas", mutate: func(d *apps.Deployment) { d.Spec.Replicas = ptr.To[int32](-1) }, fields: []string{"spec.replicas"}},
		{name: "no selector", mutate: func(d *apps.Deployment) { d.Spec.Selector = nil }, fields: []string{"spec.selector"}},
		{name: "an empty selector", mutate: func(d *apps.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }, fields: []string{"spec.selector"}},
		{name: "an invalid selector", mutate: func(d *apps.Deployment) {
			d.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near"}}}
		}, fields: []string{"spec.selector.matchExpressions[0].operator"}},
		{name: "a selector that does not match the template", mutate: func(d *apps.Deployment) {
			d.Spec.Template.Labels = map[string]string{"app": "api"}
		}, fields: []string{"spec.template.metadata.labels"}},
		{name: "an invalid container under the template", mutate: func(d *apps.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image = ""
			d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, core.Container{Name: "main", Image: "x", ImagePullPolicy: core.PullAlways})
		}, fields: []string{"spec.template.spec.containers[0].image", "spec.template.spec.containers[1].name"}},
		{name: "no containers in the template", mutate: func(d *apps.Deployment) { d.Spec.Template.Spec.Containers = nil },
			fields: []string{"spec.template.spec.containers"}},
		{name: "a template that does not restart its pods", mutate: func(d *apps.Deployment) {
			d.Spec.Template.Spec.RestartPolicy = core.RestartPolicyOnFailure
		}, fields: []string{"spec.template.spec.restartPolicy"}},
		{name: "a bad template label", mutate: func(d *apps.Deployment) { d.Spec.Template.Labels["bad key!"] = "x" },
			fields: []string{"spec.template.metadata.labels"}},
		{name: "maxSurge and maxUnavailable both zero", mutate: func(d *apps.Deployment) {
			d.Spec.Strategy.RollingUpdate = &apps.RollingUpdateDeployment{MaxSurge: intOrString("0%"), MaxUnavailable: intOrString("0")}
		}, fields: []string{"spec.strategy.rollingUpdate.maxUnavailable"}},
		{name: "maxUnavailable over 100%", mutate: func(d *apps.Deployment) { d.Spec.Strategy.RollingUpdate.MaxUnavailable = intOrString("150%") },
			fields: []string{"spec.strategy.rollingUpdate.maxUnavailable"}},
		{name: "a negative maxSurge", mutate: func(d *apps.Deployment) { d.Spec.Strategy.RollingUpdate.MaxSurge = intOrString("-1") },
			fields: []string{"spec.strategy.rollingUpdate.maxSurge"}},
		{name: "a maxSurge that is neither number nor percentage", mutate: func(d *apps.Deployment) { d.Spec.Strategy.RollingUpdate.MaxSurge = intOrString("lots") },
			fields: []string{"spec.strategy.rollingUpdate.maxSurge"}},
		{name: "Recreate with rolling update parameters", mutate: func(d *apps.Deployment) { d.Spec.Strategy.Type = apps.RecreateDeploymentStrategyType },
			fields: []string{"spec.strategy.rollingUpdate"}},
		{name: "an unknown strategy", mutate: func(d *apps.Deployment) { d.Spec.Strategy.Type = "BlueGreen" },
			fields: []string{"spec.strategy.type"}},
		{name: "a negative revisionHistoryLimit", mutate: func(d *apps.Deployment) { d.Spec.RevisionHistoryLimit = ptr.To[int32](-1) },
			fields: []string{"spec.revisionHistoryLimit"}},
		{name: "a negative minReadySeconds", mutate: func(d *apps.Deployment) { d.Spec.MinReadySeconds = -1 },
			fields: []string{"spec.minReadySeconds"}},
		{name: "a progress deadline not past minReadySeconds", mutate: func(d *apps.Deployment) {
			d.Spec.MinReadySeconds = 600
		}, fields: []string{"spec.progressDeadlineSeconds"}},
		{name: "valid pod anti-affinity and spread in the template", mutate: func(d *apps.Deployment) {
			d.Spec.Template.Spec.Affinity = &core.Affinity{PodAntiAffinity: &core.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []core.PodAffinityTerm{{LabelSelector: d.Spec.Selector, TopologyKey: "kubernetes.io/hostname"}},
			}}
			d.Spec.Template.Spec.TopologySpreadConstraints = []core.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: core.DoNotSchedule, LabelSelector: d.Spec.Selector,
			}}
			d.Spec.Template.Spec.PriorityClassName = "high"
		}},
		{name: "template pod affinity and spread are validated as a pod's", mutate: func(d *apps.Deployment) {
			d.Spec.Template.Spec.Affinity = &core.Affinity{PodAntiAffinity: &core.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []core.PodAffinityTerm{{TopologyKey: "kubernetes.io/hostname"}},
			}}
			d.Spec.Template.Spec.TopologySpreadConstraints = []core.TopologySpreadConstraint{{
				MaxSkew: 0, TopologyKey: "", WhenUnsatisfiable: core.ScheduleAnyway, MinDomains: ptr.To[int32](2),
			}}
		}, fields: []string{
			"spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector",
			"spec.template.spec.topologySpreadConstraints[0].maxSkew",
			"spec.template.spec.topologySpreadConstraints[0].topologyKey",
			"spec.template.spec.topologySpreadConstraints[0].minDomains",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := validDeployment()
			tc.mutate(d)
			expectFields(t, ValidateDeployment(d), tc.fields...)
		})
	}
}

func TestValidateDeploymentUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*apps.Deployment)
		fields []string
	}{
		{name: "a new image and replica count", mutate: func(d *apps.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image = "busybox:1.37"
			d.Spec.Replicas = ptr.To[int32](10)
		}},
		{name: "paused", mutate: func(d *apps.Deployment) { d.Spec.Paused = true }},
		{name: "a changed selector", mutate: func(d *apps.Deployment) {
			d.Spec.Selector.MatchLabels["tier"] = "front"
			d.Spec.Template.Labels["tier"] = "front"
		}, fields: []string{"spec.selector"}},
		{name: "an invalid update still reports the spec", mutate: func(d *apps.Deployment) { d.Spec.Replicas = ptr.To[int32](-5) },
			fields: []string{"spec.replicas"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validDeployment()
			d := old.DeepCopy()
			tc.mutate(d)
			expectFields(t, ValidateDeploymentUpdate(d, old), tc.fields...)
		})
	}
}

func TestValidateDeploymentStatusUpdate(t *testing.T) {
	tests := []struct {
		name   string
		status apps.DeploymentStatus
		fields []string
	}{
		{name: "a rollout in progress", status: apps.DeploymentStatus{
			ObservedGeneration: 2, Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 3, UnavailableReplicas: 1,
			Conditions: []apps.DeploymentCondition{
				{Type: apps.DeploymentAvailable, Status: core.ConditionTrue},
				{Type: apps.DeploymentProgressing, Status: core.ConditionTrue, Reason: "ReplicaSetUpdated"},
			},
			CollisionCount: ptr.To[int32](1),
		}},
		{name: "negative counts", status: apps.DeploymentStatus{UnavailableReplicas: -1, ObservedGeneration: -1, CollisionCount: ptr.To[int32](-1)},
			fields: []string{"status.unavailableReplicas", "status.observedGeneration", "status.collisionCount"}},
		{name: "more available than ready", status: apps.DeploymentStatus{Replicas: 3, ReadyReplicas: 1, AvailableReplicas: 2},
			fields: []string{"status.availableReplicas"}},
		{name: "more updated than replicas", status: apps.DeploymentStatus{Replicas: 1, UpdatedReplicas: 2},
			fields: []string{"status.updatedReplicas"}},
		{name: "a condition twice, and one without a status", status: apps.DeploymentStatus{Conditions: []apps.DeploymentCondition{
			{Type: apps.DeploymentAvailable, Status: core.ConditionTrue},
			{Type: apps.DeploymentAvailable, Status: core.ConditionFalse},
			{Type: apps.DeploymentProgressing},
		}}, fields: []string{"status.conditions[1].type", "status.conditions[2].status"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validDeployment()
			d := old.DeepCopy()
			d.Status = tc.status
			expectFields(t, ValidateDeploymentStatusUpdate(d, old), tc.fields...)
		})
	}

	t.Run("the collision count never goes back", func(t *testing.T) {
		old := validDeployment()
		old.Status.CollisionCount = ptr.To[int32](2)
		d := old.DeepCopy()
		d.Status.CollisionCount = ptr.To[int32](1)
		expectFields(t, ValidateDeploymentStatusUpdate(d, old), "status.collisionCount")
	})
}

func TestValidateReplicaSet(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*apps.ReplicaSet)
		fields []string
	}{
		{name: "a valid ReplicaSet", mutate: func(*apps.ReplicaSet) {}},
		{name: "negative replicas", mutate: func(rs *apps.ReplicaSet) { rs.Spec.Replicas = ptr.To[int32](-1) }, fields: []string{"spec.replicas"}},
		{name: "no replicas at all", mutate: func(rs *apps.ReplicaSet) { rs.Spec.Replicas = nil }, fields: []string{"spec.replicas"}},
		{name: "a negative minReadySeconds", mutate: func(rs *apps.ReplicaSet) { rs.Spec.MinReadySeconds = -1 }, fields: []string{"spec.minReadySeconds"}},
		{name: "a selector that does not match the template", mutate: func(rs *apps.ReplicaSet) {
			rs.Spec.Selector.MatchLabels["pod-template-hash"] = "5d8f"
		}, fields: []string{"spec.template.metadata.labels"}},
		{name: "an invalid pod under the template", mutate: func(rs *apps.ReplicaSet) {
			rs.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To[int64](-1)
		}, fields: []string{"spec.template.spec.terminationGracePeriodSeconds"}},
		{name: "a bad spread constraint and priority class name under the template", mutate: func(rs *apps.ReplicaSet) {
			rs.Spec.Template.Spec.TopologySpreadConstraints = []core.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: "bad key", WhenUnsatisfiable: "Never",
			}}
			rs.Spec.Template.Spec.PriorityClassName = "Not_A_Name"
		}, fields: []string{
			"spec.template.spec.topologySpreadConstraints[0].topologyKey",
			"spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable",
			"spec.template.spec.priorityClassName",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := validReplicaSet()
			tc.mutate(rs)
			expectFields(t, ValidateReplicaSet(rs), tc.fields...)
		})
	}
}

func TestValidateReplicaSetUpdate(t *testing.T) {
	old := validReplicaSet()
	rs := old.DeepCopy()
	rs.Spec.Replicas = ptr.To[int32](0)
	expectFields(t, ValidateReplicaSetUpdate(rs, old))

	rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "v": "2"}}
	rs.Spec.Template.Labels["v"] = "2"
	errs := ValidateReplicaSetUpdate(rs, old)
	expectFields(t, errs, "spec.selector")
	if !strings.Contains(errs.ToAggregate().Error(), "immutable") {
		t.Errorf("error %v does not say the selector is immutable", errs)
	}
}

func TestValidateReplicaSetStatusUpdate(t *testing.T) {
	tests := []struct {
		name   string
		status apps.ReplicaSetStatus
		fields []string
	}{
		{name: "all ready", status: apps.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3, ObservedGeneration: 1}},
		{name: "a replica failure", status: apps.ReplicaSetStatus{Conditions: []apps.ReplicaSetCondition{
			{Type: apps.ReplicaSetReplicaFailure, Status: core.ConditionTrue, Reason: "FailedCreate"},
		}}},
		{name: "negative counts", status: apps.ReplicaSetStatus{FullyLabeledReplicas: -1, ObservedGeneration: -1}, fields: []string{"status.fullyLabeledReplicas", "status.observedGeneration"}},
		{name: "more labeled, ready and available than replicas", status: apps.ReplicaSetStatus{Replicas: 1, FullyLabeledReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2},
			fields: []string{"status.fullyLabeledReplicas", "status.readyReplicas", "status.availableReplicas"}},
		{name: "a condition status that is no status", status: apps.ReplicaSetStatus{Conditions: []apps.ReplicaSetCondition{
			{Type: apps.ReplicaSetReplicaFailure, Status: "Maybe"},
		}}, fields: []string{"status.conditions[0].status"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validReplicaSet()
			rs := old.DeepCopy()
			rs.Status = tc.status
			expectFields(t, ValidateReplicaSetStatusUpdate(rs, old), tc.fields...)
		})
	}
}
