package podworkers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	runtimecache "skiff.dev/skiff/pkg/kubelet/runtime/cache"
	fakeruntime "skiff.dev/skiff/pkg/kubelet/runtime/fake"
)

// countingRuntime counts the listings that reach the runtime: under CRI
// each is an RPC, plus one per container.
type countingRuntime struct {
	*fakeruntime.Runtime
	lists atomic.Int64
}

func (c *countingRuntime) ListContainers(ctx context.Context) ([]runtime.Container, error) {
	c.lists.Add(1)
	return c.Runtime.ListContainers(ctx)
}

// TestSyncsShareOneListing runs a pod's life through workers that list the
// runtime through the cache the kubelet puts in front of it, and counts the
// listings that reach the runtime at each step: a sync lists only after a
// change, and reads the PLEG's relist. Without the cache (the kubelet before)
// every sync lists, and lists again after each start or stop.
func TestSyncsShareOneListing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cached bool
		// want: lists at each step, in the order of steps below.
		want []int64
	}{
		{"without the cache", false, []int64{2, 5, 2, 2, 2}},
		{"through the cache", true, []int64{2, 0, 2, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := newPod(v1alpha1.RestartPolicyAlways, "a", "b")
			h := newHarness(t, pod)
			counting := &countingRuntime{Runtime: h.rt}
			var rt runtime.Runtime = counting
			var cache *runtimecache.Cache
			if tc.cached {
				cache = runtimecache.New(counting)
				// As kubelet.Node.Notify does with what the runtime reports.
				h.rt.SetOnChange(func(types.UID) { cache.Invalidate() })
				rt = cache
			}
			h.p.cfg.Runtime = rt

			steps := []struct {
				name string
				do   func()
			}{
				{"a new pod starts its containers", func() { h.sync() }},
				{"five syncs with nothing changed", func() {
					for range 5 {
						h.sync()
					}
				}},
				{"a container exits and restarts", func() {
					h.exitLatest("a", 1)
					h.clock.Step(time.Minute)
					h.sync()
				}},
				{"the PLEG relists, then the worker syncs", func() {
					if cache != nil {
						_, _ = cache.Relist(context.Background())
					} else {
						_, _ = counting.ListContainers(context.Background())
					}
					h.sync()
				}},
				{"the pod is deleted: stop, final status", func() {
					deleting := h.apiPod()
					now := metav1.NewTime(h.clock.Now())
					deleting.DeletionTimestamp = &now
					h.w.pod = deleting
					h.sync()
				}},
			}
			for i, s := range steps {
				before := counting.lists.Load()
				s.do()
				got := counting.lists.Load() - before
				t.Logf("%s: %d listings", s.name, got)
				if got != tc.want[i] {
					t.Errorf("%s: %d listings of the runtime, want %d", s.name, got, tc.want[i])
				}
			}
		})
	}
}
