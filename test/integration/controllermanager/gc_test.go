package controllermanager

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/integration/framework"
)

// In these tests a Node owns Leases, as upstream's nodes own their
// heartbeat Leases: a cluster-scoped owner with namespaced dependents,
// across whatever kinds discovery reports.

func owner(t *testing.T, c clientset.Interface, name string) *v1alpha1.Node {
	t.Helper()
	n, err := c.CoreV1alpha1().Nodes().Create(context.Background(), &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create owner %s: %v", name, err)
	}
	return n
}

func dependent(t *testing.T, c clientset.Interface, name string, uid types.UID, ownerName string, block bool) {
	t.Helper()
	_, err := c.CoreV1alpha1().Leases(ns).Create(context.Background(), &v1alpha1.Lease{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name,
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "Node", Name: ownerName, UID: uid, BlockOwnerDeletion: ptr.To(block),
		}},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create dependent %s: %v", name, err)
	}
}

func leaseGone(c clientset.Interface, name string) func() (bool, error) {
	return func() (bool, error) {
		_, err := c.CoreV1alpha1().Leases(ns).Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
}

func nodeGone(c clientset.Interface, name string) func() (bool, error) {
	return func() (bool, error) {
		_, err := c.CoreV1alpha1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
}

func deleteWith(t *testing.T, c clientset.Interface, name string, policy *metav1.DeletionPropagation) {
	t.Helper()
	if err := c.CoreV1alpha1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{PropagationPolicy: policy}); err != nil {
		t.Fatalf("delete %s: %v", name, err)
	}
}

func TestGarbageCollector(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	ctx := context.Background()
	startControllerManager(t, s)

	t.Run("background: deleting the owner deletes its dependents", func(t *testing.T) {
		o := owner(t, c, "bg-owner")
		dependent(t, c, "bg-dep", o.UID, o.Name, false)
		deleteWith(t, c, o.Name, nil)
		eventually(t, "the dependent to be deleted", leaseGone(c, "bg-dep"))
	})

	t.Run("a dependent whose owner never existed is deleted", func(t *testing.T) {
		dependent(t, c, "dangling", "no-such-uid", "no-such-node", false)
		eventually(t, "the dangling dependent to be deleted", leaseGone(c, "dangling"))
	})

	t.Run("orphan: the dependents stay, without the reference", func(t *testing.T) {
		o := owner(t, c, "orphan-owner")
		dependent(t, c, "orphan-dep", o.UID, o.Name, true)
		// The collector must know the dependent before the owner goes, or
		// there is nothing to orphan. Its graph takes one watch's events in
		// order: once a later dangling lease is collected, the dependent
		// is in the graph.
		dependent(t, c, "orphan-marker", "no-such-uid", "no-such-node", false)
		eventually(t, "the collector to catch up", leaseGone(c, "orphan-marker"))
		deleteWith(t, c, o.Name, ptr.To(metav1.DeletePropagationOrphan))
		eventually(t, "the owner to be deleted once orphaning is done", nodeGone(c, o.Name))
		l, err := c.CoreV1alpha1().Leases(ns).Get(ctx, "orphan-dep", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the orphaned dependent is gone: %v", err)
		}
		if len(l.OwnerReferences) != 0 {
			t.Errorf("orphaned dependent still has owner references %+v", l.OwnerReferences)
		}
	})

	t.Run("foreground: the owner goes only after its blocking dependents", func(t *testing.T) {
		o := owner(t, c, "fg-owner")
		dependent(t, c, "fg-dep", o.UID, o.Name, true)
		deleteWith(t, c, o.Name, ptr.To(metav1.DeletePropagationForeground))
		// The API server keeps the owner with the foregroundDeletion
		// finalizer until the collector is done.
		if n, err := c.CoreV1alpha1().Nodes().Get(ctx, o.Name, metav1.GetOptions{}); err == nil {
			if n.DeletionTimestamp == nil || len(n.Finalizers) != 1 || n.Finalizers[0] != metav1.FinalizerDeleteDependents {
				t.Errorf("owner after a foreground delete: deletionTimestamp %v finalizers %v", n.DeletionTimestamp, n.Finalizers)
			}
		}
		eventually(t, "the dependent to be deleted", leaseGone(c, "fg-dep"))
		eventually(t, "the owner to be deleted after it", nodeGone(c, o.Name))
	})
}
