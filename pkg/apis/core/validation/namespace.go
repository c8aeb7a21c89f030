package validation

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// standardFinalizers are the finalizer names that need no domain prefix:
// the namespace controller's and the garbage collector's.
var standardFinalizers = map[string]bool{
	string(corev1.FinalizerKubernetes): true,
	metav1.FinalizerOrphanDependents:   true,
	metav1.FinalizerDeleteDependents:   true,
}

// ValidateNamespace checks a core/v1 Namespace: a DNS label for a name, no
// namespace of its own, and well-formed spec.finalizers.
func ValidateNamespace(ns *corev1.Namespace) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&ns.ObjectMeta, false, apimachineryvalidation.ValidateNamespaceName, field.NewPath("metadata"))
	allErrs = append(allErrs, validateNamespaceFinalizers(ns.Spec.Finalizers, field.NewPath("spec", "finalizers"))...)
	return allErrs
}

// ValidateNamespaceUpdate checks an update through the main endpoint; spec
// and status are kept by the strategy, so only metadata can change.
func ValidateNamespaceUpdate(newNS, oldNS *corev1.Namespace) field.ErrorList {
	allErrs := ValidateNamespace(newNS)
	return append(allErrs, apimachineryvalidation.ValidateObjectMetaUpdate(&newNS.ObjectMeta, &oldNS.ObjectMeta, field.NewPath("metadata"))...)
}

// ValidateNamespaceStatusUpdate checks a write to namespaces/status: the
// phase follows deletionTimestamp, Active without it, Terminating with it.
func ValidateNamespaceStatusUpdate(newNS, oldNS *corev1.Namespace) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newNS.ObjectMeta, &oldNS.ObjectMeta, field.NewPath("metadata"))
	phasePath := field.NewPath("status", "phase")
	if newNS.DeletionTimestamp.IsZero() {
		if newNS.Status.Phase != corev1.NamespaceActive {
			allErrs = append(allErrs, field.Invalid(phasePath, newNS.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty"))
		}
	} else if newNS.Status.Phase != corev1.NamespaceTerminating {
		allErrs = append(allErrs, field.Invalid(phasePath, newNS.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"))
	}
	return allErrs
}

// ValidateNamespaceFinalizeUpdate checks a write to namespaces/finalize,
// which is how the namespace controller removes its finalizer.
func ValidateNamespaceFinalizeUpdate(newNS, oldNS *corev1.Namespace) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newNS.ObjectMeta, &oldNS.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateNamespaceFinalizers(newNS.Spec.Finalizers, field.NewPath("spec", "finalizers"))...)
}

// validateNamespaceFinalizers: each is a qualified name, and one without a
// domain must be a standard finalizer.
func validateNamespaceFinalizers(finalizers []corev1.FinalizerName, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, f := range finalizers {
		p := fldPath.Index(i)
		name := string(f)
		allErrs = append(allErrs, apimachineryvalidation.ValidateFinalizerName(name, p)...)
		if !strings.Contains(name, "/") && !standardFinalizers[name] {
			allErrs = append(allErrs, field.Invalid(p, name, "name is neither a standard finalizer name nor is it fully qualified"))
		}
	}
	return allErrs
}
