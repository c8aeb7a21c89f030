package leaderelection

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
)

// newLeaseServer returns a fake clientset whose Leases behave like the API
// server's: resourceVersions, AlreadyExists on a second create, and 409
// Conflict on an update from a stale read. (The plain fake tracker checks
// no resourceVersion, which would hide a lock that forgets to send it.)
func newLeaseServer() *fake.Clientset {
	cs := fake.NewClientset()
	var mu sync.Mutex
	leases := map[string]*v1alpha1.Lease{}
	rv := 0
	gr := v1alpha1.SchemeGroupVersion.WithResource("leases").GroupResource()
	cs.PrependReactor("*", "leases", func(action clienttesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		key := action.GetNamespace() + "/"
		// Switch on the concrete types: CreateAction and UpdateAction are
		// the same interface.
		switch a := action.(type) {
		case clienttesting.GetActionImpl:
			l, ok := leases[key+a.GetName()]
			if !ok {
				return true, nil, apierrors.NewNotFound(gr, a.GetName())
			}
			return true, l.DeepCopy(), nil
		case clienttesting.CreateActionImpl:
			l := a.GetObject().(*v1alpha1.Lease).DeepCopy()
			if _, ok := leases[key+l.Name]; ok {
				return true, nil, apierrors.NewAlreadyExists(gr, l.Name)
			}
			rv++
			l.ResourceVersion = strconv.Itoa(rv)
			leases[key+l.Name] = l
			return true, l.DeepCopy(), nil
		case clienttesting.UpdateActionImpl:
			l := a.GetObject().(*v1alpha1.Lease).DeepCopy()
			cur, ok := leases[key+l.Name]
			if !ok {
				return true, nil, apierrors.NewNotFound(gr, l.Name)
			}
			if l.ResourceVersion != cur.ResourceVersion {
				return true, nil, apierrors.NewConflict(gr, l.Name, fmt.Errorf("resourceVersion %q is stale, current %q", l.ResourceVersion, cur.ResourceVersion))
			}
			rv++
			l.ResourceVersion = strconv.Itoa(rv)
			leases[key+l.Name] = l
			return true, l.DeepCopy(), nil
		}
		return false, nil, nil
	})
	return cs
}

func TestRecordRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name   string
		record resourcelock.LeaderElectionRecord
	}{
		{"held lease", resourcelock.LeaderElectionRecord{
			HolderIdentity: "node-a_1234", LeaseDurationSeconds: 15,
			AcquireTime: metav1.NewTime(now), RenewTime: metav1.NewTime(now.Add(10 * time.Second)), LeaderTransitions: 3,
		}},
		{"released lease", resourcelock.LeaderElectionRecord{LeaseDurationSeconds: 1, LeaderTransitions: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := LeaderElectionRecordToLeaseSpec(&tt.record)
			got := LeaseSpecToLeaderElectionRecord(&spec)
			if !got.AcquireTime.Equal(&tt.record.AcquireTime) || !got.RenewTime.Equal(&tt.record.RenewTime) {
				t.Errorf("times changed: got %v/%v, want %v/%v", got.AcquireTime, got.RenewTime, tt.record.AcquireTime, tt.record.RenewTime)
			}
			got.AcquireTime, got.RenewTime = tt.record.AcquireTime, tt.record.RenewTime
			if *got != tt.record {
				t.Errorf("round trip = %+v, want %+v", *got, tt.record)
			}
		})
	}
}

func TestLockLifecycle(t *testing.T) {
	ctx := context.Background()
	cs := newLeaseServer()
	lock := New("skiff-system", "skiff-scheduler", cs.CoreV1alpha1(), "a", nil)

	if _, _, err := lock.Get(ctx); !apierrors.IsNotFound(err) {
		t.Fatalf("Get before create = %v, want NotFound (the elector tests for it)", err)
	}
	if err := lock.Update(ctx, resourcelock.LeaderElectionRecord{HolderIdentity: "a"}); err == nil {
		t.Fatal("Update before Get or Create succeeded")
	}
	if err := lock.Create(ctx, resourcelock.LeaderElectionRecord{HolderIdentity: "a", LeaseDurationSeconds: 15}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	rec, raw, err := lock.Get(ctx)
	if err != nil || rec.HolderIdentity != "a" || rec.LeaseDurationSeconds != 15 || len(raw) == 0 {
		t.Fatalf("Get = %+v, %q, %v", rec, raw, err)
	}
	lease, err := cs.CoreV1alpha1().Leases("skiff-system").Get(ctx, "skiff-scheduler", metav1.GetOptions{})
	if err != nil || *lease.Spec.HolderIdentity != "a" {
		t.Fatalf("stored lease = %+v, %v", lease, err)
	}
	if got := lock.Describe(); got != "skiff-system/skiff-scheduler" {
		t.Errorf("Describe = %q", got)
	}
	if got := lock.Identity(); got != "a" {
		t.Errorf("Identity = %q", got)
	}
}

func TestUpdateFromStaleReadConflicts(t *testing.T) {
	ctx := context.Background()
	cs := newLeaseServer()
	a := New("ns", "l", cs.CoreV1alpha1(), "a", nil)
	b := New("ns", "l", cs.CoreV1alpha1(), "b", nil)
	if err := a.Create(ctx, resourcelock.LeaderElectionRecord{HolderIdentity: ""}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Update(ctx, resourcelock.LeaderElectionRecord{HolderIdentity: "a"}); err != nil {
		t.Fatalf("a's update: %v", err)
	}
	if err := b.Update(ctx, resourcelock.LeaderElectionRecord{HolderIdentity: "b"}); !apierrors.IsConflict(err) {
		t.Errorf("b's update from a stale read = %v, want Conflict", err)
	}
}

func TestRecordEvent(t *testing.T) {
	rec := record.NewFakeRecorder(1)
	lock := New("ns", "l", newLeaseServer().CoreV1alpha1(), "host_1", rec)
	lock.RecordEvent("became leader")
	if got, want := <-rec.Events, "Normal LeaderElection host_1 became leader"; got != want {
		t.Errorf("event %q, want %q", got, want)
	}
}

type elector struct {
	le     *leaderelection.LeaderElector
	cancel context.CancelFunc
	done   chan struct{}
}

func startElector(t *testing.T, cs *fake.Clientset, id string) *elector {
	t.Helper()
	lec := leaderelection.LeaderElectionConfig{
		Lock:            New("skiff-system", "skiff-scheduler", cs.CoreV1alpha1(), id, nil),
		LeaseDuration:   2 * time.Second,
		RenewDeadline:   time.Second,
		RetryPeriod:     100 * time.Millisecond,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) {},
			OnStoppedLeading: func() {},
		},
	}
	le, err := leaderelection.NewLeaderElector(lec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &elector{le: le, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		le.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-e.done })
	return e
}

func TestTwoElectorsOnlyOneLeads(t *testing.T) {
	cs := newLeaseServer()
	a := startElector(t, cs, "a")
	b := startElector(t, cs, "b")

	poll := func(what string, cond func() bool) {
		t.Helper()
		if err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true,
			func(context.Context) (bool, error) { return cond(), nil }); err != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	poll("a leader", func() bool { return a.le.IsLeader() || b.le.IsLeader() })
	leader, follower := a, b
	if b.le.IsLeader() {
		leader, follower = b, a
	}
	// Through several renewals, the follower never leads.
	for range 20 {
		if follower.le.IsLeader() {
			t.Fatal("both electors lead at once")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := leader.le.GetLeader(); got != follower.le.GetLeader() {
		t.Errorf("the electors disagree on the leader: %q and %q", got, follower.le.GetLeader())
	}

	// The leader steps down (releasing the lease); the follower takes over.
	leader.cancel()
	<-leader.done
	poll("the follower to take over", follower.le.IsLeader)
	lease, err := cs.CoreV1alpha1().Leases("skiff-system").Get(context.Background(), "skiff-scheduler", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *lease.Spec.HolderIdentity != follower.le.GetLeader() || *lease.Spec.LeaseTransitions != 1 {
		t.Errorf("lease held by %q after %d transitions, want %q after 1", *lease.Spec.HolderIdentity, *lease.Spec.LeaseTransitions, follower.le.GetLeader())
	}
}
