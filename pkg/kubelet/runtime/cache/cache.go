// Package cache keeps the kubelet's last listing of its runtime's containers,
// so the pod workers and the PLEG share one listing instead of each asking
// the runtime (one RPC, and one more per container, under CRI), as upstream's
// kubecontainer cache does.
//
// The listing stays valid until something changes: a start, stop or removal
// through the cache, or a change the runtime reports (Invalidate). A runtime
// that reports nothing (CRI) is listed anew by the PLEG every second
// (Relist), and that listing is what the workers then read.
package cache

import (
	"context"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// Cache is a runtime.Runtime whose ListContainers answers from the last
// listing while nothing changed since it began.
type Cache struct {
	runtime.Runtime

	mu sync.Mutex
	// gen counts changes; a listing begun at gen is valid while gen stays.
	gen uint64
	// listed is the newest listing kept, begun at listedGen, the seq-th
	// listing started.
	listed    []runtime.Container
	listedGen uint64
	listedSeq uint64
	valid     bool
	// seq numbers listings in the order they start.
	seq uint64
	// inflight is the newest listing under way, which a caller wanting one
	// begun at the current gen waits for instead of starting another.
	inflight *listing
}

type listing struct {
	gen, seq uint64
	done     chan struct{}
	cs       []runtime.Container
	err      error
}

var _ runtime.Runtime = &Cache{}

// New returns a cache in front of rt.
func New(rt runtime.Runtime) *Cache { return &Cache{Runtime: rt} }

// Invalidate tells the cache that the runtime's containers changed in a way
// it did not see (a container exited): the next ListContainers lists anew.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.gen++
	c.mu.Unlock()
}

// ListContainers returns the last listing if nothing changed since it
// began, or waits for one under way that began after the last change, or
// else lists the runtime.
func (c *Cache) ListContainers(ctx context.Context) ([]runtime.Container, error) {
	c.mu.Lock()
	if c.valid && c.listedGen == c.gen {
		cs := slices.Clone(c.listed)
		c.mu.Unlock()
		return cs, nil
	}
	if l := c.inflight; l != nil && l.gen == c.gen {
		c.mu.Unlock()
		return l.wait(ctx)
	}
	l := c.startLocked()
	c.mu.Unlock()
	return c.run(ctx, l)
}

// Relist lists the runtime whatever the cache holds, keeps the listing for
// the pod workers and returns it: the PLEG's periodic listing of a runtime
// that does not report its changes.
func (c *Cache) Relist(ctx context.Context) ([]runtime.Container, error) {
	c.mu.Lock()
	l := c.startLocked()
	c.mu.Unlock()
	return c.run(ctx, l)
}

func (c *Cache) startLocked() *listing {
	c.seq++
	l := &listing{gen: c.gen, seq: c.seq, done: make(chan struct{})}
	c.inflight = l
	return l
}

func (c *Cache) run(ctx context.Context, l *listing) ([]runtime.Container, error) {
	l.cs, l.err = c.Runtime.ListContainers(ctx)
	c.mu.Lock()
	if l.err == nil && l.seq > c.listedSeq {
		c.listed, c.listedGen, c.listedSeq, c.valid = l.cs, l.gen, l.seq, true
	}
	if c.inflight == l {
		c.inflight = nil
	}
	c.mu.Unlock()
	close(l.done)
	return slices.Clone(l.cs), l.err
}

func (l *listing) wait(ctx context.Context) ([]runtime.Container, error) {
	select {
	case <-l.done:
		return slices.Clone(l.cs), l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// StartContainer starts the container and invalidates the listing.
func (c *Cache) StartContainer(ctx context.Context, pod *v1alpha1.Pod, ct *v1alpha1.Container, attempt uint32) (string, error) {
	defer c.Invalidate()
	return c.Runtime.StartContainer(ctx, pod, ct, attempt)
}

// StopContainer stops the container and invalidates the listing.
func (c *Cache) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	defer c.Invalidate()
	return c.Runtime.StopContainer(ctx, id, grace)
}

// RemoveContainer removes the container and invalidates the listing.
func (c *Cache) RemoveContainer(ctx context.Context, id string) error {
	defer c.Invalidate()
	return c.Runtime.RemoveContainer(ctx, id)
}

// RemovePod removes the pod's containers and invalidates the listing.
func (c *Cache) RemovePod(ctx context.Context, uid types.UID) error {
	defer c.Invalidate()
	return c.Runtime.RemovePod(ctx, uid)
}

// Unwrap implements runtime.Wrapper.
func (c *Cache) Unwrap() runtime.Runtime { return c.Runtime }
