package validation

import (
	"k8s.io/apimachinery/pkg/api/validate/content"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/pkg/apis/core"
)

// Length limits of an event's fields, as upstream enforces them on events
// that carry an eventTime.
const (
	ReasonLengthLimit            = 128
	MessageLengthLimit           = 1024
	ReportingInstanceLengthLimit = 128
)

var eventTypes = []string{core.EventTypeNormal, core.EventTypeWarning}

// ValidateEvent checks an event on creation.
func ValidateEvent(event *core.Event) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&event.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateEventFields(event)...)
	return allErrs
}

// ValidateEventUpdate checks an event update, which the recorder uses to bump
// count, lastTimestamp and message of a repeated event. As for core/v1
// events, the fields themselves stay mutable.
func ValidateEventUpdate(newEvent, oldEvent *core.Event) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newEvent.ObjectMeta, &oldEvent.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateEventFields(newEvent)...)
	return allErrs
}

// validateEventFields follows the core/v1 rules: an event lives in its
// object's namespace (an event about a cluster-scoped object in "default");
// an event with an eventTime (the newer form) must also say who reported it,
// why, and keep its strings within bounds. Legacy events (no eventTime, as
// client-go's recorder writes) are not length-checked, as upstream.
func validateEventFields(event *core.Event) field.ErrorList {
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

	if event.Type != "" && event.Type != core.EventTypeNormal && event.Type != core.EventTypeWarning {
		allErrs = append(allErrs, field.NotSupported(field.NewPath("type"), event.Type, eventTypes))
	}
	allErrs = append(allErrs, validateNonnegative(int64(event.Count), field.NewPath("count"))...)
	return allErrs
}

// validateNewEventFields checks what an event with an eventTime must carry.
func validateNewEventFields(event *core.Event) field.ErrorList {
	var allErrs field.ErrorList
	// The JSON name of ReportingController, as in core/v1.
	rcPath := field.NewPath("reportingComponent")
	if event.ReportingController == "" {
		allErrs = append(allErrs, field.Required(rcPath, ""))
	} else {
		for _, msg := range content.IsQualifiedName(event.ReportingController) {
			allErrs = append(allErrs, field.Invalid(rcPath, event.ReportingController, msg))
		}
	}
	riPath := field.NewPath("reportingInstance")
	if event.ReportingInstance == "" {
		allErrs = append(allErrs, field.Required(riPath, ""))
	} else if len(event.ReportingInstance) > ReportingInstanceLengthLimit {
		allErrs = append(allErrs, field.Invalid(riPath, "", maxLengthMessage(ReportingInstanceLengthLimit)))
	}
	reasonPath := field.NewPath("reason")
	if event.Reason == "" {
		allErrs = append(allErrs, field.Required(reasonPath, ""))
	} else if len(event.Reason) > ReasonLengthLimit {
		allErrs = append(allErrs, field.Invalid(reasonPath, "", maxLengthMessage(ReasonLengthLimit)))
	}
	if len(event.Message) > MessageLengthLimit {
		allErrs = append(allErrs, field.Invalid(field.NewPath("message"), "", maxLengthMessage(MessageLengthLimit)))
	}
	return allErrs
}
