// Package corev1 holds the registries of the legacy core group (/api/v1)
// that skiff serves in standalone mode: upstream's Namespace and Event, as
// k8s.io/api/core/v1 defines them, so that kubectl's namespace and event
// commands (and kubectl describe) work.
package corev1
