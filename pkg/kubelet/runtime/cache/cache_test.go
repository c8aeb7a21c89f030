package cache

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	"skiff.dev/skiff/pkg/kubelet/runtime/fake"
)

// gatedRuntime counts listings and, while gate is set, holds each one
// until the test lets it finish.
type gatedRuntime struct {
	*fake.Runtime
	lists   atomic.Int64
	gate    chan struct{}
	entered chan struct{}
}

func (g *gatedRuntime) ListContainers(ctx context.Context) ([]runtime.Container, error) {
	g.lists.Add(1)
	if g.gate != nil {
		g.entered <- struct{}{}
		<-g.gate
	}
	return g.Runtime.ListContainers(ctx)
}

func testPod() *v1alpha1.Pod {
	return &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u"}}
}

func TestListingIsKeptUntilAChange(t *testing.T) {
	ctx := context.Background()
	rt := &gatedRuntime{Runtime: fake.New()}
	c := New(rt)
	steps := []struct {
		name      string
		change    func()
		wantLists int64
		wantCount int
	}{
		{"first listing", func() {}, 1, 0},
		{"nothing changed", func() {}, 1, 0},
		{"a start through the cache", func() { _, _ = c.StartContainer(ctx, testPod(), &v1alpha1.Container{Name: "a"}, 0) }, 2, 1},
		{"nothing changed again", func() {}, 2, 1},
		{"the runtime reports a change", func() { c.Invalidate() }, 3, 1},
		{"a forced relist", func() { _, _ = c.Relist(ctx) }, 4, 1},
		{"after the relist", func() {}, 4, 1},
	}
	for _, s := range steps {
		s.change()
		cs, err := c.ListContainers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := rt.lists.Load(); got != s.wantLists || len(cs) != s.wantCount {
			t.Errorf("%s: %d listings of the runtime and %d containers, want %d and %d", s.name, got, len(cs), s.wantLists, s.wantCount)
		}
	}
}

// TestListingBegunBeforeAChangeIsNotKept: a change that lands while a
// listing is under way makes that listing stale.
func TestListingBegunBeforeAChangeIsNotKept(t *testing.T) {
	ctx := context.Background()
	rt := &gatedRuntime{Runtime: fake.New(), gate: make(chan struct{}), entered: make(chan struct{})}
	c := New(rt)
	done := make(chan struct{})
	go func() { _, _ = c.ListContainers(ctx); close(done) }()
	<-rt.entered
	c.Invalidate()
	rt.gate <- struct{}{}
	<-done

	rt.gate = nil
	if _, err := c.ListContainers(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rt.lists.Load(); got != 2 {
		t.Errorf("%d listings, want 2: the one begun before the change may not answer after it", got)
	}
}

// TestConcurrentCallersShareOneListing: callers that arrive while a listing
// begun after the last change is under way wait for it.
func TestConcurrentCallersShareOneListing(t *testing.T) {
	ctx := context.Background()
	rt := &gatedRuntime{Runtime: fake.New(), gate: make(chan struct{}), entered: make(chan struct{})}
	c := New(rt)
	results := make(chan error, 3)
	go func() { _, err := c.ListContainers(ctx); results <- err }()
	<-rt.entered
	for range 2 {
		go func() { _, err := c.ListContainers(ctx); results <- err }()
	}
	time.Sleep(50 * time.Millisecond) // let them reach the wait; not a timing assertion
	close(rt.gate)
	for range 3 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if got := rt.lists.Load(); got != 1 {
		t.Errorf("%d listings for three concurrent callers, want 1", got)
	}
}
