// Package events lets skiff components report Events through client-go's
// event machinery: the recorder aggregates and rate-limits them and writes
// core/v1 Events to /api/v1, where kubectl describe and kubectl events look.
// In standalone mode skiff-apiserver serves them; in aggregated mode the
// host cluster does.
package events

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	kubescheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	skiffscheme "skiff.dev/skiff/pkg/generated/clientset/versioned/scheme"
)

// Scheme resolves the objects events are about to their apiVersion and
// kind: skiff's kinds (a Pod is core.skiff.dev/v1alpha1 Pod, which is what
// kubectl describe matches involvedObject against) and upstream's.
var Scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(kubescheme.AddToScheme(Scheme))
	utilruntime.Must(skiffscheme.AddToScheme(Scheme))
}

// NewClient returns the client events are written with, on cfg.
func NewClient(cfg *rest.Config) (kubernetes.Interface, error) {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create events client: %w", err)
	}
	return client, nil
}

// NewRecorder starts a broadcaster that writes core/v1 Events with client
// and returns a recorder for component on host, and a function that
// flushes and stops it.
func NewRecorder(client kubernetes.Interface, component, host string) (record.EventRecorder, func()) {
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	r := b.NewRecorder(Scheme, corev1.EventSource{Component: component, Host: host})
	return r, b.Shutdown
}
