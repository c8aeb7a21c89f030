package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/options"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil }); err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func bound(t *testing.T, api *st.FakeAPI, name string) bool {
	p, err := api.Client.CoreV1alpha1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get pod %s: %v", name, err)
	}
	return p.Spec.NodeName != ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

type replica struct {
	cancel context.CancelFunc
	done   chan error
}

func startReplica(t *testing.T, api *st.FakeAPI, o *options.Options, addr chan<- string) *replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx, o, api.Client, api.Client, addr) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the replica, as SIGTERM does, and checks it exits cleanly.
func (r *replica) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("replica exited with %v, want a clean exit", err)
	}
}

func TestServesHealthAndMetricsAndStopsCleanly(t *testing.T) {
	api := st.NewFakeAPI(st.MakeNode("n").Obj(), st.MakePod("p").Obj())
	o := options.NewOptions()
	o.LeaderElection.LeaderElect = false
	o.MetricsBindAddress = "127.0.0.1:0"
	addrCh := make(chan string, 1)
	r := startReplica(t, api, o, addrCh)
	addr := <-addrCh

	eventually(t, "pod p to be bound", func() bool { return bound(t, api, "p") })
	if code, body := get(t, "http://"+addr+"/healthz"); code != http.StatusOK || body != "ok" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	eventually(t, "the scheduled attempt in /metrics", func() bool {
		_, body := get(t, "http://"+addr+"/metrics")
		return strings.Contains(body, `scheduler_schedule_attempts_total{result="scheduled"}`) &&
			strings.Contains(body, "scheduler_e2e_scheduling_duration_seconds_bucket") &&
			strings.Contains(body, `scheduler_pending_pods{queue="active"}`)
	})
	r.stop(t)
}

func TestTwoReplicasWithLeaderElectionBindEachPodOnce(t *testing.T) {
	api := st.NewFakeAPI(st.MakeNode("n1").Obj(), st.MakeNode("n2").Obj())
	opts := func() *options.Options {
		o := options.NewOptions()
		o.MetricsBindAddress = "0"
		o.LeaderElection.LeaseDuration = 2 * time.Second
		o.LeaderElection.RenewDeadline = time.Second
		o.LeaderElection.RetryPeriod = 100 * time.Millisecond
		return o
	}
	leaseHolder := func() string {
		l, err := api.Client.CoreV1alpha1().Leases("skiff-system").Get(context.Background(), "skiff-scheduler", metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}

	first := startReplica(t, api, opts(), nil)
	eventually(t, "the first replica to lead", func() bool { return leaseHolder() != "" })
	firstID := leaseHolder()
	startReplica(t, api, opts(), nil)

	create := func(names ...string) {
		for _, n := range names {
			if _, err := api.Client.CoreV1alpha1().Pods("default").Create(context.Background(), st.MakePod(n).Obj(), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var batch []string
	for i := range 20 {
		batch = append(batch, fmt.Sprintf("p%02d", i))
	}
	create(batch...)
	for _, n := range batch {
		eventually(t, "pod "+n+" to be bound", func() bool { return bound(t, api, n) })
	}

	// The leader stops; the standby takes the lease and schedules.
	first.stop(t)
	eventually(t, "the second replica to lead", func() bool { h := leaseHolder(); return h != "" && h != firstID })
	create("after-failover")
	eventually(t, "the pod created after failover to be bound", func() bool { return bound(t, api, "after-failover") })

	for _, n := range append(batch, "after-failover") {
		if c := api.BindCalls("default", n); c != 1 {
			t.Errorf("pod %s got %d binding requests, want 1: two replicas scheduled at once", n, c)
		}
	}
}

// TestLosingTheLeaseEndsRun: another holder takes the Lease (as a replica
// does after this one's renewals stalled behind a frozen API server). run
// must stop leading and return ErrLeadershipLost, so the process exits
// non-zero and its supervisor restarts it, rather than hang on its way out
// with no pod ever scheduled again.
func TestLosingTheLeaseEndsRun(t *testing.T) {
	api := st.NewFakeAPI(st.MakeNode("n").Obj())
	o := options.NewOptions()
	o.MetricsBindAddress = "0"
	o.LeaderElection.LeaseDuration = 2 * time.Second
	o.LeaderElection.RenewDeadline = time.Second
	o.LeaderElection.RetryPeriod = 100 * time.Millisecond
	leases := api.Client.CoreV1alpha1().Leases("skiff-system")
	lease := func() *v1alpha1.Lease {
		l, err := leases.Get(context.Background(), "skiff-scheduler", metav1.GetOptions{})
		if err != nil {
			return nil
		}
		return l
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, api.Client, api.Client, nil) }()
	eventually(t, "the scheduler to lead", func() bool { l := lease(); return l != nil && l.Spec.HolderIdentity != nil })

	// The API server refuses a write based on what another writer has
	// since changed; the fake clientset does not, so do it here: once the
	// intruder holds the lease, the old holder's renewals conflict.
	const intruder = "intruder"
	var intruded atomic.Bool
	api.Client.PrependReactor("update", "leases", func(a clienttesting.Action) (bool, runtime.Object, error) {
		l := a.(clienttesting.UpdateAction).GetObject().(*v1alpha1.Lease)
		if intruded.Load() && (l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != intruder) {
			return true, nil, apierrors.NewConflict(v1alpha1.Resource("leases"), l.Name, errors.New("the lease was changed"))
		}
		return false, nil, nil
	})
	l := lease()
	intruded.Store(true)
	hour, now := int32(3600), metav1.NewMicroTime(time.Now())
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime, l.Spec.AcquireTime = ptr.To(intruder), &hour, &now, &now
	if _, err := leases.Update(context.Background(), l, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("take the lease: %v", err)
	}

	// A guard against the hang, far beyond the one-second renew deadline.
	select {
	case err := <-done:
		if !errors.Is(err, ErrLeadershipLost) {
			t.Fatalf("run returned %v, want ErrLeadershipLost", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not return after losing the lease: the scheduler hangs, alive and never scheduling again")
	}
}
