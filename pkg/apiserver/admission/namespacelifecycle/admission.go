// Package namespacelifecycle is skiff's NamespaceLifecycle admission
// plugin: an object may be created only in a namespace that exists and is
// not being deleted, and the namespaces skiff cannot run without may not be
// deleted. It is upstream's plugin (k8s.io/apiserver's
// admission/plugin/namespace/lifecycle), which gives upstream's answers
// (`namespaces "x" not found`, 404; `unable to create new content in
// namespace x because it is being terminated`, 403), set up with skiff's
// immortal namespaces and a namespace informer on the API server's own
// loopback client.
package namespacelifecycle

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
)

// PluginName is the plugin's name, as upstream's (--disable-admission-plugins).
const PluginName = lifecycle.PluginName

// SystemNamespace holds skiff's components' leader-election leases.
const SystemNamespace = "skiff-system"

// ImmortalNamespaces may not be deleted: default, and skiff-system as
// kube-system is upstream.
var ImmortalNamespaces = sets.New(metav1.NamespaceDefault, SystemNamespace)

// New returns the plugin. It reads namespaces from factory's informer
// (which the caller starts) and falls back to a live lookup through client
// when the informer has not seen a namespace yet.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory) (admission.MutationInterface, error) {
	l, err := lifecycle.NewLifecycle(ImmortalNamespaces)
	if err != nil {
		return nil, fmt.Errorf("create %s admission: %w", PluginName, err)
	}
	l.SetExternalKubeClientSet(client)
	l.SetExternalKubeInformerFactory(factory)
	if err := l.ValidateInitialization(); err != nil {
		return nil, fmt.Errorf("initialize %s admission: %w", PluginName, err)
	}
	return l, nil
}
