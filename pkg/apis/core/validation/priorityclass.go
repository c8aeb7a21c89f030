package validation

import (
	"fmt"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

// ValidatePriorityClassName checks a PriorityClass name (a DNS-1123
// subdomain), and every pod's reference to one.
var ValidatePriorityClassName = apimachineryvalidation.NameIsDNSSubdomain

// ValidatePriorityClass checks a PriorityClass on creation, as upstream's
// scheduling validation: a name with the system- prefix must be exactly a
// system class, and any other class's value is at most
// HighestUserDefinablePriority. That at most one class is globalDefault is
// checked by the Priority admission plugin, which sees the other classes.
func ValidatePriorityClass(pc *core.PriorityClass) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&pc.ObjectMeta, false, ValidatePriorityClassName, field.NewPath("metadata"))
	if strings.HasPrefix(pc.Name, core.SystemPriorityClassPrefix) {
		if err := core.IsKnownSystemPriorityClass(pc.Name, pc.Value, pc.GlobalDefault); err != nil {
			allErrs = append(allErrs, field.Forbidden(field.NewPath("metadata", "name"),
				fmt.Sprintf("priority class names with %q prefix are reserved for system use only: %v", core.SystemPriorityClassPrefix, err)))
		}
	} else if pc.Value > core.HighestUserDefinablePriority {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("value"),
			fmt.Sprintf("maximum allowed value of a user defined priority is %d", core.HighestUserDefinablePriority)))
	}
	if pc.PreemptionPolicy != nil {
		allErrs = append(allErrs, validatePreemptionPolicy(*pc.PreemptionPolicy, field.NewPath("preemptionPolicy"))...)
	}
	return allErrs
}

// ValidatePriorityClassUpdate checks an update: value and preemptionPolicy
// are immutable, as pods already carry them; description and globalDefault
// may change.
func ValidatePriorityClassUpdate(pc, old *core.PriorityClass) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&pc.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	if pc.Value != old.Value {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
	}
	if !apiequality.Semantic.DeepEqual(pc.PreemptionPolicy, old.PreemptionPolicy) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("preemptionPolicy"), pc.PreemptionPolicy, apimachineryvalidation.FieldImmutableErrorMsg))
	}
	return allErrs
}
