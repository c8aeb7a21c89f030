package leaderelection

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

func fastConfig(name string) Config {
	c := NewConfig(name)
	c.LeaseDuration, c.RenewDeadline, c.RetryPeriod = 2*time.Second, time.Second, 100*time.Millisecond
	return c
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"off: nothing else is checked", func(c *Config) { c.LeaderElect, c.LeaseDuration = false, 0 }, ""},
		{"lease not longer than the renew deadline", func(c *Config) { c.LeaseDuration = c.RenewDeadline }, "--leader-elect-lease-duration"},
		{"renew deadline within the retry jitter", func(c *Config) { c.RetryPeriod = c.RenewDeadline }, "--leader-elect-retry-period"},
		{"no lease name", func(c *Config) { c.ResourceName = "" }, "--leader-elect-resource-name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfig("x")
			tt.change(&c)
			errs := c.Validate()
			if tt.want == "" {
				if len(errs) != 0 {
					t.Errorf("Validate() = %v, want none", errs)
				}
				return
			}
			if len(errs) == 0 || !strings.Contains(errs[0].Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error naming %s", errs, tt.want)
			}
		})
	}
}

// TestLostLeaseEndsRunAndFailsHealth: another holder takes the Lease; Run
// returns ErrLeadershipLost (whatever lead does), and the health check
// fails from then on.
func TestLostLeaseEndsRunAndFailsHealth(t *testing.T) {
	cs := newLeaseServer()
	c := fastConfig("lost")
	health := NewHealth(c)
	e := Elector{Config: c, Name: "test", Host: "h", Client: cs.CoreV1alpha1(), Health: health}
	led := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- e.Run(context.Background(), func(ctx context.Context) error {
			close(led)
			<-ctx.Done()
			return nil
		})
	}()
	<-led
	if err := health.Check(nil); err != nil {
		t.Fatalf("health while leading: %v", err)
	}

	leases := cs.CoreV1alpha1().Leases(c.ResourceNamespace)
	l, err := leases.Get(context.Background(), c.ResourceName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hour, now := int32(3600), metav1.NewMicroTime(time.Now())
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = ptr.To("intruder"), &hour, &now
	if _, err := leases.Update(context.Background(), l, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("take the lease: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrLeadershipLost) {
			t.Fatalf("Run = %v, want ErrLeadershipLost", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after the Lease was lost")
	}
	if err := health.Check(nil); !errors.Is(err, ErrLeadershipLost) {
		t.Errorf("health after the loss = %v, want ErrLeadershipLost", err)
	}
}

// TestLeadGivingUpReturnsItsError: a lead that fails while still leading
// ends Run with its error (rather than leaving the process waiting on an
// elector that still leads), and the Lease is released for a standby.
func TestLeadGivingUpReturnsItsError(t *testing.T) {
	cs := newLeaseServer()
	c := fastConfig("gives-up")
	boom := errors.New("caches did not sync")
	done := make(chan error, 1)
	go func() {
		done <- Elector{Config: c, Name: "test", Host: "h", Client: cs.CoreV1alpha1()}.Run(context.Background(),
			func(context.Context) error { return boom })
	}()
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Fatalf("Run = %v, want %v", err, boom)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after lead failed")
	}
	l, err := cs.CoreV1alpha1().Leases(c.ResourceNamespace).Get(context.Background(), c.ResourceName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := l.Spec.HolderIdentity; h != nil && *h != "" {
		t.Errorf("Lease still held by %q after Run returned", *h)
	}
}

// TestStopWhileWaiting: a replica that never leads returns nil once asked
// to stop.
func TestStopWhileWaiting(t *testing.T) {
	cs := newLeaseServer()
	c := fastConfig("held")
	hour, now := int32(3600), metav1.NewMicroTime(time.Now())
	if _, err := cs.CoreV1alpha1().Leases(c.ResourceNamespace).Create(context.Background(), leaseHeldBy(c, "other", hour, now), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Elector{Config: c, Name: "test", Host: "h", Client: cs.CoreV1alpha1()}.Run(ctx, func(context.Context) error {
			t.Error("led while another replica holds the Lease")
			return nil
		})
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil when asked to stop", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return once asked to stop")
	}
}

func leaseHeldBy(c Config, holder string, seconds int32, renewed metav1.MicroTime) *v1alpha1.Lease {
	return &v1alpha1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ResourceNamespace, Name: c.ResourceName},
		Spec: v1alpha1.LeaseSpec{HolderIdentity: ptr.To(holder), LeaseDurationSeconds: &seconds,
			AcquireTime: &renewed, RenewTime: &renewed},
	}
}
