package apiserver

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"skiff.dev/skiff/pkg/registry/corev1/event"
	"skiff.dev/skiff/pkg/registry/corev1/namespace"
)

// addLegacyTypes registers upstream's core/v1 Namespace and Event, the only
// kinds of the legacy core group skiff serves. As for the review types
// (reviews.go), the k8s.io/api types are registered as the internal version
// too, so the server's conversions are copies of the same struct.
func addLegacyTypes(scheme *runtime.Scheme) {
	types := []runtime.Object{&corev1.Namespace{}, &corev1.NamespaceList{}, &corev1.Event{}, &corev1.EventList{}}
	scheme.AddKnownTypes(corev1.SchemeGroupVersion, types...)
	scheme.AddKnownTypes(schema.GroupVersion{Group: corev1.GroupName, Version: runtime.APIVersionInternal}, types...)
	utilruntime.Must(addFieldSelectors(scheme, "Event", event.SelectableFields))
	utilruntime.Must(addFieldSelectors(scheme, "Namespace", namespace.SelectableFields))
	utilruntime.Must(scheme.SetVersionPriority(corev1.SchemeGroupVersion))
}

// addFieldSelectors declares the field selectors kind accepts, so a request
// naming any other field fails with 400 instead of matching nothing.
func addFieldSelectors(scheme *runtime.Scheme, kind string, fields []string) error {
	allowed := map[string]bool{"metadata.name": true, "metadata.namespace": true}
	for _, f := range fields {
		allowed[f] = true
	}
	return scheme.AddFieldLabelConversionFunc(corev1.SchemeGroupVersion.WithKind(kind),
		func(label, value string) (string, string, error) {
			if allowed[label] {
				return label, value, nil
			}
			return "", "", fmt.Errorf("field label not supported: %s", label)
		})
}

// installLegacyAPI serves /api/v1 with namespaces and events, in
// standalone mode; in aggregated mode the host cluster serves them.
func installLegacyAPI(s *genericapiserver.GenericAPIServer, optsGetter generic.RESTOptionsGetter, eventTTL time.Duration) error {
	namespaces, err := namespace.NewStorage(Scheme, optsGetter)
	if err != nil {
		return err
	}
	events, err := event.NewREST(Scheme, optsGetter, eventTTL)
	if err != nil {
		return err
	}
	group := genericapiserver.NewDefaultAPIGroupInfo(corev1.GroupName, Scheme, runtime.NewParameterCodec(Scheme), Codecs)
	group.VersionedResourcesStorageMap[corev1.SchemeGroupVersion.Version] = map[string]rest.Storage{
		"namespaces":          namespaces.Namespace,
		"namespaces/status":   namespaces.Status,
		"namespaces/finalize": namespaces.Finalize,
		"events":              events,
	}
	if err := s.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, &group); err != nil {
		return fmt.Errorf("install the legacy core group: %w", err)
	}
	return nil
}
