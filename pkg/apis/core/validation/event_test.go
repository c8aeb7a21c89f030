package validation

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// validEvent is an event as client-go's recorder writes it (no eventTime).
func validEvent() *corev1.Event {
	now := metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "web.1811a2b3c4d5e6f7", Namespace: "default", ResourceVersion: "1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web", APIVersion: "core.skiff.dev/v1alpha1"},
		Reason:         "Scheduled",
		Message:        "Successfully assigned default/web to node-1",
		Source:         corev1.EventSource{Component: "skiff-scheduler"},
		FirstTimestamp: now,
		LastTimestamp:  now,
		Count:          1,
		Type:           corev1.EventTypeNormal,
	}
}

// newStyleEvent is an event that carries an eventTime.
func newStyleEvent(e *corev1.Event) {
	e.EventTime = metav1.NewMicroTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	e.ReportingController = "skiff.dev/scheduler"
	e.ReportingInstance = "scheduler-1"
	e.Action = "Binding"
}

func TestValidateEvent(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(e *corev1.Event)
		want   []want
	}{
		{name: "a recorder's event is valid", mutate: func(e *corev1.Event) {}},
		{name: "a warning is valid", mutate: func(e *corev1.Event) { e.Type = corev1.EventTypeWarning }},
		{name: "type may be left empty", mutate: func(e *corev1.Event) { e.Type = "" }},
		{name: "type must be Normal or Warning", mutate: func(e *corev1.Event) { e.Type = "Error" },
			want: []want{notSupported("type").with(`"Normal", "Warning"`)}},
		{name: "count may not be negative", mutate: func(e *corev1.Event) { e.Count = -1 },
			want: []want{invalid("count")}},
		{name: "an event lives in its object's namespace", mutate: func(e *corev1.Event) { e.InvolvedObject.Namespace = "kube-system" },
			want: []want{invalid("involvedObject.namespace").with("does not match event.namespace")}},
		{name: "an event about a node goes in default", mutate: func(e *corev1.Event) {
			e.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-1"}
		}},
		{name: "an event about a node may not go elsewhere", mutate: func(e *corev1.Event) {
			e.Namespace = "apps"
			e.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-1"}
		}, want: []want{invalid("involvedObject.namespace")}},
		{name: "events are namespaced", mutate: func(e *corev1.Event) {
			e.Namespace = ""
			e.InvolvedObject.Namespace = ""
		}, want: []want{required("metadata.namespace")}},
		{name: "a legacy event's long message is kept, as upstream", mutate: func(e *corev1.Event) {
			e.Message = strings.Repeat("x", 5000)
			e.Reason = strings.Repeat("r", 200)
		}},
		{name: "a new-style event is valid", mutate: newStyleEvent},
		{name: "a new-style event says who reported it and why", mutate: func(e *corev1.Event) {
			newStyleEvent(e)
			e.ReportingController, e.ReportingInstance, e.Action, e.Reason = "", "", "", ""
		}, want: []want{required("reportingComponent"), required("reportingInstance"), required("action"), required("reason")}},
		{name: "a new-style event's reporter must be a qualified name", mutate: func(e *corev1.Event) {
			newStyleEvent(e)
			e.ReportingController = "the scheduler"
		}, want: []want{invalid("reportingComponent")}},
		{name: "a new-style event's strings are bounded", mutate: func(e *corev1.Event) {
			newStyleEvent(e)
			e.Reason = strings.Repeat("r", ReasonLengthLimit+1)
			e.Message = strings.Repeat("m", MessageLengthLimit+1)
			e.ReportingInstance = strings.Repeat("i", ReportingInstanceLengthLimit+1)
		}, want: []want{
			invalid("reason").with("can have at most 128 characters"),
			invalid("message").with("can have at most 1024 characters"),
			invalid("reportingInstance"),
		}},
		{name: "a new-style event at the bounds is valid", mutate: func(e *corev1.Event) {
			newStyleEvent(e)
			e.Reason = strings.Repeat("r", ReasonLengthLimit)
			e.Message = strings.Repeat("m", MessageLengthLimit)
		}},
		{name: "a new-style event about a node may go in kube-system", mutate: func(e *corev1.Event) {
			newStyleEvent(e)
			e.Namespace = "kube-system"
			e.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-1"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := validEvent()
			tc.mutate(e)
			expectErrors(t, ValidateEvent(e), tc.want...)
		})
	}
}

func TestValidateEventUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(e *corev1.Event)
		want   []want
	}{
		{name: "the recorder bumping a repeated event is valid", mutate: func(e *corev1.Event) {
			e.Count = 2
			e.LastTimestamp = metav1.NewTime(e.LastTimestamp.Add(time.Minute))
			e.Message = "Successfully assigned default/web to node-1 (again)"
		}},
		{name: "the new event must be valid", mutate: func(e *corev1.Event) { e.Count = -1 },
			want: []want{invalid("count")}},
		{name: "namespace is immutable", mutate: func(e *corev1.Event) {
			e.Namespace = "apps"
			e.InvolvedObject.Namespace = "apps"
		}, want: []want{invalid("metadata.namespace")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oldEvent := validEvent()
			e := oldEvent.DeepCopy()
			tc.mutate(e)
			expectErrors(t, ValidateEventUpdate(e, oldEvent), tc.want...)
		})
	}
}
