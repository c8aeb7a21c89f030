package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// The defaults of apps/v1.
const (
	DefaultReplicas                int32 = 1
	DefaultRevisionHistoryLimit    int32 = 10
	DefaultProgressDeadlineSeconds int32 = 600
	// DefaultMaxUnavailable and DefaultMaxSurge bound a rolling update that
	// names no bounds.
	DefaultMaxUnavailable = "25%"
	DefaultMaxSurge       = "25%"
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_ReplicaSet fills in what a ReplicaSet leaves out, as apps/v1
// does. The template's pod spec gets a pod's defaults from the generated
// defaulters, so the pods a controller creates match their template.
func SetDefaults_ReplicaSet(rs *ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr.To(DefaultReplicas)
	}
}

// SetDefaults_Deployment fills in what a Deployment leaves out, as apps/v1
// does: one replica, a 25%/25% rolling update, ten old ReplicaSets kept and a
// ten-minute progress deadline.
func SetDefaults_Deployment(d *Deployment) {
	spec := &d.Spec
	if spec.Replicas == nil {
		spec.Replicas = ptr.To(DefaultReplicas)
	}
	if spec.Strategy.Type == "" {
		spec.Strategy.Type = RollingUpdateDeploymentStrategyType
	}
	if spec.Strategy.Type == RollingUpdateDeploymentStrategyType {
		if spec.Strategy.RollingUpdate == nil {
			spec.Strategy.RollingUpdate = &RollingUpdateDeployment{}
		}
		if spec.Strategy.RollingUpdate.MaxUnavailable == nil {
			v := intstr.FromString(DefaultMaxUnavailable)
			spec.Strategy.RollingUpdate.MaxUnavailable = &v
		}
		if spec.Strategy.RollingUpdate.MaxSurge == nil {
			v := intstr.FromString(DefaultMaxSurge)
			spec.Strategy.RollingUpdate.MaxSurge = &v
		}
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To(DefaultRevisionHistoryLimit)
	}
	if spec.ProgressDeadlineSeconds == nil {
		spec.ProgressDeadlineSeconds = ptr.To(DefaultProgressDeadlineSeconds)
	}
}
