package controller

import (
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// ExpectationsTimeout is how long a controller waits for its informer to
// report the pods it created or deleted before it stops trusting the
// expectation and syncs anyway: a watch event can be lost (a relist hides a
// create-then-delete), and a controller must not wait forever for it.
const ExpectationsTimeout = 5 * time.Minute

// expectation counts the creations and deletions a controller has asked for
// and not yet seen through its informer.
type expectation struct {
	add, del  int64
	timestamp time.Time
	// deleted are the keys of the pods whose deletion is awaited; a pod
	// seen deleted twice (an update with a deletionTimestamp, then the
	// delete) must lower del only once.
	deleted sets.Set[string]
}

func (e *expectation) fulfilled() bool { return e.add <= 0 && e.del <= 0 }

// Expectations records, per controller key, the pod creations and deletions
// in flight. A controller syncs a key only when its expectations are met (or
// expired); otherwise the pods it created a moment ago, missing from a
// lagging informer, would be created again.
//
// It combines upstream's ControllerExpectations and
// UIDTrackingControllerExpectations: deletions are tracked by pod key, so a
// pod observed deleted more than once counts once.
type Expectations struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	m     map[string]*expectation
}

// NewExpectations returns empty expectations measured against clk.
func NewExpectations(clk clock.PassiveClock) *Expectations {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Expectations{clock: clk, m: map[string]*expectation{}}
}

// Satisfied reports whether the controller may sync key: nothing is
// awaited, the awaited events arrived, the expectation is too old to
// trust, or no expectation was ever recorded (a new controller, or one
// whose expectations were deleted).
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.m[key]
	if !ok {
		return true
	}
	if exp.fulfilled() {
		return true
	}
	if e.clock.Since(exp.timestamp) > ExpectationsTimeout {
		klog.V(4).InfoS("Expectations expired", "controller", key, "add", exp.add, "del", exp.del)
		return true
	}
	klog.V(4).InfoS("Waiting for the informer to catch up", "controller", key, "add", exp.add, "del", exp.del)
	return false
}

// ExpectCreations records that adds pods are being created for key. It
// replaces any earlier expectation: the caller only creates when the
// earlier ones were met.
func (e *Expectations) ExpectCreations(key string, adds int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{add: int64(adds), timestamp: e.clock.Now(), deleted: sets.New[string]()}
}

// ExpectDeletions records that the pods podKeys are being deleted for key.
func (e *Expectations) ExpectDeletions(key string, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{del: int64(len(podKeys)), timestamp: e.clock.Now(), deleted: sets.New(podKeys...)}
}

// CreationObserved lowers the creations awaited for key by one: the
// informer saw a new pod, or a create failed and will never be seen.
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp, ok := e.m[key]; ok {
		exp.add--
	}
}

// DeletionObserved lowers the deletions awaited for key when podKey was
// one of them and has not been counted yet.
func (e *Expectations) DeletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp, ok := e.m[key]; ok && exp.deleted.Has(podKey) {
		exp.deleted.Delete(podKey)
		exp.del--
	}
}

// Delete forgets key, for a controller object that is gone.
func (e *Expectations) Delete(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// Pending returns the creations and deletions awaited for key, for logs and
// tests.
func (e *Expectations) Pending(key string) (add, del int64, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.m[key]
	if !ok {
		return 0, 0, false
	}
	return exp.add, exp.del, true
}

// String is for debugging.
func (e *Expectations) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return fmt.Sprintf("%d keys", len(e.m))
}
