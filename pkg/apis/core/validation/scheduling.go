package validation

import (
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

var (
	taintEffects        = []core.TaintEffect{core.TaintEffectNoSchedule, core.TaintEffectPreferNoSchedule, core.TaintEffectNoExecute}
	tolerationOperators = []core.TolerationOperator{core.TolerationOpEqual, core.TolerationOpExists}
)

// validateTaintEffect checks an effect; a toleration may leave it empty (it
// then matches every effect), a taint may not.
func validateTaintEffect(effect core.TaintEffect, allowEmpty bool, fldPath *field.Path) field.ErrorList {
	switch effect {
	case core.TaintEffectNoSchedule, core.TaintEffectPreferNoSchedule, core.TaintEffectNoExecute:
		return nil
	case "":
		if allowEmpty {
			return nil
		}
		return field.ErrorList{field.Required(fldPath, "")}
	default:
		return field.ErrorList{field.NotSupported(fldPath, effect, taintEffects)}
	}
}

// validateTaints checks a node's taints: a qualified key, a label value, a
// known effect, and at most one taint per key and effect.
func validateTaints(taints []core.Taint, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	type keyEffect struct {
		key    string
		effect core.TaintEffect
	}
	seen := map[keyEffect]bool{}
	for i, taint := range taints {
		idxPath := fldPath.Index(i)
		allErrs = append(allErrs, validateLabelName(taint.Key, idxPath.Child("key"))...)
		allErrs = append(allErrs, validateLabelValue(taint.Value, idxPath.Child("value"))...)
		allErrs = append(allErrs, validateTaintEffect(taint.Effect, false, idxPath.Child("effect"))...)

		k := keyEffect{taint.Key, taint.Effect}
		if seen[k] {
			dup := field.Duplicate(idxPath, taint)
			dup.Detail = "taints must be unique by key and effect pair"
			allErrs = append(allErrs, dup)
		}
		seen[k] = true
	}
	return allErrs
}

// validateTolerations checks a pod's tolerations. An empty key with Exists
// tolerates every taint; an empty effect matches every effect.
func validateTolerations(tolerations []core.Toleration, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, t := range tolerations {
		idxPath := fldPath.Index(i)
		if t.Key != "" {
			allErrs = append(allErrs, validateLabelName(t.Key, idxPath.Child("key"))...)
		} else if t.Operator != core.TolerationOpExists {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("operator"), t.Operator,
				"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}

		if t.TolerationSeconds != nil && t.Effect != core.TaintEffectNoExecute {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("effect"), t.Effect,
				"effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}

		switch t.Operator {
		case core.TolerationOpEqual, "": // empty means Equal
			allErrs = append(allErrs, validateLabelValue(t.Value, idxPath.Child("value"))...)
		case core.TolerationOpExists:
			if t.Value != "" {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("value"), t.Value,
					"value must be empty when `operator` is 'Exists'"))
			}
		default:
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("operator"), t.Operator, tolerationOperators))
		}

		allErrs = append(allErrs, validateTaintEffect(t.Effect, true, idxPath.Child("effect"))...)
	}
	return allErrs
}

// validateAffinity checks a pod's node affinity, pod affinity and pod
// anti-affinity.
func validateAffinity(affinity *core.Affinity, fldPath *field.Path) field.ErrorList {
	if affinity == nil {
		return nil
	}
	var allErrs field.ErrorList
	if pa := affinity.PodAffinity; pa != nil {
		allErrs = append(allErrs, validatePodAffinity(pa.RequiredDuringSchedulingIgnoredDuringExecution,
			pa.PreferredDuringSchedulingIgnoredDuringExecution, fldPath.Child("podAffinity"))...)
	}
	if paa := affinity.PodAntiAffinity; paa != nil {
		allErrs = append(allErrs, validatePodAffinity(paa.RequiredDuringSchedulingIgnoredDuringExecution,
			paa.PreferredDuringSchedulingIgnoredDuringExecution, fldPath.Child("podAntiAffinity"))...)
	}
	if affinity.NodeAffinity == nil {
		return allErrs
	}
	na := affinity.NodeAffinity
	naPath := fldPath.Child("nodeAffinity")
	if na.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		allErrs = append(allErrs, validateNodeSelector(na.RequiredDuringSchedulingIgnoredDuringExecution,
			naPath.Child("requiredDuringSchedulingIgnoredDuringExecution"))...)
	}
	prefPath := naPath.Child("preferredDuringSchedulingIgnoredDuringExecution")
	for i, term := range na.PreferredDuringSchedulingIgnoredDuringExecution {
		idxPath := prefPath.Index(i)
		if term.Weight < 1 || term.Weight > 100 {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("weight"), term.Weight, "must be in the range 1-100"))
		}
		allErrs = append(allErrs, validateNodeSelectorTerm(term.Preference, idxPath.Child("preference"))...)
	}
	return allErrs
}

// validateNodeSelector checks a required node selector: at least one term,
// each term valid. The terms are ORed, so an empty list could match nothing.
func validateNodeSelector(sel *core.NodeSelector, fldPath *field.Path) field.ErrorList {
	termsPath := fldPath.Child("nodeSelectorTerms")
	if len(sel.NodeSelectorTerms) == 0 {
		return field.ErrorList{field.Required(termsPath, "must have at least one node selector term")}
	}
	var allErrs field.ErrorList
	for i, term := range sel.NodeSelectorTerms {
		allErrs = append(allErrs, validateNodeSelectorTerm(term, termsPath.Index(i))...)
	}
	return allErrs
}

func validateNodeSelectorTerm(term core.NodeSelectorTerm, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for j, req := range term.MatchExpressions {
		allErrs = append(allErrs, validateNodeSelectorRequirement(req, fldPath.Child("matchExpressions").Index(j))...)
	}
	return allErrs
}

// validateNodeSelectorRequirement checks one requirement: a qualified key, a
// known operator, and the values that operator needs.
func validateNodeSelectorRequirement(req core.NodeSelectorRequirement, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	valuesPath := fldPath.Child("values")
	switch req.Operator {
	case core.NodeSelectorOpIn, core.NodeSelectorOpNotIn:
		if len(req.Values) == 0 {
			allErrs = append(allErrs, field.Required(valuesPath, "must be specified when `operator` is 'In' or 'NotIn'"))
		}
	case core.NodeSelectorOpExists, core.NodeSelectorOpDoesNotExist:
		if len(req.Values) > 0 {
			allErrs = append(allErrs, field.Forbidden(valuesPath, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case core.NodeSelectorOpGt, core.NodeSelectorOpLt:
		if len(req.Values) != 1 {
			allErrs = append(allErrs, field.Required(valuesPath, "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		} else if _, err := strconv.ParseInt(req.Values[0], 10, 64); err != nil {
			allErrs = append(allErrs, field.Invalid(valuesPath.Index(0), req.Values[0], "must be an integer when `operator` is 'Lt' or 'Gt'"))
		}
	default:
		allErrs = append(allErrs, field.Invalid(fldPath.Child("operator"), req.Operator, "not a valid selector operator"))
	}
	allErrs = append(allErrs, validateLabelName(req.Key, fldPath.Child("key"))...)
	for i, v := range req.Values {
		allErrs = append(allErrs, validateLabelValue(v, valuesPath.Index(i))...)
	}
	return allErrs
}
