// Package namespace tests the namespace controller against an in-process
// API server: a deleted namespace is emptied of every kind, pods first,
// and then goes.
package namespace

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/metadata"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/controller/namespace"
	"skiff.dev/skiff/test/integration/framework"
)

const ns = "doomed"

func pod(name, node string, grace int64) *v1alpha1.Pod {
	return &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.PodSpec{
			NodeName:                      node,
			TerminationGracePeriodSeconds: &grace,
			Containers:                    []v1alpha1.Container{{Name: "main", Image: "busybox", Command: []string{"sleep", "3600"}}},
		},
	}
}

func TestDeletedNamespaceIsEmptiedThenRemoved(t *testing.T) {
	s := framework.StartTestServer(t, framework.WithNamespaceLifecycle())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The controller, in-process, as the controller manager runs it.
	factory := informers.NewSharedInformerFactory(s.Kube, 0)
	controller, err := namespace.NewController(s.Kube, metadata.NewForConfigOrDie(s.AdminConfig),
		discovery.NewDiscoveryClientForConfigOrDie(s.AdminConfig), factory.Core().V1().Namespaces(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	go controller.Run(ctx, 2)

	if _, err := s.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := s.Client.CoreV1alpha1().Pods(ns)
	for _, p := range []*v1alpha1.Pod{pod("pending", "", 30), pod("running", "n1", 2)} {
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod %s: %v", p.Name, err)
		}
	}
	holder := "me"
	if _, err := s.Client.CoreV1alpha1().Leases(ns).Create(ctx, &v1alpha1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "lock"}, Spec: v1alpha1.LeaseSpec{HolderIdentity: &holder},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Kube.CoreV1().Events(ns).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "pending.1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "pending"},
		Reason:         "FailedScheduling", Type: corev1.EventTypeWarning,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := s.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	// The pending pod goes at once; the running one waits for its kubelet,
	// and everything else waits for the pods.
	poll(ctx, t, "the running pod to be terminating and the pending one gone", func() bool {
		running, err := pods.Get(ctx, "running", metav1.GetOptions{})
		_, pendingErr := pods.Get(ctx, "pending", metav1.GetOptions{})
		return err == nil && running.DeletionTimestamp != nil && apierrors.IsNotFound(pendingErr)
	})
	got, err := s.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil || got.Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("namespace while its pods stop = %+v, %v; want Terminating", got, err)
	}
	if _, err := s.Client.CoreV1alpha1().Leases(ns).Get(ctx, "lock", metav1.GetOptions{}); err != nil {
		t.Errorf("the lease went before the pods: %v", err)
	}

	// The kubelet's final delete, as it sends once the containers stopped.
	zero := int64(0)
	if err := pods.Delete(ctx, "running", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "the namespace to be gone", func() bool {
		_, err := s.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if l, err := s.Client.CoreV1alpha1().Leases(ns).List(ctx, metav1.ListOptions{}); err != nil || len(l.Items) != 0 {
		t.Errorf("leases left in the deleted namespace: %v, %v", l, err)
	}
	if l, err := s.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{}); err != nil || len(l.Items) != 0 {
		t.Errorf("events left in the deleted namespace: %v, %v", l, err)
	}
	// The namespace can be made again, empty.
	if _, err := s.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Errorf("recreate the namespace: %v", err)
	}
}

func poll(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	t.Logf("%s after %v", what, time.Since(start).Round(time.Millisecond))
}
