package v1alpha1_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"skiff.dev/skiff/pkg/apis/apps/install"
	"skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	corev1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	install.Install(s)
	return s
}

func template() corev1alpha1.PodTemplateSpec {
	return corev1alpha1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1alpha1.PodSpec{Containers: []corev1alpha1.Container{{Name: "main", Image: "busybox"}}},
	}
}

func TestDeploymentDefaults(t *testing.T) {
	d := &v1alpha1.Deployment{Spec: v1alpha1.DeploymentSpec{Template: template()}}
	scheme().Default(d)
	spec := d.Spec
	if *spec.Replicas != 1 || *spec.RevisionHistoryLimit != 10 || *spec.ProgressDeadlineSeconds != 600 {
		t.Errorf("replicas %d revisionHistoryLimit %d progressDeadlineSeconds %d, want apps/v1's 1, 10, 600",
			*spec.Replicas, *spec.RevisionHistoryLimit, *spec.ProgressDeadlineSeconds)
	}
	ru := spec.Strategy.RollingUpdate
	if spec.Strategy.Type != v1alpha1.RollingUpdateDeploymentStrategyType || ru == nil ||
		*ru.MaxSurge != intstr.FromString("25%") || *ru.MaxUnavailable != intstr.FromString("25%") {
		t.Errorf("strategy %+v, want RollingUpdate 25%%/25%%", spec.Strategy)
	}
	// The template gets a pod's defaults, so the controller's pods match it.
	pod := spec.Template.Spec
	if pod.RestartPolicy != corev1alpha1.RestartPolicyAlways || pod.SchedulerName != corev1alpha1.DefaultSchedulerName ||
		pod.Containers[0].ImagePullPolicy != corev1alpha1.PullAlways {
		t.Errorf("template pod spec %+v, want a pod's defaults", pod)
	}
}

func TestDeploymentDefaultsKeepWhatIsSet(t *testing.T) {
	two := intstr.FromInt32(2)
	d := &v1alpha1.Deployment{Spec: v1alpha1.DeploymentSpec{
		Replicas:             ptr.To[int32](0),
		RevisionHistoryLimit: ptr.To[int32](0),
		Strategy:             v1alpha1.DeploymentStrategy{RollingUpdate: &v1alpha1.RollingUpdateDeployment{MaxSurge: &two}},
		Template:             template(),
	}}
	scheme().Default(d)
	if *d.Spec.Replicas != 0 || *d.Spec.RevisionHistoryLimit != 0 {
		t.Errorf("replicas %d revisionHistoryLimit %d, want the zeroes set", *d.Spec.Replicas, *d.Spec.RevisionHistoryLimit)
	}
	if ru := d.Spec.Strategy.RollingUpdate; *ru.MaxSurge != two || *ru.MaxUnavailable != intstr.FromString("25%") {
		t.Errorf("rolling update %+v, want maxSurge 2 kept and maxUnavailable defaulted", ru)
	}

	recreate := &v1alpha1.Deployment{Spec: v1alpha1.DeploymentSpec{
		Strategy: v1alpha1.DeploymentStrategy{Type: v1alpha1.RecreateDeploymentStrategyType},
		Template: template(),
	}}
	scheme().Default(recreate)
	if recreate.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("a Recreate deployment got rolling update parameters %+v", recreate.Spec.Strategy.RollingUpdate)
	}
}

func TestReplicaSetDefaults(t *testing.T) {
	rs := &v1alpha1.ReplicaSet{Spec: v1alpha1.ReplicaSetSpec{Template: template()}}
	scheme().Default(rs)
	if *rs.Spec.Replicas != 1 || rs.Spec.Template.Spec.RestartPolicy != corev1alpha1.RestartPolicyAlways {
		t.Errorf("replicas %d restartPolicy %q, want 1 and Always", *rs.Spec.Replicas, rs.Spec.Template.Spec.RestartPolicy)
	}
}
