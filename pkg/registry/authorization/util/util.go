// Package util turns the authorization.k8s.io/v1 review types into the
// attributes an authorizer decides on, and validates them as upstream does.
package util

import (
	"fmt"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// ResourceAttributesFrom is the request a review's resourceAttributes
// describe, made by u. An empty version matches every version, as upstream.
func ResourceAttributesFrom(u user.Info, in authorizationv1.ResourceAttributes) authorizer.AttributesRecord {
	version := in.Version
	if version == "" {
		version = "*"
	}
	attrs := authorizer.AttributesRecord{
		User:            u,
		Verb:            in.Verb,
		Namespace:       in.Namespace,
		APIGroup:        in.Group,
		APIVersion:      version,
		Resource:        in.Resource,
		Subresource:     in.Subresource,
		Name:            in.Name,
		ResourceRequest: true,
	}
	if s := in.FieldSelector; s != nil {
		if s.RawSelector != "" {
			sel, err := fields.ParseSelector(s.RawSelector)
			if err == nil {
				attrs.FieldSelectorRequirements = sel.Requirements()
			}
			attrs.FieldSelectorParsingErr = err
		}
		if len(s.Requirements) > 0 {
			attrs.FieldSelectorRequirements, attrs.FieldSelectorParsingErr = fieldRequirements(s.Requirements)
		}
	}
	if s := in.LabelSelector; s != nil {
		if s.RawSelector != "" {
			sel, err := labels.Parse(s.RawSelector)
			if err == nil {
				attrs.LabelSelectorRequirements, _ = sel.Requirements()
			}
			attrs.LabelSelectorParsingErr = err
		}
		if len(s.Requirements) > 0 {
			attrs.LabelSelectorRequirements, attrs.LabelSelectorParsingErr = labelRequirements(s.Requirements)
		}
	}
	return attrs
}

// NonResourceAttributesFrom is the request to a path a review describes.
func NonResourceAttributesFrom(u user.Info, in authorizationv1.NonResourceAttributes) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{User: u, Verb: in.Verb, Path: in.Path}
}

// AttributesFrom is the request a SubjectAccessReview's spec describes,
// made by the user the spec names.
func AttributesFrom(spec authorizationv1.SubjectAccessReviewSpec) authorizer.AttributesRecord {
	u := &user.DefaultInfo{Name: spec.User, UID: spec.UID, Groups: spec.Groups}
	if spec.Extra != nil {
		u.Extra = make(map[string][]string, len(spec.Extra))
		for k, v := range spec.Extra {
			u.Extra[k] = v
		}
	}
	if spec.ResourceAttributes != nil {
		return ResourceAttributesFrom(u, *spec.ResourceAttributes)
	}
	return NonResourceAttributesFrom(u, *spec.NonResourceAttributes)
}

// Status is a review's answer to one decision.
func Status(decision authorizer.Decision, reason string, err error, attrs authorizer.AttributesRecord) authorizationv1.SubjectAccessReviewStatus {
	return authorizationv1.SubjectAccessReviewStatus{
		Allowed:         decision == authorizer.DecisionAllow,
		Denied:          decision == authorizer.DecisionDeny,
		Reason:          reason,
		EvaluationError: evaluationError(err, attrs),
	}
}

// evaluationError says what went wrong in deciding, including selectors
// that were (partly) ignored because they did not parse.
func evaluationError(err error, attrs authorizer.AttributesRecord) string {
	var msgs []string
	if err != nil {
		msgs = append(msgs, err.Error())
	}
	if reqs, err := attrs.GetFieldSelector(); err != nil {
		msgs = append(msgs, ignored("fieldSelector", len(reqs) > 0))
	}
	if reqs, err := attrs.GetLabelSelector(); err != nil {
		msgs = append(msgs, ignored("labelSelector", len(reqs) > 0))
	}
	return strings.Join(msgs, "; ")
}

func ignored(selector string, partly bool) string {
	if partly {
		return "spec.resourceAttributes." + selector + " partially ignored due to parse error"
	}
	return "spec.resourceAttributes." + selector + " ignored due to parse error"
}

func fieldRequirements(in []metav1.FieldSelectorRequirement) (fields.Requirements, error) {
	var reqs fields.Requirements
	var errs []error
	for _, r := range in {
		if len(r.Values) != 1 {
			errs = append(errs, fmt.Errorf("fieldSelectors %s must have exactly one value", r.Operator))
			continue
		}
		switch r.Operator {
		case metav1.FieldSelectorOpIn:
			reqs = append(reqs, fields.Requirement{Field: r.Key, Operator: selection.Equals, Value: r.Values[0]})
		case metav1.FieldSelectorOpNotIn:
			reqs = append(reqs, fields.Requirement{Field: r.Key, Operator: selection.NotEquals, Value: r.Values[0]})
		default:
			errs = append(errs, fmt.Errorf("fieldSelectors do not support operator %q", r.Operator))
		}
	}
	return reqs, utilerrors.NewAggregate(errs)
}

var labelOperators = map[metav1.LabelSelectorOperator]selection.Operator{
	metav1.LabelSelectorOpIn:           selection.In,
	metav1.LabelSelectorOpNotIn:        selection.NotIn,
	metav1.LabelSelectorOpExists:       selection.Exists,
	metav1.LabelSelectorOpDoesNotExist: selection.DoesNotExist,
}

func labelRequirements(in []metav1.LabelSelectorRequirement) (labels.Requirements, error) {
	var reqs labels.Requirements
	var errs []error
	for _, r := range in {
		op, ok := labelOperators[r.Operator]
		if !ok {
			errs = append(errs, fmt.Errorf("%q is not a valid label selector operator", r.Operator))
			continue
		}
		values := r.Values
		if len(values) == 0 {
			values = nil
		}
		req, err := labels.NewRequirement(r.Key, op, values)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		reqs = append(reqs, *req)
	}
	return reqs, utilerrors.NewAggregate(errs)
}

// ValidateSpec checks what a SubjectAccessReview and a
// SelfSubjectAccessReview share: exactly one of resourceAttributes and
// nonResourceAttributes, and well-formed selectors.
func ValidateSpec(resource *authorizationv1.ResourceAttributes, nonResource *authorizationv1.NonResourceAttributes, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if (resource == nil) == (nonResource == nil) {
		errs = append(errs, field.Invalid(fldPath, nonResource, "exactly one of nonResourceAttributes or resourceAttributes must be specified"))
	}
	if resource != nil {
		path := fldPath.Child("resourceAttributes")
		if s := resource.FieldSelector; s != nil {
			errs = append(errs, validateSelector(s.RawSelector, len(s.Requirements), path.Child("fieldSelector"))...)
			opts := metav1validation.FieldSelectorValidationOptions{AllowUnknownOperatorInRequirement: true}
			for i, r := range s.Requirements {
				errs = append(errs, metav1validation.ValidateFieldSelectorRequirement(r, opts, path.Child("fieldSelector", "requirements").Index(i))...)
			}
		}
		if s := resource.LabelSelector; s != nil {
			errs = append(errs, validateSelector(s.RawSelector, len(s.Requirements), path.Child("labelSelector"))...)
			opts := metav1validation.LabelSelectorValidationOptions{AllowUnknownOperatorInRequirement: true}
			for i, r := range s.Requirements {
				errs = append(errs, metav1validation.ValidateLabelSelectorRequirement(r, opts, path.Child("labelSelector", "requirements").Index(i))...)
			}
		}
	}
	return errs
}

func validateSelector(raw string, requirements int, fldPath *field.Path) field.ErrorList {
	switch {
	case raw != "" && requirements > 0:
		return field.ErrorList{field.Invalid(fldPath.Child("rawSelector"), raw, "may not be specified at the same time as requirements")}
	case raw == "" && requirements == 0:
		return field.ErrorList{field.Required(fldPath.Child("requirements"), fmt.Sprintf("when %s is specified, requirements or rawSelector is required", fldPath))}
	}
	return nil
}

// ValidateEmptyMeta checks that a review carries no object metadata: a
// review is a question, never stored, so a name or labels would mean nothing.
func ValidateEmptyMeta(meta metav1.ObjectMeta) field.ErrorList {
	meta.ManagedFields = nil
	if !apiequality.Semantic.DeepEqual(metav1.ObjectMeta{}, meta) {
		return field.ErrorList{field.Invalid(field.NewPath("metadata"), meta, "must be empty")}
	}
	return nil
}
