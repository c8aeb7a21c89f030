package validation

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Length limits of an event's fields, as upstream enforces them on events
// that carry an eventTime.
const (
	ReasonLengthLimit            = 128
	MessageLengthLimit           = 1024
	ReportingInstanceLengthLimit = 128
	ActionLengthLimit            = 128
)

var eventTypes = []string{corev1.EventTypeNormal, corev1.EventTypeWarning}

// ValidateEvent checks a core/v1 Event on creation. skiff serves events only
// at /api/v1, so these are upstream's rules for that version: the legacy
// checks, and none of events.k8s.io's stricter ones.
func ValidateEvent(event *corev1.Event) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&event.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateEventFields(event)...)
	return allErrs
}

// ValidateEventUpdate checks an event update, which the recorder uses to bump
// count, lastTimestamp and message of a repeated event. As upstream's core/v1
// events, the fields themselves stay mutable.
func ValidateEventUpdate(newEvent, oldEvent *corev1.Event) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newEvent.ObjectMeta, &oldEvent.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateEventFields(newEvent)...)
	return allErrs
}

// validateEventFields follows upstream's legacy rules: an event lives in its
// object's namespace (an event about a cluster-scoped object in "default");
// an event with an eventTime (the newer form) must also say who reported it,
// what was done and why, and keep its strings within bounds. Events with no
// eventTime, as client-go's recorder writes them, are not length-checked.
func validateEventFields(event *corev1.Event) field.ErrorList {
	var allErrs field.ErrorList
	nsPath := field.NewPath("involvedObject", "namespace")
	const mismatch = "does not match event.namespace"
	if event.EventTime.IsZero() {
		if event.InvolvedObject.Namespace == "" {
			if event.Namespace != metav1.NamespaceNone && event.Namespace != metav1.NamespaceDefault {
				allErrs = append(allErrs, field.Invalid(nsPath, event.InvolvedObject.Namespace, mismatch))
			}
		} else if event.Namespace != event.InvolvedObject.Namespace {
			allErrs = append(allErrs, field.Invalid(nsPath, event.InvolvedObject.Namespace, mismatch))
		}
	} else {
		if event.InvolvedObject.Namespace == "" {
			if event.Namespace != metav1.NamespaceDefault && event.Namespace != metav1.NamespaceSystem {
				allErrs = append(allErrs, field.Invalid(nsPath, event.InvolvedObject.Namespace, mismatch))
			}
		} else if event.Namespace != event.InvolvedObject.Namespace {
			allErrs = append(allErrs, field.Invalid(nsPath, event.InvolvedObject.Namespace, mismatch))
		}
		allErrs = append(allErrs, validateNewEventFields(event)...)
	}

	if event.Type != "" && event.Type != corev1.EventTypeNormal && event.Type != corev1.EventTypeWarning {
		allErrs = append(allErrs, field.NotSupported(field.NewPath("type"), event.Type, eventTypes))
	}
	allErrs = append(allErrs, validateNonnegative(int64(event.Count), field.NewPath("count"))...)
	return allErrs
}

// validateNewEventFields checks what an event with an eventTime must carry.
func validateNewEventFields(event *corev1.Event) field.ErrorList {
	var allErrs field.ErrorList
	// The JSON name of ReportingController in core/v1.
	rcPath := field.NewPath("reportingComponent")
	if event.ReportingController == "" {
		allErrs = append(allErrs, field.Required(rcPath, ""))
	} else {
		for _, msg := range content.IsQualifiedName(event.ReportingController) {
			allErrs = append(allErrs, field.Invalid(rcPath, event.ReportingController, msg))
		}
	}
	allErrs = append(allErrs, requiredBounded(event.ReportingInstance, ReportingInstanceLengthLimit, field.NewPath("reportingInstance"))...)
	allErrs = append(allErrs, requiredBounded(event.Action, ActionLengthLimit, field.NewPath("action"))...)
	allErrs = append(allErrs, requiredBounded(event.Reason, ReasonLengthLimit, field.NewPath("reason"))...)
	if len(event.Message) > MessageLengthLimit {
		allErrs = append(allErrs, field.Invalid(field.NewPath("message"), "", maxLengthMessage(MessageLengthLimit)))
	}
	return allErrs
}

func requiredBounded(value string, limit int, fldPath *field.Path) field.ErrorList {
	switch {
	case value == "":
		return field.ErrorList{field.Required(fldPath, "")}
	case len(value) > limit:
		return field.ErrorList{field.Invalid(fldPath, "", maxLengthMessage(limit))}
	}
	return nil
}
