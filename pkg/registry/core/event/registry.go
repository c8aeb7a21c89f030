// Package event is the registry of events. Events expire after a TTL, as
// upstream's do, so a busy cluster's history does not grow without bound.
package event

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/validation"
	"skiff.dev/skiff/pkg/registry/rules"
	"skiff.dev/skiff/pkg/registry/table"
)

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
	return rules.LimitErrors(validation.ValidateEvent(obj.(*core.Event)))
}

func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return rules.LimitErrors(validation.ValidateEventUpdate(obj.(*core.Event), old.(*core.Event)))
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
		NewFunc:                   func() runtime.Object { return &core.Event{} },
		NewListFunc:               func() runtime.Object { return &core.EventList{} },
		PredicateFunc:             matchEvent,
		DefaultQualifiedResource:  core.Resource("events"),
		SingularQualifiedResource: core.Resource("event"),
		TTLFunc: func(runtime.Object, uint64, bool) (uint64, error) {
			return uint64(ttl.Seconds()), nil
		},
		CreateStrategy: s,
		UpdateStrategy: s,
		DeleteStrategy: s,
		TableConvertor: table.New([]metav1.TableColumnDefinition{
			table.Column("Last Seen", "string", "Time since the event was last seen.", false),
			table.Column("Type", "string", "Normal or Warning.", false),
			table.Column("Reason", "string", "Why the event happened.", false),
			table.Column("Object", "string", "The object the event is about.", false),
			table.Column("Message", "string", "What happened.", false),
			table.Column("Name", "string", "Name of the event.", true),
		}, printEvent),
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: getAttrs}); err != nil {
		return nil, fmt.Errorf("complete event storage: %w", err)
	}
	return &REST{rules.Store{Store: store}}, nil
}

func getAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	e, ok := obj.(*core.Event)
	if !ok {
		return nil, nil, fmt.Errorf("not an event: %T", obj)
	}
	return labels.Set(e.Labels), generic.AddObjectMetaFieldsSet(fields.Set{
		"involvedObject.kind":      e.InvolvedObject.Kind,
		"involvedObject.namespace": e.InvolvedObject.Namespace,
		"involvedObject.name":      e.InvolvedObject.Name,
		"involvedObject.uid":       string(e.InvolvedObject.UID),
		"involvedObject.fieldPath": e.InvolvedObject.FieldPath,
		"reason":                   e.Reason,
		"source":                   e.Source.Component,
		"type":                     e.Type,
	}, &e.ObjectMeta, true), nil
}

func matchEvent(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: getAttrs}
}

func printEvent(obj runtime.Object) ([]interface{}, error) {
	e, ok := obj.(*core.Event)
	if !ok {
		return nil, fmt.Errorf("not an event: %T", obj)
	}
	last := e.LastTimestamp
	if last.IsZero() {
		last = metav1.NewTime(e.EventTime.Time)
	}
	object := fmt.Sprintf("%s/%s", lowerKind(e.InvolvedObject.Kind), e.InvolvedObject.Name)
	return []interface{}{table.Age(last), e.Type, e.Reason, object, e.Message, e.Name}, nil
}

func lowerKind(kind string) string {
	out := []rune(kind)
	for i, r := range out {
		if r >= 'A' && r <= 'Z' {
			out[i] = r + ('a' - 'A')
		}
	}
	return string(out)
}
