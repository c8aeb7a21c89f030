// Package nodelease keeps the node's heartbeat Lease fresh: a Lease named
// after the node in namespace skiff-node-lease, renewed every 10 s and valid
// for 40 s, as upstream's kubelet does in kube-node-lease.
package nodelease

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

const (
	// Namespace holds the node leases.
	Namespace = "skiff-node-lease"
	// DefaultDuration is the leaseDurationSeconds written.
	DefaultDuration = 40 * time.Second
	// DefaultRenewInterval is how often the lease is renewed.
	DefaultRenewInterval = 10 * time.Second
	// retryInterval is how soon a failed renewal is tried again.
	retryInterval = time.Second
)

// Controller renews one node's lease.
type Controller struct {
	client        clientset.Interface
	nodeName      string
	duration      time.Duration
	renewInterval time.Duration
	clock         clock.WithTicker
	// lease is the lease as last written, so a renewal is one update.
	lease *v1alpha1.Lease
}

// New returns a Controller for nodeName's lease; zero durations take the
// defaults and a nil clock the real one.
func New(client clientset.Interface, nodeName string, duration, renewInterval time.Duration, clk clock.WithTicker) *Controller {
	if duration == 0 {
		duration = DefaultDuration
	}
	if renewInterval == 0 {
		renewInterval = DefaultRenewInterval
	}
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Controller{client: client, nodeName: nodeName, duration: duration, renewInterval: renewInterval, clock: clk}
}

// Run renews the lease until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	for {
		// A little jitter, as upstream has, keeps many nodes started at
		// once from renewing in lockstep.
		wait := jitter(c.renewInterval, 0.04)
		if err := c.Renew(ctx); err != nil {
			klog.ErrorS(err, "Renewing node lease", "node", c.nodeName)
			wait = retryInterval
		}
		timer := c.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		}
	}
}

func jitter(d time.Duration, factor float64) time.Duration {
	return d + time.Duration(rand.Float64()*factor*float64(d))
}

// Renew creates the lease, or sets its renew time to now.
func (c *Controller) Renew(ctx context.Context) error {
	leases := c.client.CoreV1alpha1().Leases(Namespace)
	now := metav1.NewMicroTime(c.clock.Now())
	if c.lease == nil {
		existing, err := leases.Get(ctx, c.nodeName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			seconds := int32(c.duration / time.Second)
			holder := c.nodeName
			lease := &v1alpha1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: c.nodeName, Namespace: Namespace},
				Spec: v1alpha1.LeaseSpec{
					HolderIdentity: &holder, LeaseDurationSeconds: &seconds, AcquireTime: &now, RenewTime: &now,
				},
			}
			out, err := leases.Create(ctx, lease, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("create lease %s/%s: %w", Namespace, c.nodeName, err)
			}
			out.ManagedFields = nil
			c.lease = out
			return nil
		case err != nil:
			return fmt.Errorf("get lease %s/%s: %w", Namespace, c.nodeName, err)
		}
		existing.ManagedFields = nil
		c.lease = existing
	}
	lease := c.lease.DeepCopy()
	seconds := int32(c.duration / time.Second)
	holder := c.nodeName
	lease.Spec.HolderIdentity, lease.Spec.LeaseDurationSeconds, lease.Spec.RenewTime = &holder, &seconds, &now
	out, err := leases.Update(ctx, lease, metav1.UpdateOptions{})
	if err != nil {
		// Conflict or deleted: read it afresh next time.
		c.lease = nil
		return fmt.Errorf("renew lease %s/%s: %w", Namespace, c.nodeName, err)
	}
	// Kept without its managed fields: an update without them leaves the
	// server's as they are, and a simulated node holds less.
	out.ManagedFields = nil
	c.lease = out
	return nil
}
