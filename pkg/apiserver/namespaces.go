package apiserver

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/apiserver/admission/namespacelifecycle"
	"skiff.dev/skiff/pkg/apiserver/auth"
)

// SystemNamespaces exist from the start, as kube-apiserver's bootstrap
// controller makes default, kube-system and kube-public: default for the
// user's objects, skiff-system for the components' leader-election leases
// and skiff-node-lease for the kubelets' heartbeats.
var SystemNamespaces = []string{metav1.NamespaceDefault, namespacelifecycle.SystemNamespace, auth.NodeLeaseNamespace}

// createSystemNamespacesHook is a post-start hook that creates
// SystemNamespaces through the loopback client. The server reports ready
// (/readyz) only once it has returned, so no component starts writing
// into a namespace that is not there yet.
func createSystemNamespacesHook(hookCtx genericapiserver.PostStartHookContext) error {
	client, err := kubernetes.NewForConfig(hookCtx.LoopbackClientConfig)
	if err != nil {
		return fmt.Errorf("create loopback client: %w", err)
	}
	return wait.PollUntilContextCancel(hookCtx, time.Second, true, func(ctx context.Context) (bool, error) {
		for _, name := range SystemNamespaces {
			if err := ensureNamespace(ctx, client, name); err != nil {
				klog.V(2).InfoS("Cannot create system namespace yet, retrying", "namespace", name, "err", err)
				return false, nil
			}
		}
		return true, nil
	})
}

func ensureNamespace(ctx context.Context, client kubernetes.Interface, name string) error {
	_, err := client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("get namespace %s: %w", name, err)
	}
	_, err = client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	klog.V(2).InfoS("Created system namespace", "namespace", name)
	return nil
}
