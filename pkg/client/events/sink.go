// Package events lets skiff components report Events through client-go's
// event recorder: the recorder aggregates and rate-limits core/v1 Events, and
// the Sink here writes them as core.skiff.dev Events.
package events

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"

	skiffv1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/scheme"
	skiffclient "skiff.dev/skiff/pkg/generated/clientset/versioned/typed/core/v1alpha1"
)

// Sink adapts the generated Events client to record.EventSink.
type Sink struct {
	Client skiffclient.EventsGetter
}

var _ record.EventSink = &Sink{}

// Create writes a new event.
func (s *Sink) Create(e *corev1.Event) (*corev1.Event, error) {
	out, err := s.Client.Events(e.Namespace).Create(context.TODO(), fromCore(e), metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create event %s/%s: %w", e.Namespace, e.Name, err)
	}
	return toCore(out), nil
}

// Update replaces an event.
func (s *Sink) Update(e *corev1.Event) (*corev1.Event, error) {
	out, err := s.Client.Events(e.Namespace).Update(context.TODO(), fromCore(e), metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("update event %s/%s: %w", e.Namespace, e.Name, err)
	}
	return toCore(out), nil
}

// Patch applies the recorder's strategic merge patch (count, lastTimestamp,
// message); the field names are the same in both APIs.
func (s *Sink) Patch(old *corev1.Event, data []byte) (*corev1.Event, error) {
	out, err := s.Client.Events(old.Namespace).Patch(context.TODO(), old.Name, types.StrategicMergePatchType, data, metav1.PatchOptions{})
	if err != nil {
		return nil, fmt.Errorf("patch event %s/%s: %w", old.Namespace, old.Name, err)
	}
	return toCore(out), nil
}

// NewRecorder starts a broadcaster that writes to the cluster and returns a
// recorder for component on host, and a function that flushes and stops it.
func NewRecorder(client clientset.Interface, component, host string) (record.EventRecorder, func()) {
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&Sink{Client: client.CoreV1alpha1()})
	// The generated scheme knows skiff's kinds, so references to skiff
	// objects resolve to core.skiff.dev/v1alpha1.
	r := b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component, Host: host})
	return r, b.Shutdown
}

func fromCore(e *corev1.Event) *skiffv1.Event {
	ref := e.InvolvedObject
	return &skiffv1.Event{
		ObjectMeta: e.ObjectMeta,
		InvolvedObject: skiffv1.ObjectReference{
			Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name, UID: ref.UID,
			APIVersion: ref.APIVersion, ResourceVersion: ref.ResourceVersion, FieldPath: ref.FieldPath,
		},
		Reason:              e.Reason,
		Message:             e.Message,
		Source:              skiffv1.EventSource{Component: e.Source.Component, Host: e.Source.Host},
		FirstTimestamp:      e.FirstTimestamp,
		LastTimestamp:       e.LastTimestamp,
		Count:               e.Count,
		Type:                e.Type,
		EventTime:           e.EventTime,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
}

func toCore(e *skiffv1.Event) *corev1.Event {
	ref := e.InvolvedObject
	return &corev1.Event{
		ObjectMeta: e.ObjectMeta,
		InvolvedObject: corev1.ObjectReference{
			Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name, UID: ref.UID,
			APIVersion: ref.APIVersion, ResourceVersion: ref.ResourceVersion, FieldPath: ref.FieldPath,
		},
		Reason:              e.Reason,
		Message:             e.Message,
		Source:              corev1.EventSource{Component: e.Source.Component, Host: e.Source.Host},
		FirstTimestamp:      e.FirstTimestamp,
		LastTimestamp:       e.LastTimestamp,
		Count:               e.Count,
		Type:                e.Type,
		EventTime:           e.EventTime,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
}
