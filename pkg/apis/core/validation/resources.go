package validation

import (
	"fmt"
	"math"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

// isNotIntegerErrorMsg is the upstream detail for a fractional count.
const isNotIntegerErrorMsg = "must be an integer"

// standardContainerResources are the unprefixed resources a container may
// request; anything else must be a domain-prefixed (extended) resource.
var standardContainerResources = map[core.ResourceName]bool{
	core.ResourceCPU:    true,
	core.ResourceMemory: true,
}

// maxQuantity is the largest amount of any resource validation accepts: the
// largest int64 in base units, as consumers read quantities as int64 anyway.
var maxQuantity = resource.NewQuantity(math.MaxInt64, resource.DecimalSI)

// tooLargeErrorMsg is the detail for a quantity beyond maxQuantity.
var tooLargeErrorMsg = fmt.Sprintf("must be less than or equal to %d", int64(math.MaxInt64))

// quantityOutOfRange reports whether |q| exceeds maxQuantity, without the
// arithmetic that makes comparing quantities with huge exponents slow:
// "1e9999999" parses in microseconds, but comparing it with "1" builds a
// ten-million-digit integer. Such values are refused before anything
// compares them.
func quantityOutOfRange(q resource.Quantity) bool {
	dec := q.AsDec()
	// Integer digits of |q|: the digits of the unscaled value (estimated
	// from its bit length, off by at most one) less the scale.
	digits := int64(float64(dec.UnscaledBig().BitLen())*math.Log10(2)) + 1
	magnitude := digits - int64(dec.Scale())
	switch {
	case magnitude > 20: // at least 10^19, beyond MaxInt64
		return true
	case magnitude < 18: // below 10^18
		return false
	}
	// Near the bound the scale is small, so comparing is cheap.
	abs := q.DeepCopy()
	if abs.Sign() < 0 {
		abs.Neg()
	}
	return abs.Cmp(*maxQuantity) > 0
}

// isExtendedResource reports whether a resource name is domain-prefixed, like
// example.com/gpu. Extended resources are counted in whole units and cannot be
// overcommitted.
func isExtendedResource(name core.ResourceName) bool {
	return strings.Contains(string(name), "/")
}

// isIntegerResource reports whether a resource is counted in whole units.
func isIntegerResource(name core.ResourceName) bool {
	return name == core.ResourcePods || isExtendedResource(name)
}

// validateResourceName checks that a resource name is a qualified name.
func validateResourceName(name core.ResourceName, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range content.IsQualifiedName(string(name)) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	return allErrs
}

// validateContainerResourceName allows cpu and memory, or a qualified
// domain-prefixed name for an extended resource.
func validateContainerResourceName(name core.ResourceName, fldPath *field.Path) field.ErrorList {
	allErrs := validateResourceName(name, fldPath)
	if len(allErrs) == 0 && !isExtendedResource(name) && !standardContainerResources[name] {
		allErrs = append(allErrs, field.Invalid(fldPath, name, "must be a standard resource for containers"))
	}
	return allErrs
}

// validateResourceQuantity checks that a quantity is not negative, not
// absurdly large, and whole for resources counted in units.
func validateResourceQuantity(name core.ResourceName, q resource.Quantity, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if q.Sign() < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath, q.String(), apimachineryvalidation.IsNegativeErrorMsg))
	}
	if quantityOutOfRange(q) {
		if q.Sign() > 0 {
			allErrs = append(allErrs, field.Invalid(fldPath, q.String(), tooLargeErrorMsg))
		}
		return allErrs
	}
	if isIntegerResource(name) && q.MilliValue()%1000 != 0 {
		allErrs = append(allErrs, field.Invalid(fldPath, q.String(), isNotIntegerErrorMsg))
	}
	return allErrs
}

// validateResourceRequirements checks a container's requests and limits: known
// names, non-negative quantities, and each request no more than its limit.
// Extended resources cannot be overcommitted: their request must equal their
// limit, and a request needs a limit.
func validateResourceRequirements(req *core.ResourceRequirements, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	limPath := fldPath.Child("limits")
	reqPath := fldPath.Child("requests")
	for name, q := range req.Limits {
		p := limPath.Key(string(name))
		allErrs = append(allErrs, validateContainerResourceName(name, p)...)
		allErrs = append(allErrs, validateResourceQuantity(name, q, p)...)
	}
	for name, q := range req.Requests {
		p := reqPath.Key(string(name))
		allErrs = append(allErrs, validateContainerResourceName(name, p)...)
		allErrs = append(allErrs, validateResourceQuantity(name, q, p)...)

		limit, hasLimit := req.Limits[name]
		if quantityOutOfRange(q) || (hasLimit && quantityOutOfRange(limit)) {
			continue // already reported, and too costly to compare
		}
		switch {
		case isExtendedResource(name) && !hasLimit:
			allErrs = append(allErrs, field.Required(limPath.Key(string(name)), "Limit must be set for non overcommitable resources"))
		case isExtendedResource(name) && q.Cmp(limit) != 0:
			allErrs = append(allErrs, field.Invalid(p, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
		case hasLimit && q.Cmp(limit) > 0:
			allErrs = append(allErrs, field.Invalid(p, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		}
	}
	return allErrs
}

// hasQuantityOutOfRange reports whether any container asks for an absurd
// quantity (see quantityOutOfRange).
func hasQuantityOutOfRange(containers []core.Container) bool {
	for i := range containers {
		for _, list := range []core.ResourceList{containers[i].Resources.Limits, containers[i].Resources.Requests} {
			for _, q := range list {
				if quantityOutOfRange(q) {
					return true
				}
			}
		}
	}
	return false
}

// validateResourceList checks a node's capacity or allocatable.
func validateResourceList(list core.ResourceList, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for name, q := range list {
		p := fldPath.Key(string(name))
		allErrs = append(allErrs, validateResourceName(name, p)...)
		allErrs = append(allErrs, validateResourceQuantity(name, q, p)...)
	}
	return allErrs
}
