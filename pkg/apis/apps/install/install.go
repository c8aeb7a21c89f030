// Package install registers the apps.skiff.dev API group in a scheme.
package install

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"skiff.dev/skiff/pkg/apis/apps"
	"skiff.dev/skiff/pkg/apis/apps/v1alpha1"
)

// Install registers the internal and v1alpha1 types, their conversions and
// defaults, and the autoscaling/v1 Scale of the scale subresource, with
// v1alpha1 as the preferred version.
func Install(scheme *runtime.Scheme) {
	utilruntime.Must(apps.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	utilruntime.Must(scheme.SetVersionPriority(v1alpha1.SchemeGroupVersion))
}
