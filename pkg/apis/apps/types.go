package apps

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"skiff.dev/skiff/pkg/apis/core"
)

// The internal types mirror v1alpha1 field for field; see v1alpha1/types.go for
// the user-facing documentation of every field.

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ReplicaSet keeps a number of identical pods running, as apps/v1's does:
// it creates pods from its template while fewer than spec.replicas match its
// selector and deletes the surplus.
type ReplicaSet struct {
	metav1.TypeMeta
	metav1.ObjectMeta
	Spec   ReplicaSetSpec
	Status ReplicaSetStatus
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ReplicaSetList is a list of ReplicaSets.
type ReplicaSetList struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []ReplicaSet
}

// ReplicaSetSpec is the desired state of a ReplicaSet.
type ReplicaSetSpec struct {
	Replicas        *int32
	MinReadySeconds int32
	Selector        *metav1.LabelSelector
	Template        core.PodTemplateSpec
}

// ReplicaSetConditionType names a ReplicaSet condition.
type ReplicaSetConditionType string

const (
	ReplicaSetReplicaFailure ReplicaSetConditionType = "ReplicaFailure"
)

// ReplicaSetCondition is one observed condition of a ReplicaSet.
type ReplicaSetCondition struct {
	Type               ReplicaSetConditionType
	Status             core.ConditionStatus
	LastTransitionTime metav1.Time
	Reason             string
	Message            string
}

// ReplicaSetStatus is the observed state of a ReplicaSet.
type ReplicaSetStatus struct {
	Replicas             int32
	FullyLabeledReplicas int32
	ReadyReplicas        int32
	AvailableReplicas    int32
	ObservedGeneration   int64
	Conditions           []ReplicaSetCondition
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Deployment declares the pods of an application, as apps/v1's does: the
// controller manager runs them through ReplicaSets, one per template
// revision, and rolls from one revision to the next by its strategy.
type Deployment struct {
	metav1.TypeMeta
	metav1.ObjectMeta
	Spec   DeploymentSpec
	Status DeploymentStatus
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// DeploymentList is a list of Deployments.
type DeploymentList struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []Deployment
}

// DeploymentSpec is the desired state of a Deployment.
type DeploymentSpec struct {
	Replicas                *int32
	Selector                *metav1.LabelSelector
	Template                core.PodTemplateSpec
	Strategy                DeploymentStrategy
	MinReadySeconds         int32
	RevisionHistoryLimit    *int32
	Paused                  bool
	ProgressDeadlineSeconds *int32
}

// DeploymentStrategyType is how a Deployment replaces its pods.
// +enum
type DeploymentStrategyType string

const (
	RecreateDeploymentStrategyType      DeploymentStrategyType = "Recreate"
	RollingUpdateDeploymentStrategyType DeploymentStrategyType = "RollingUpdate"
)

// DeploymentStrategy is how a Deployment replaces its pods.
type DeploymentStrategy struct {
	Type          DeploymentStrategyType
	RollingUpdate *RollingUpdateDeployment
}

// RollingUpdateDeployment bounds a rolling update.
type RollingUpdateDeployment struct {
	MaxUnavailable *intstr.IntOrString
	MaxSurge       *intstr.IntOrString
}

// DeploymentConditionType names a Deployment condition.
type DeploymentConditionType string

const (
	DeploymentAvailable      DeploymentConditionType = "Available"
	DeploymentProgressing    DeploymentConditionType = "Progressing"
	DeploymentReplicaFailure DeploymentConditionType = "ReplicaFailure"
)

// DeploymentCondition is one observed condition of a Deployment.
type DeploymentCondition struct {
	Type               DeploymentConditionType
	Status             core.ConditionStatus
	LastUpdateTime     metav1.Time
	LastTransitionTime metav1.Time
	Reason             string
	Message            string
}

// DeploymentStatus is the observed state of a Deployment.
type DeploymentStatus struct {
	ObservedGeneration  int64
	Replicas            int32
	UpdatedReplicas     int32
	ReadyReplicas       int32
	AvailableReplicas   int32
	UnavailableReplicas int32
	Conditions          []DeploymentCondition
	CollisionCount      *int32
}
