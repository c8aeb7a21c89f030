package validation

import (
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

// ValidateLease checks a lease on creation.
func ValidateLease(lease *core.Lease) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&lease.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateLeaseSpec(&lease.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateLeaseUpdate checks a lease update (a renewal or a change of holder).
func ValidateLeaseUpdate(newLease, oldLease *core.Lease) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newLease.ObjectMeta, &oldLease.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateLeaseSpec(&newLease.Spec, field.NewPath("spec"))...)
	return allErrs
}

func validateLeaseSpec(spec *core.LeaseSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if d := spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("leaseDurationSeconds"), *d, "must be greater than 0"))
	}
	if t := spec.LeaseTransitions; t != nil {
		allErrs = append(allErrs, validateNonnegative(int64(*t), fldPath.Child("leaseTransitions"))...)
	}
	return allErrs
}
