// Package transform holds the informer transforms skiff's components share:
// what an informer drops from an object before it caches it.
package transform

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TrimManagedFields drops an object's managedFields before an informer
// caches it, as kube-scheduler's pod informer and kube-controller-manager's
// informers do: no component reads them (none uses the Extract workflow),
// and they are often a third of an object's decoded size.
func TrimManagedFields(obj interface{}) (interface{}, error) {
	if m, ok := obj.(metav1.Object); ok && m.GetManagedFields() != nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
