package apps

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the API group of skiff's workload controllers.
const GroupName = "apps.skiff.dev"

// SchemeGroupVersion is the internal version used to register the hub types.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: runtime.APIVersionInternal}

// Kind takes an unqualified kind and returns a group-qualified GroupKind.
func Kind(kind string) schema.GroupKind {
	return SchemeGroupVersion.WithKind(kind).GroupKind()
}

// Resource takes an unqualified resource and returns a group-qualified GroupResource.
func Resource(resource string) schema.GroupResource {
	return SchemeGroupVersion.WithResource(resource).GroupResource()
}

var (
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes, addScaleTypes)
	AddToScheme   = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion,
		&ReplicaSet{}, &ReplicaSetList{},
		&Deployment{}, &DeploymentList{},
	)
	return nil
}

// AutoscalingInternalVersion is the hub version of the scale subresource's
// kind. skiff has no internal autoscaling types: the autoscaling/v1 Scale is
// its own hub, so decoding a Scale to the hub is a copy, not a conversion.
var AutoscalingInternalVersion = schema.GroupVersion{Group: autoscalingv1.GroupName, Version: runtime.APIVersionInternal}

// addScaleTypes registers autoscaling/v1 Scale, the kind the scale
// subresource speaks, as kube-apiserver serves it for apps/v1: `kubectl
// scale` reads and writes exactly that kind.
func addScaleTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(autoscalingv1.SchemeGroupVersion, &autoscalingv1.Scale{})
	scheme.AddKnownTypes(AutoscalingInternalVersion, &autoscalingv1.Scale{})
	return nil
}
