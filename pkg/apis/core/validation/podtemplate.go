package validation

import (
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

// ValidatePodTemplateSpec checks the pod template of a controller: its labels
// and annotations, and its pod spec by the rules a pod's spec obeys, so every
// error is reported under fldPath (spec.template.metadata…,
// spec.template.spec…).
func ValidatePodTemplateSpec(template *core.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	metaPath := fldPath.Child("metadata")
	allErrs := metav1validation.ValidateLabels(template.Labels, metaPath.Child("labels"))
	allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(template.Annotations, metaPath.Child("annotations"))...)
	allErrs = append(allErrs, validatePodSpec(&template.Spec, fldPath.Child("spec"))...)
	return allErrs
}
