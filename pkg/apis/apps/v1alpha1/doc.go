// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=skiff.dev/skiff/pkg/apis/apps
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// The model package is the REST-friendly form of this Go path, as upstream's are:
// it is what applyconfiguration-gen and the fake clientset's type converter both look up.
// +k8s:openapi-model-package=dev.skiff.skiff.pkg.apis.apps.v1alpha1
// +groupName=apps.skiff.dev

// Package v1alpha1 is the v1alpha1 version of the apps.skiff.dev API: the
// types clients read and write. Field names and JSON tags follow apps/v1.
package v1alpha1
