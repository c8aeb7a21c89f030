package nodelease

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
)

func TestLeaseIsCreatedAndRenewed(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	clk := testingclock.NewFakeClock(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	c := New(client, "n1", 0, 0, clk)
	if err := c.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	lease, err := client.CoreV1alpha1().Leases("skiff-node-lease").Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *lease.Spec.HolderIdentity != "n1" || *lease.Spec.LeaseDurationSeconds != 40 || !lease.Spec.RenewTime.Time.Equal(clk.Now()) {
		t.Errorf("lease %+v", lease.Spec)
	}
	clk.Step(10 * time.Second)
	if err := c.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	lease, _ = client.CoreV1alpha1().Leases("skiff-node-lease").Get(ctx, "n1", metav1.GetOptions{})
	if !lease.Spec.RenewTime.Time.Equal(clk.Now()) {
		t.Errorf("renewTime %v, want %v", lease.Spec.RenewTime, clk.Now())
	}
}

func TestLeaseRecoversWhenDeleted(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	c := New(client, "n1", 0, 0, nil)
	if err := c.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	_ = client.CoreV1alpha1().Leases("skiff-node-lease").Delete(ctx, "n1", metav1.DeleteOptions{})
	if err := c.Renew(ctx); err == nil {
		t.Error("renewing a deleted lease should report the failure")
	}
	if err := c.Renew(ctx); err != nil {
		t.Fatalf("the next renewal should create the lease again: %v", err)
	}
	if _, err := client.CoreV1alpha1().Leases("skiff-node-lease").Get(ctx, "n1", metav1.GetOptions{}); err != nil {
		t.Error(err)
	}
}

func TestLeaseTakesOverAnExistingOne(t *testing.T) {
	ctx := context.Background()
	other := "someone-else"
	existing := &v1alpha1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n1", Namespace: Namespace}, Spec: v1alpha1.LeaseSpec{HolderIdentity: &other}}
	client := fake.NewClientset(existing)
	if err := New(client, "n1", 0, 0, nil).Renew(ctx); err != nil {
		t.Fatal(err)
	}
	lease, _ := client.CoreV1alpha1().Leases(Namespace).Get(ctx, "n1", metav1.GetOptions{})
	if *lease.Spec.HolderIdentity != "n1" || lease.Spec.RenewTime == nil {
		t.Errorf("lease %+v", lease.Spec)
	}
}
