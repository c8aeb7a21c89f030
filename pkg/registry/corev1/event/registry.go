// Package event is the registry of core/v1 Events. Events expire after a
// TTL, as upstream's do, so a busy cluster's history does not grow without
// bound.
package event

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"skiff.dev/skiff/pkg/apis/core/validation"
	"skiff.dev/skiff/pkg/registry/rules"
	"skiff.dev/skiff/pkg/registry/table"
)

// SelectableFields are the field selectors events accept, as upstream's.
var SelectableFields = []string{
	"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
	"involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
	"reason", "reportingComponent", "source", "type",
}

type strategy struct {
	rules.Defaults
}

var (
	_ rest.RESTCreateStrategy = strategy{}
	_ rest.RESTUpdateStrategy = strategy{}
)

func (strategy) NamespaceScoped() bool                                            { return true }
func (strategy) PrepareForCreate(context.Context, runtime.Object)                 {}
func (strategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}

// AllowCreateOnUpdate: an event recorder may PUT an event it has not created yet, as upstream allows.
func (strategy) AllowCreateOnUpdate(context.Context) bool { return true }

func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateEvent(obj.(*corev1.Event)))
}

func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateEventUpdate(obj.(*corev1.Event), old.(*corev1.Event)))
}

// REST is the events endpoint.
type REST struct {
	rules.Store
}

// ShortNames lets `kubectl get ev` work.
func (*REST) ShortNames() []string { return []string{"ev"} }

// NewREST builds the events endpoint; each event lives ttl after its last write.
func NewREST(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter, ttl time.Duration) (*REST, error) {
	s := strategy{rules.NewDefaults(scheme)}
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &corev1.Event{} },
		NewListFunc:               func() runtime.Object { return &corev1.EventList{} },
		PredicateFunc:             matchEvent,
		DefaultQualifiedResource:  corev1.Resource("events"),
		SingularQualifiedResource: corev1.Resource("event"),
		TTLFunc: func(runtime.Object, uint64, bool) (uint64, error) {
			return uint64(ttl.Seconds()), nil
		},
		CreateStrategy: s,
		UpdateStrategy: s,
		DeleteStrategy: s,
		// The columns kubectl prints for `kubectl get events`.
		TableConvertor: table.New([]metav1.TableColumnDefinition{
			table.Column("Last Seen", "string", "Time since the event was last seen.", false),
			table.Column("Type", "string", "Normal or Warning.", false),
			table.Column("Reason", "string", "Why the event happened.", false),
			table.Column("Object", "string", "The object the event is about.", false),
			table.Column("Message", "string", "What happened.", false),
			table.Column("Source", "string", "The component that reported the event.", true),
			table.Column("First Seen", "string", "Time since the event was first seen.", true),
			table.Column("Count", "integer", "How often the event was seen.", true),
			table.Column("Name", "string", "Name of the event.", true),
		}, printEvent),
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: GetAttrs}); err != nil {
		return nil, fmt.Errorf("complete event storage: %w", err)
	}
	return &REST{rules.Store{Store: store}}, nil
}

// GetAttrs returns an event's labels and selectable fields.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	e, ok := obj.(*corev1.Event)
	if !ok {
		return nil, nil, fmt.Errorf("not an event: %T", obj)
	}
	source := e.Source.Component
	if source == "" {
		source = e.ReportingController
	}
	return labels.Set(e.Labels), generic.AddObjectMetaFieldsSet(fields.Set{
		"involvedObject.kind":            e.InvolvedObject.Kind,
		"involvedObject.namespace":       e.InvolvedObject.Namespace,
		"involvedObject.name":            e.InvolvedObject.Name,
		"involvedObject.uid":             string(e.InvolvedObject.UID),
		"involvedObject.apiVersion":      e.InvolvedObject.APIVersion,
		"involvedObject.resourceVersion": e.InvolvedObject.ResourceVersion,
		"involvedObject.fieldPath":       e.InvolvedObject.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         source,
		"type":                           e.Type,
	}, &e.ObjectMeta, true), nil
}

func matchEvent(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}

func printEvent(obj runtime.Object) ([]interface{}, error) {
	e, ok := obj.(*corev1.Event)
	if !ok {
		return nil, fmt.Errorf("not an event: %T", obj)
	}
	first, last := e.FirstTimestamp, e.LastTimestamp
	if last.IsZero() {
		last = metav1.NewTime(e.EventTime.Time)
	}
	if first.IsZero() {
		first = metav1.NewTime(e.EventTime.Time)
	}
	object := fmt.Sprintf("%s/%s", strings.ToLower(e.InvolvedObject.Kind), e.InvolvedObject.Name)
	source := e.Source.Component
	if e.Source.Host != "" {
		source += ", " + e.Source.Host
	}
	return []interface{}{table.Age(last), e.Type, e.Reason, object, e.Message, source, table.Age(first), int64(e.Count), e.Name}, nil
}
