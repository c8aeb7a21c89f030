package validation

import (
	"fmt"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

var (
	scheduleActions       = []core.UnsatisfiableConstraintAction{core.DoNotSchedule, core.ScheduleAnyway}
	nodeInclusionPolicies = []core.NodeInclusionPolicy{core.NodeInclusionPolicyHonor, core.NodeInclusionPolicyIgnore}
	preemptionPolicies    = []core.PreemptionPolicy{core.PreemptLowerPriority, core.PreemptNever}
)

// validatePodAffinity checks the terms of pod affinity or anti-affinity;
// both have the same shape.
func validatePodAffinity(required []core.PodAffinityTerm, preferred []core.WeightedPodAffinityTerm, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	reqPath := fldPath.Child("requiredDuringSchedulingIgnoredDuringExecution")
	for i, term := range required {
		allErrs = append(allErrs, validatePodAffinityTerm(term, reqPath.Index(i))...)
	}
	prefPath := fldPath.Child("preferredDuringSchedulingIgnoredDuringExecution")
	for i, wt := range preferred {
		idxPath := prefPath.Index(i)
		if wt.Weight < 1 || wt.Weight > 100 {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("weight"), wt.Weight, "must be in the range 1-100"))
		}
		allErrs = append(allErrs, validatePodAffinityTerm(wt.PodAffinityTerm, idxPath.Child("podAffinityTerm"))...)
	}
	return allErrs
}

// validatePodAffinityTerm checks one term as upstream does (selectors,
// namespace names, match and mismatch label keys, a topology key that is a
// label name), with one rule upstream lacks: the term must have a
// labelSelector. Upstream lets it out and the term then matches no pod,
// which makes required affinity unsatisfiable and anti-affinity a no-op,
// silently; skiff says so at once (issue 13).
func validatePodAffinityTerm(term core.PodAffinityTerm, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	selPath := fldPath.Child("labelSelector")
	if term.LabelSelector == nil {
		allErrs = append(allErrs, field.Required(selPath, "a pod affinity term without a labelSelector matches no pods"))
	}
	opts := metav1validation.LabelSelectorValidationOptions{}
	allErrs = append(allErrs, metav1validation.ValidateLabelSelector(term.LabelSelector, opts, selPath)...)
	allErrs = append(allErrs, metav1validation.ValidateLabelSelector(term.NamespaceSelector, opts, fldPath.Child("namespaceSelector"))...)
	for i, ns := range term.Namespaces {
		for _, msg := range apimachineryvalidation.ValidateNamespaceName(ns, false) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("namespaces").Index(i), ns, msg))
		}
	}
	allErrs = append(allErrs, validateMatchLabelKeys(fldPath, term.MatchLabelKeys, term.MismatchLabelKeys, term.LabelSelector)...)
	allErrs = append(allErrs, validateTopologyKey(term.TopologyKey, fldPath.Child("topologyKey"))...)
	return allErrs
}

// validateTopologyKey checks a topology key: required, and a label name
// (the nodes' label it names). Upstream checks the label name for affinity
// terms only; a spread constraint's key that no node label can have would
// leave the pod unschedulable for ever, so skiff checks both.
func validateTopologyKey(key string, fldPath *field.Path) field.ErrorList {
	if key == "" {
		return field.ErrorList{field.Required(fldPath, "can not be empty")}
	}
	return validateLabelName(key, fldPath)
}

// validateMatchLabelKeys checks matchLabelKeys and mismatchLabelKeys as
// upstream's ValidateMatchLabelKeysAndMismatchLabelKeys: label names, only
// with a labelSelector, a matchLabelKeys key not already in the selector,
// and no key in both lists. The pod registry merges the keys into the
// selector on create (as key in/notin the pod's value), so the key may
// then appear once in matchExpressions, but not a second time.
func validateMatchLabelKeys(fldPath *field.Path, matchKeys, mismatchKeys []string, selector *metav1.LabelSelector) field.ErrorList {
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateLabelKeys(fldPath.Child("matchLabelKeys"), matchKeys, selector)...)
	allErrs = append(allErrs, validateLabelKeys(fldPath.Child("mismatchLabelKeys"), mismatchKeys, selector)...)
	if selector != nil && len(matchKeys) > 0 {
		index := map[string]int{}
		for i, k := range matchKeys {
			index[k] = i
		}
		inSelector := sets.New[string]()
		for k := range selector.MatchLabels {
			inSelector.Insert(k)
		}
		for _, expr := range selector.MatchExpressions {
			if i, ok := index[expr.Key]; ok && inSelector.Has(expr.Key) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("matchLabelKeys").Index(i), expr.Key, "exists in both matchLabelKeys and labelSelector"))
			}
			inSelector.Insert(expr.Key)
		}
	}
	mismatch := sets.New(mismatchKeys...)
	for i, k := range matchKeys {
		if mismatch.Has(k) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("matchLabelKeys").Index(i), k, "exists in both matchLabelKeys and mismatchLabelKeys"))
		}
	}
	return allErrs
}

func validateLabelKeys(fldPath *field.Path, keys []string, selector *metav1.LabelSelector) field.ErrorList {
	if len(keys) == 0 {
		return nil
	}
	if selector == nil {
		return field.ErrorList{field.Forbidden(fldPath, "must not be specified when labelSelector is not set")}
	}
	var allErrs field.ErrorList
	for i, k := range keys {
		allErrs = append(allErrs, validateLabelName(k, fldPath.Index(i))...)
	}
	return allErrs
}

// validateTopologySpreadConstraints checks a pod's spread constraints as
// upstream does; a {topologyKey, whenUnsatisfiable} pair may appear once.
func validateTopologySpreadConstraints(constraints []core.TopologySpreadConstraint, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, c := range constraints {
		idxPath := fldPath.Index(i)
		if c.MaxSkew <= 0 {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("maxSkew"), c.MaxSkew, "must be greater than zero"))
		}
		allErrs = append(allErrs, validateTopologyKey(c.TopologyKey, idxPath.Child("topologyKey"))...)
		switch c.WhenUnsatisfiable {
		case core.DoNotSchedule, core.ScheduleAnyway:
		default:
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("whenUnsatisfiable"), c.WhenUnsatisfiable, scheduleActions))
		}
		for _, rest := range constraints[i+1:] {
			if c.TopologyKey == rest.TopologyKey && c.WhenUnsatisfiable == rest.WhenUnsatisfiable {
				allErrs = append(allErrs, field.Duplicate(idxPath.Child("{topologyKey, whenUnsatisfiable}"),
					fmt.Sprintf("{%v, %v}", c.TopologyKey, c.WhenUnsatisfiable)))
				break
			}
		}
		if c.MinDomains != nil {
			if *c.MinDomains <= 0 {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("minDomains"), *c.MinDomains, "must be greater than zero"))
			}
			if c.WhenUnsatisfiable != core.DoNotSchedule {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("minDomains"), *c.MinDomains,
					fmt.Sprintf("can only use minDomains if whenUnsatisfiable=%s, not %s", core.DoNotSchedule, c.WhenUnsatisfiable)))
			}
		}
		allErrs = append(allErrs, validateNodeInclusionPolicy(c.NodeAffinityPolicy, idxPath.Child("nodeAffinityPolicy"))...)
		allErrs = append(allErrs, validateNodeInclusionPolicy(c.NodeTaintsPolicy, idxPath.Child("nodeTaintsPolicy"))...)
		allErrs = append(allErrs, validateMatchLabelKeys(idxPath, c.MatchLabelKeys, nil, c.LabelSelector)...)
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(c.LabelSelector,
			metav1validation.LabelSelectorValidationOptions{}, idxPath.Child("labelSelector"))...)
	}
	return allErrs
}

func validateNodeInclusionPolicy(policy *core.NodeInclusionPolicy, fldPath *field.Path) field.ErrorList {
	if policy == nil {
		return nil
	}
	switch *policy {
	case core.NodeInclusionPolicyHonor, core.NodeInclusionPolicyIgnore:
		return nil
	default:
		return field.ErrorList{field.NotSupported(fldPath, *policy, nodeInclusionPolicies)}
	}
}

// validatePriorityFields checks spec.priorityClassName (a PriorityClass
// name, a DNS subdomain) and spec.preemptionPolicy. Whether the class
// exists, and spec.priority, are the Priority admission plugin's.
func validatePriorityFields(spec *core.PodSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.PriorityClassName != "" {
		for _, msg := range ValidatePriorityClassName(spec.PriorityClassName, false) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("priorityClassName"), spec.PriorityClassName, msg))
		}
	}
	if spec.PreemptionPolicy != nil {
		allErrs = append(allErrs, validatePreemptionPolicy(*spec.PreemptionPolicy, fldPath.Child("preemptionPolicy"))...)
	}
	return allErrs
}

func validatePreemptionPolicy(policy core.PreemptionPolicy, fldPath *field.Path) field.ErrorList {
	switch policy {
	case core.PreemptLowerPriority, core.PreemptNever:
		return nil
	case "":
		return field.ErrorList{field.Required(fldPath, "")}
	default:
		return field.ErrorList{field.NotSupported(fldPath, policy, preemptionPolicies)}
	}
}
