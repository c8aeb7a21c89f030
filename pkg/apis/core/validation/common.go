package validation

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/validate/content"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

// ValidateNodeName checks a node name (a DNS-1123 subdomain). It is the name
// function for Node objects and also checks every reference to a node
// (spec.nodeName, a binding's target).
var ValidateNodeName = apimachineryvalidation.NameIsDNSSubdomain

// conditionStatuses are the values every condition's status may take.
var conditionStatuses = []core.ConditionStatus{core.ConditionTrue, core.ConditionFalse, core.ConditionUnknown}

// validateNodeNameRef reports a reference to a node whose name is not a
// valid node name. An empty name is the caller's business.
func validateNodeNameRef(name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range ValidateNodeName(name, false) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	return allErrs
}

// validateConditionStatus checks a condition's status: required, and one of
// True, False, Unknown.
func validateConditionStatus(status core.ConditionStatus, fldPath *field.Path) field.ErrorList {
	switch status {
	case core.ConditionTrue, core.ConditionFalse, core.ConditionUnknown:
		return nil
	case "":
		return field.ErrorList{field.Required(fldPath, "")}
	default:
		return field.ErrorList{field.NotSupported(fldPath, status, conditionStatuses)}
	}
}

// validateConditionType checks a condition type: required, unique within its
// list, and a qualified name unless it is one of the well-known types.
func validateConditionType(condType string, wellKnown bool, seen map[string]bool, fldPath *field.Path) field.ErrorList {
	if condType == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var allErrs field.ErrorList
	if seen[condType] {
		allErrs = append(allErrs, field.Duplicate(fldPath, condType))
	}
	seen[condType] = true
	if !wellKnown {
		for _, msg := range content.IsQualifiedName(condType) {
			allErrs = append(allErrs, field.Invalid(fldPath, condType, msg))
		}
	}
	return allErrs
}

// validateLabelName checks a label key (a qualified name), as used by taint and
// toleration keys and node selector requirements.
func validateLabelName(key string, fldPath *field.Path) field.ErrorList {
	return metav1validation.ValidateLabelName(key, fldPath)
}

// validateLabelValue checks a label value.
func validateLabelValue(value string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range content.IsLabelValue(value) {
		allErrs = append(allErrs, field.Invalid(fldPath, value, msg))
	}
	return allErrs
}

// validateNonnegative reports a negative number with the upstream message.
func validateNonnegative(value int64, fldPath *field.Path) field.ErrorList {
	return apimachineryvalidation.ValidateNonnegativeField(value, fldPath)
}

// maxLengthMessage is the upstream detail for a string over its length limit.
func maxLengthMessage(limit int) string {
	return fmt.Sprintf("can have at most %d characters", limit)
}
