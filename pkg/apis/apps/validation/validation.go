package validation

import (
	"fmt"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/apps"
	"skiff.dev/skiff/pkg/apis/core"
	corevalidation "skiff.dev/skiff/pkg/apis/core/validation"
)

// ValidateName checks a ReplicaSet or Deployment name: a DNS-1123 subdomain,
// as apps/v1 requires.
var ValidateName = apimachineryvalidation.NameIsDNSSubdomain

var (
	strategyTypes     = []apps.DeploymentStrategyType{apps.RecreateDeploymentStrategyType, apps.RollingUpdateDeploymentStrategyType}
	conditionStatuses = []core.ConditionStatus{core.ConditionTrue, core.ConditionFalse, core.ConditionUnknown}
)

// ValidateReplicaSet checks a ReplicaSet on creation.
func ValidateReplicaSet(rs *apps.ReplicaSet) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&rs.ObjectMeta, true, ValidateName, field.NewPath("metadata"))
	return append(allErrs, validateReplicaSetSpec(&rs.Spec, field.NewPath("spec"))...)
}

// ValidateReplicaSetUpdate checks an update through the main endpoint: a
// valid ReplicaSet whose selector is the one it was created with.
func ValidateReplicaSetUpdate(rs, oldRS *apps.ReplicaSet) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&rs.ObjectMeta, &oldRS.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateReplicaSetSpec(&rs.Spec, field.NewPath("spec"))...)
	return append(allErrs, validateSelectorUnchanged(rs.Spec.Selector, oldRS.Spec.Selector, field.NewPath("spec", "selector"))...)
}

// ValidateReplicaSetStatusUpdate checks an update through replicasets/status.
func ValidateReplicaSetStatusUpdate(rs, oldRS *apps.ReplicaSet) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&rs.ObjectMeta, &oldRS.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateReplicaSetStatus(&rs.Status, field.NewPath("status"))...)
}

func validateReplicaSetSpec(spec *apps.ReplicaSetSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateReplicas(spec.Replicas, fldPath.Child("replicas"))
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	allErrs = append(allErrs, validateSelectorAndTemplate(spec.Selector, &spec.Template, fldPath)...)
	return allErrs
}

func validateReplicaSetStatus(status *apps.ReplicaSetStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	counts := []struct {
		name  string
		value int32
	}{
		{"replicas", status.Replicas},
		{"fullyLabeledReplicas", status.FullyLabeledReplicas},
		{"readyReplicas", status.ReadyReplicas},
		{"availableReplicas", status.AvailableReplicas},
	}
	for _, c := range counts {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(c.value), fldPath.Child(c.name))...)
	}
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(status.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	const msg = "cannot be greater than status.replicas"
	if status.FullyLabeledReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("fullyLabeledReplicas"), status.FullyLabeledReplicas, msg))
	}
	if status.ReadyReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("readyReplicas"), status.ReadyReplicas, msg))
	}
	if status.AvailableReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("availableReplicas"), status.AvailableReplicas, msg))
	}
	if status.AvailableReplicas > status.ReadyReplicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("availableReplicas"), status.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	seen := map[apps.ReplicaSetConditionType]bool{}
	for i, c := range status.Conditions {
		allErrs = append(allErrs, validateCondition(string(c.Type), c.Status, seen[c.Type], fldPath.Child("conditions").Index(i))...)
		seen[c.Type] = true
	}
	return allErrs
}

// ValidateDeployment checks a Deployment on creation.
func ValidateDeployment(d *apps.Deployment) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&d.ObjectMeta, true, ValidateName, field.NewPath("metadata"))
	return append(allErrs, validateDeploymentSpec(&d.Spec, field.NewPath("spec"))...)
}

// ValidateDeploymentUpdate checks an update through the main endpoint: a
// valid Deployment whose selector is the one it was created with.
func ValidateDeploymentUpdate(d, oldD *apps.Deployment) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&d.ObjectMeta, &oldD.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateDeploymentSpec(&d.Spec, field.NewPath("spec"))...)
	return append(allErrs, validateSelectorUnchanged(d.Spec.Selector, oldD.Spec.Selector, field.NewPath("spec", "selector"))...)
}

// ValidateDeploymentStatusUpdate checks an update through deployments/status.
func ValidateDeploymentStatusUpdate(d, oldD *apps.Deployment) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&d.ObjectMeta, &oldD.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateDeploymentStatus(&d.Status, field.NewPath("status"))...)
	if old, now := oldD.Status.CollisionCount, d.Status.CollisionCount; old != nil && (now == nil || *now < *old) {
		// The controller derives pod-template-hash from it: going back would
		// reuse the hash of a ReplicaSet that collided.
		allErrs = append(allErrs, field.Invalid(field.NewPath("status", "collisionCount"), now, "cannot be decremented"))
	}
	return allErrs
}

func validateDeploymentSpec(spec *apps.DeploymentSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateReplicas(spec.Replicas, fldPath.Child("replicas"))
	allErrs = append(allErrs, validateSelectorAndTemplate(spec.Selector, &spec.Template, fldPath)...)
	allErrs = append(allErrs, validateStrategy(&spec.Strategy, fldPath.Child("strategy"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	if d := spec.ProgressDeadlineSeconds; d != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*d), fldPath.Child("progressDeadlineSeconds"))...)
		if *d <= spec.MinReadySeconds {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("progressDeadlineSeconds"), *d, "must be greater than minReadySeconds"))
		}
	}
	return allErrs
}

func validateStrategy(s *apps.DeploymentStrategy, fldPath *field.Path) field.ErrorList {
	switch s.Type {
	case apps.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(fldPath.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
		return nil
	case apps.RollingUpdateDeploymentStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(fldPath.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		return validateRollingUpdate(s.RollingUpdate, fldPath.Child("rollingUpdate"))
	case "":
		return field.ErrorList{field.Required(fldPath.Child("type"), "")}
	default:
		return field.ErrorList{field.NotSupported(fldPath.Child("type"), s.Type, strategyTypes)}
	}
}

// validateRollingUpdate checks maxUnavailable and maxSurge: each a
// non-negative number or a percentage, maxUnavailable at most 100%, and not
// both zero, since a rollout could then never replace a pod.
func validateRollingUpdate(ru *apps.RollingUpdateDeployment, fldPath *field.Path) field.ErrorList {
	unavailablePath, surgePath := fldPath.Child("maxUnavailable"), fldPath.Child("maxSurge")
	var allErrs field.ErrorList
	if ru.MaxUnavailable == nil {
		allErrs = append(allErrs, field.Required(unavailablePath, ""))
	}
	if ru.MaxSurge == nil {
		allErrs = append(allErrs, field.Required(surgePath, ""))
	}
	if len(allErrs) > 0 {
		return allErrs
	}
	allErrs = append(allErrs, validateIntOrPercent(*ru.MaxUnavailable, unavailablePath)...)
	allErrs = append(allErrs, validateIntOrPercent(*ru.MaxSurge, surgePath)...)
	if len(allErrs) > 0 {
		return allErrs
	}
	if intOrPercentValue(*ru.MaxUnavailable) == 0 && intOrPercentValue(*ru.MaxSurge) == 0 {
		allErrs = append(allErrs, field.Invalid(unavailablePath, ru.MaxUnavailable.String(), "may not be 0 when `maxSurge` is 0"))
	}
	if ru.MaxUnavailable.Type == intstr.String && intOrPercentValue(*ru.MaxUnavailable) > 100 {
		allErrs = append(allErrs, field.Invalid(unavailablePath, ru.MaxUnavailable.String(), "must not be greater than 100%"))
	}
	return allErrs
}

// validateIntOrPercent checks a non-negative integer or a percentage such as "25%".
func validateIntOrPercent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	switch v.Type {
	case intstr.Int:
		return apimachineryvalidation.ValidateNonnegativeField(int64(v.IntVal), fldPath)
	case intstr.String:
		var allErrs field.ErrorList
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			allErrs = append(allErrs, field.Invalid(fldPath, v.StrVal, msg))
		}
		return allErrs
	default:
		return field.ErrorList{field.Invalid(fldPath, v.String(), "must be an integer or percentage (e.g '5%')")}
	}
}

// intOrPercentValue is the number of a valid integer or percentage.
func intOrPercentValue(v intstr.IntOrString) int {
	if v.Type == intstr.Int {
		return int(v.IntVal)
	}
	var n int
	_, _ = fmt.Sscanf(v.StrVal, "%d%%", &n)
	return n
}

func validateDeploymentStatus(status *apps.DeploymentStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	counts := []struct {
		name  string
		value int32
	}{
		{"replicas", status.Replicas},
		{"updatedReplicas", status.UpdatedReplicas},
		{"readyReplicas", status.ReadyReplicas},
		{"availableReplicas", status.AvailableReplicas},
		{"unavailableReplicas", status.UnavailableReplicas},
	}
	for _, c := range counts {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(c.value), fldPath.Child(c.name))...)
	}
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(status.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	if status.CollisionCount != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*status.CollisionCount), fldPath.Child("collisionCount"))...)
	}
	const msg = "cannot be greater than status.replicas"
	if status.UpdatedReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("updatedReplicas"), status.UpdatedReplicas, msg))
	}
	if status.ReadyReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("readyReplicas"), status.ReadyReplicas, msg))
	}
	if status.AvailableReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("availableReplicas"), status.AvailableReplicas, msg))
	}
	if status.AvailableReplicas > status.ReadyReplicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("availableReplicas"), status.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	seen := map[apps.DeploymentConditionType]bool{}
	for i, c := range status.Conditions {
		allErrs = append(allErrs, validateCondition(string(c.Type), c.Status, seen[c.Type], fldPath.Child("conditions").Index(i))...)
		seen[c.Type] = true
	}
	return allErrs
}

// validateReplicas requires a non-negative replica count; versioned clients
// always send one, as defaulting fills it in.
func validateReplicas(replicas *int32, fldPath *field.Path) field.ErrorList {
	if replicas == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	return apimachineryvalidation.ValidateNonnegativeField(int64(*replicas), fldPath)
}

// validateSelectorAndTemplate checks what a ReplicaSet and a Deployment
// share: a non-empty, valid selector; a template valid as a pod's, whose
// restartPolicy is Always (a controller replaces pods, it does not let them
// finish); and template labels the selector matches, or the controller would
// create pods it cannot count.
func validateSelectorAndTemplate(sel *metav1.LabelSelector, template *core.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	selPath, templatePath := fldPath.Child("selector"), fldPath.Child("template")
	var allErrs field.ErrorList
	var selector labels.Selector
	switch {
	case sel == nil:
		allErrs = append(allErrs, field.Required(selPath, ""))
	case len(sel.MatchLabels)+len(sel.MatchExpressions) == 0:
		allErrs = append(allErrs, field.Invalid(selPath, sel, "empty selector is invalid: it would select every pod in the namespace"))
	default:
		selErrs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, selPath)
		allErrs = append(allErrs, selErrs...)
		if len(selErrs) == 0 {
			s, err := metav1.LabelSelectorAsSelector(sel)
			if err != nil {
				allErrs = append(allErrs, field.Invalid(selPath, sel, "invalid label selector"))
			} else {
				selector = s
			}
		}
	}
	if selector != nil && !selector.Empty() && !selector.Matches(labels.Set(template.Labels)) {
		allErrs = append(allErrs, field.Invalid(templatePath.Child("metadata", "labels"), template.Labels, "`selector` does not match template `labels`"))
	}
	allErrs = append(allErrs, corevalidation.ValidatePodTemplateSpec(template, templatePath)...)
	if p := template.Spec.RestartPolicy; p != core.RestartPolicyAlways && p != "" {
		allErrs = append(allErrs, field.NotSupported(templatePath.Child("spec", "restartPolicy"), p, []core.RestartPolicy{core.RestartPolicyAlways}))
	}
	return allErrs
}

// validateSelectorUnchanged keeps the selector fixed after creation, as
// apps/v1 does: a new selector would orphan the pods the old one owned.
func validateSelectorUnchanged(sel, oldSel *metav1.LabelSelector, fldPath *field.Path) field.ErrorList {
	return apimachineryvalidation.ValidateImmutableField(sel, oldSel, fldPath)
}

func validateCondition(condType string, status core.ConditionStatus, duplicate bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch {
	case condType == "":
		allErrs = append(allErrs, field.Required(fldPath.Child("type"), ""))
	case duplicate:
		allErrs = append(allErrs, field.Duplicate(fldPath.Child("type"), condType))
	}
	switch status {
	case core.ConditionTrue, core.ConditionFalse, core.ConditionUnknown:
	case "":
		allErrs = append(allErrs, field.Required(fldPath.Child("status"), ""))
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("status"), status, conditionStatuses))
	}
	return allErrs
}
